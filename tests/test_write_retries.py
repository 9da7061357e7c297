"""A writer's unit run again after a conflict (team mode's `store.write_transaction` over
`retry_conflicts`): the refused try leaves nothing, the next try runs the whole unit from the
start, and a writer gives up only after its tries and its patience are both spent. The
conflict is raised as DuckLake's refusal reaches haowu (`TransactionConflict`); the real
refusals are in tests/process/test_team.py."""

from __future__ import annotations

import time

import pytest

from haowu_cli import store as db
from haowu_cli.errors import TransactionConflict


def test_a_refused_try_leaves_nothing_and_the_unit_runs_again_whole(store, monkeypatch):
    monkeypatch.setattr("haowu_cli.store.lake.retry_pause", lambda attempt: None)
    with store.write() as con:
        db.run(con, "CREATE TABLE steps (try INTEGER, step INTEGER)")
    tries: list[int] = []

    def unit(con) -> int:
        tries.append(len(tries) + 1)
        db.run(con, "INSERT INTO steps VALUES (?, 1)", [tries[-1]])
        if len(tries) < 3:  # another writer committed first: this try is refused
            raise TransactionConflict("refused")
        db.run(con, "INSERT INTO steps VALUES (?, 2)", [tries[-1]])
        return tries[-1]

    assert db.write_transaction(store, unit) == 3
    with store.read() as con:
        rows = con.execute("SELECT try, step FROM steps ORDER BY ALL").fetchall()
    assert rows == [(3, 1), (3, 2)]  # the third try, both its steps; nothing of the others


def test_a_writer_gives_up_after_its_tries_and_its_patience(monkeypatch):
    monkeypatch.setattr("haowu_cli.store.lake.retry_pause", lambda attempt: None)
    calls = 0

    def refused() -> None:
        nonlocal calls
        calls += 1
        raise TransactionConflict("refused")

    with pytest.raises(TransactionConflict):
        db.retry_conflicts(refused, attempts=8)
    assert calls == 8
    calls = 0
    started = time.monotonic()
    with pytest.raises(TransactionConflict):
        db.retry_conflicts(refused, attempts=2, patience=0.2)
    assert time.monotonic() - started >= 0.2 and calls > 2  # went on while patient
