"""The store: schema and its version, locking between processes, waiting instead of failing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from haowu_cli import store as db
from haowu_cli.errors import HaowuError, LockTimeout, StorageError, UnusableDatabase
from haowu_cli.store import SCHEMA_VERSION, Store
from tests.conftest import HEADER, file_only, product_row, write_csv

REPO = Path(__file__).resolve().parents[1]


def test_schema_is_created_on_first_use_with_its_version(store):
    with store.write() as con:
        assert db.schema_version(con) == SCHEMA_VERSION
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    assert {"meta", "imports", "products", "product_changes"} <= tables


def test_a_database_from_a_newer_haowu_is_refused(store):
    with store.write() as con:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    with pytest.raises(HaowuError, match="newer than this haowu knows"), store.write():
        pass


@file_only("a file not there (tests/process/test_team.py: a lake without tables)")
def test_reading_a_missing_database_says_what_to_do(tmp_path):
    with (
        pytest.raises(HaowuError, match="no haowu database") as error,
        Store(tmp_path / "x.duckdb").read(),
    ):
        pass
    assert "haowu import" in error.value.hint


def test_failed_transaction_rolls_back(store):
    with store.write() as con:
        with pytest.raises(ZeroDivisionError), db.transaction(con):
            con.execute("INSERT INTO meta VALUES ('x', 'y')")
            raise ZeroDivisionError
        assert con.execute("SELECT count(*) FROM meta WHERE key = 'x'").fetchone() == (0,)


HOLD_WRITE = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from haowu_cli.store import Store
    with Store(Path(sys.argv[1])).write() as con:
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """Another process that holds the database for writing for `seconds`."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert process.stdout.readline().strip() == "holding"
    return process


@file_only("its lock: writers queue on a file; a lake has no lock")
def test_duckdb_alone_fails_at_once_while_another_process_writes(store):
    with store.write():
        pass
    holder = hold(store.path, 1.5)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(store.path), read_only=True)
    finally:
        holder.wait()


@file_only("its lock: writers queue on a file; a lake has no lock")
def test_a_writer_waits_for_another_writer_then_succeeds(store):
    with store.write():
        pass
    holder = hold(store.path, 1.0)
    started = time.monotonic()
    with store.write() as con:
        waited = time.monotonic() - started
        con.execute("INSERT INTO meta VALUES ('after', 'wait')")
    holder.wait()
    assert waited > 0.5


@file_only("its lock: writers queue on a file; a lake has no lock")
def test_a_reader_waits_for_a_writer_then_succeeds(store):
    with store.write():
        pass
    holder = hold(store.path, 1.0)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM products").fetchone() == (0,)
    holder.wait()


@file_only("its lock: writers queue on a file; a lake has no lock")
def test_waiting_too_long_gives_a_clear_error(store):
    with store.write():
        pass
    holder = hold(store.path, 3)
    try:
        with (
            pytest.raises(LockTimeout, match="stayed busy") as error,
            Store(store.path, lock_timeout=0.3).write(),
        ):
            pass
        assert "--lock-timeout" in error.value.hint
        with pytest.raises(LockTimeout), Store(store.path, lock_timeout=0.3).read():
            pass
    finally:
        holder.wait()


IMPORT = textwrap.dedent(
    """
    import sys
    from haowu_cli.cli import main
    main(["--db", sys.argv[1], "--quiet", "import", sys.argv[2]])
    """
)


@file_only("two imports queue on its lock (tests/process/test_team.py: eight on a lake)")
def test_two_concurrent_imports_into_one_database_both_succeed(tmp_path):
    database = tmp_path / "shared.duckdb"
    sheets = []
    for merchant in ("M1", "M2"):
        rows = [HEADER] + [product_row(f"{merchant}-{i}", merchant) for i in range(2000)]
        sheets.append(write_csv(tmp_path / f"{merchant}.csv", rows))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", IMPORT, str(database), str(sheet)],
            cwd=REPO,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sheet in sheets
    ]
    results = [(p.wait(timeout=120), p.stderr.read()) for p in processes]
    assert results == [(0, ""), (0, "")]
    with Store(database).read() as con:
        assert con.execute(
            "SELECT merchant_id, count(*) FROM products GROUP BY ALL ORDER BY 1"
        ).fetchall() == [("M1", 2000), ("M2", 2000)]
        assert con.execute("SELECT count(*) FROM imports").fetchone() == (2,)


@file_only("a file an earlier haowu left")
def test_a_database_of_an_earlier_schema_is_migrated_without_losing_rows(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(db.MIGRATIONS[0])  # as the first release of haowu left it
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(
        "INSERT INTO products (product_id, merchant_id, title, created_import_id, "
        "updated_import_id) VALUES ('P1', 'M1', '面霜', 1, 1)"
    )
    con.close()
    with Store(path).read() as con:  # a reader brings it up to date first
        assert db.schema_version(con) == SCHEMA_VERSION
        assert con.execute("SELECT product_id, title FROM products").fetchall() == [("P1", "面霜")]
        assert con.execute("SELECT count(*) FROM grades").fetchone() == (0,)


def test_a_database_from_a_newer_haowu_is_refused_by_readers_too(store):
    with store.write() as con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [SCHEMA_VERSION + 1])
    with (
        pytest.raises(UnusableDatabase, match="newer than this haowu knows") as error,
        store.read(),
    ):
        pass
    assert error.value.exit_code == 2


@file_only("a file DuckDB cannot open for writing")
def test_an_old_schema_that_cannot_be_written_is_not_read_but_explained(tmp_path, monkeypatch):
    """Without root tricks: the read-write open fails as DuckDB fails on a read-only file."""
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(db.MIGRATIONS[0])
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.close()
    real_connect = duckdb.connect

    def read_only_medium(database, read_only=False, **kw):
        if not read_only:
            raise duckdb.IOException(f'IO Error: Cannot open file "{database}": Permission denied')
        return real_connect(database, read_only=read_only, **kw)

    monkeypatch.setattr(duckdb, "connect", read_only_medium)
    with pytest.raises(StorageError) as error, Store(path).read():
        pass
    assert "schema version 1" in error.value.message
    assert "must be upgraded" in error.value.message
    assert "permission denied" in error.value.message
    assert "copy it" in error.value.hint
    monkeypatch.setattr(duckdb, "connect", real_connect)
    with Store(path).read() as con:  # where it can write, the reader upgrades it
        assert db.schema_version(con) == SCHEMA_VERSION
