"""Upgrades: a database left by each released haowu (tests/fixtures, made by
make_schema_fixtures.py) is brought up to date on first use without losing a row, and the
commands of this version work on it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from haowu_cli.store import MIGRATIONS, SCHEMA_VERSION, Store, schema_version

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RELEASED = sorted(
    FIXTURES.glob("schema_v*.duckdb.gz"), key=lambda p: int(p.name.split("_v")[1].split(".")[0])
)


def unpack(fixture: Path, folder: Path) -> Path:
    target = folder / "old.duckdb"
    with gzip.open(fixture, "rb") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def test_every_released_schema_has_a_fixture():
    assert [p.name for p in RELEASED] == [
        f"schema_v{v}.duckdb.gz" for v in range(1, SCHEMA_VERSION + 1)
    ]


@pytest.mark.parametrize("fixture", RELEASED, ids=lambda p: p.name.split(".")[0])
def test_an_old_database_is_migrated_without_losing_rows(fixture, tmp_path, cli):
    path = unpack(fixture, tmp_path)
    version = int(fixture.name.split("_v")[1].split(".")[0])
    with Store(path).read() as con:
        assert schema_version(con) == SCHEMA_VERSION
        products = con.execute("SELECT product_id, live_price_fen FROM products ORDER BY 1")
        assert products.fetchall() == [("P1", 5990), ("P2", 3900), ("P3", 990)]
        assert con.execute("SELECT count(*) FROM product_changes").fetchone() == (1,)
        grades = con.execute("SELECT count(*) FROM grades").fetchone()[0]
        anchors = con.execute("SELECT count(*) FROM anchors").fetchone()[0]
        assert (grades, anchors) == (3 if version >= 2 else 0, 1 if version >= 3 else 0)
        # Each graded product's latest grade and the one before it, built from the history.
        latest = con.execute(
            "SELECT product_id, as_of, level, previous_as_of, previous_level "
            "FROM latest_grades ORDER BY 1"
        ).fetchall()
        history = con.execute(
            "SELECT product_id, max(as_of), arg_max(level, as_of) FROM grades GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert [row[:3] for row in latest] == history
        plans = con.execute("SELECT count(*) FROM plan_items").fetchone()[0]
        ledger = con.execute("SELECT sum(amount_fen) FROM ledger WHERE account = 'base'")
        assert (plans, ledger.fetchone()[0]) == (
            2 if version >= 4 else 0,
            10000 if version >= 5 else None,
        )
        settled = con.execute("SELECT count(*) FROM platform_settlements").fetchone()[0]
        applied = con.execute("SELECT count(*) FROM applications").fetchone()[0]
        assert (settled, applied) == (int(version >= 6), int(version >= 7))
    # This version's commands run on it.
    assert cli("--db", path, "products", "--format", "csv").code == 0
    assert cli("--db", path, "grade", "--as-of", "2026-11-22").code == 0
    commission = cli("--db", path, "commission", "--as-of", "2026-12-31", "--format", "csv")
    assert commission.code == 0
    assert ("merchant,net,70.00" in commission.out) is (version >= 5)
    assert cli("--db", path, "report", "grades", "--format", "csv").code == 0
    if version >= 4:
        review = cli("--db", path, "report", "session", "1", "--as-of", "2026-12-31", "-f", "json")
        assert review.code == 0, review.err
        figures = json.loads(review.out)["figures"]
        assert figures["gmv"] == ("100.00" if version >= 5 else "0.00")


# Entries as schema 10 kept them: import_id, posted_at, order_id, entry, account, item,
# party_id, settles_on, merchant_id, anchor_id, session_id, paid_on, amount_fen.
_AT, _PAID = "TIMESTAMP '2026-12-02 10:00:01'", "DATE '2026-12-01'"
_ENTRIES_V10 = [
    f"(2, {_AT}, 'O1', 'post', 'base', 'base', NULL, NULL, 'M1', 'A1', 'S1', {_PAID}, 10000)",
    f"(2, {_AT}, 'O1', 'post', 'merchant', 'net', 'M1', NULL, 'M1', 'A1', 'S1', {_PAID}, 7000)",
    f"(2, {_AT}, 'O1', 'post', 'anchor', 'net', 'A1', NULL, 'M1', 'A1', 'S1', {_PAID}, 1260)",
    f"(2, {_AT}, 'O1', 'post', 'agency', 'net', '星光', NULL, 'M1', 'A1', 'S1', {_PAID}, 540)",
    f"(2, {_AT}, 'O1', 'post', 'second_leader', 'net', 'L2', NULL, 'M1', 'A1', 'S1', {_PAID}, 300)",
    f"(2, {_AT}, 'O1', 'post', 'platform', 'technical_fee', NULL, NULL, 'M1', 'A1', 'S1', "
    f"{_PAID}, 900)",
    # re-dated by a reconcile: reversed as posted, posted again on the platform's day
    f"(3, {_AT}, 'O1', 'reverse', 'base', 'base', NULL, NULL, 'M1', 'A1', 'S1', {_PAID}, -10000)",
    f"(3, {_AT}, 'O1', 'reverse', 'merchant', 'net', 'M1', NULL, 'M1', 'A1', 'S1', {_PAID}, -7000)",
    f"(3, {_AT}, 'O1', 'reverse', 'agency', 'net', '星光', NULL, 'M1', 'A1', 'S1', {_PAID}, -540)",
    f"(3, {_AT}, 'O1', 'post', 'base', 'base', NULL, DATE '2026-12-09', 'M1', 'A1', 'S1', "
    f"{_PAID}, 10000)",
    f"(3, {_AT}, 'O1', 'post', 'agency', 'net', '星光', DATE '2026-12-09', 'M1', 'A1', 'S1', "
    f"{_PAID}, 540)",
    # another order, no anchor: its base and the merchant's share only
    f"(2, {_AT}, 'O2', 'post', 'base', 'base', NULL, NULL, 'M2', NULL, NULL, {_PAID}, 500)",
    f"(2, {_AT}, 'O2', 'post', 'merchant', 'net', 'M2', NULL, 'M2', NULL, NULL, {_PAID}, 500)",
]


def _schema_10_with(entries: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    for script in MIGRATIONS[:10]:
        con.execute(script)
    con.execute("INSERT INTO ledger VALUES " + ", ".join(entries))
    return con


def test_the_ledger_becomes_a_row_per_posting_and_its_view_the_same_entries():
    con = _schema_10_with(_ENTRIES_V10)
    before = con.execute("SELECT * FROM ledger ORDER BY ALL").fetchall()
    types = con.execute("SELECT * FROM ledger LIMIT 0").description
    con.execute(MIGRATIONS[10])
    assert con.execute("SELECT * FROM ledger ORDER BY ALL").fetchall() == before
    assert [(d[0], d[1]) for d in con.execute("SELECT * FROM ledger LIMIT 0").description] == [
        (d[0], d[1]) for d in types
    ]
    postings = con.execute(
        "SELECT import_id, order_id, entry, settles_on, mcn, second_leader_id, base_fen, "
        "agency_fen FROM ledger_postings ORDER BY ALL"
    ).fetchall()
    assert [p[:3] for p in postings] == [
        (2, "O1", "post"),
        (2, "O2", "post"),
        (3, "O1", "post"),
        (3, "O1", "reverse"),
    ]
    assert postings[0][4:] == ("星光", "L2", 10000, 540)
    assert postings[3][4:] == ("星光", None, -10000, -540)


@pytest.mark.parametrize(
    "entry",
    [
        # an amount of 0 (a row per share that is not 0 would drop it)
        f"(2, {_AT}, 'O3', 'post', 'leader', 'net', NULL, NULL, 'M1', 'A1', 'S1', {_PAID}, 0)",
        # a merchant's share whose party is not the order's merchant
        f"(2, {_AT}, 'O3', 'post', 'merchant', 'net', 'M9', NULL, 'M1', 'A1', 'S1', {_PAID}, 5)",
        # an account and item no share is
        f"(2, {_AT}, 'O3', 'post', 'platform', 'net', NULL, NULL, 'M1', 'A1', 'S1', {_PAID}, 5)",
        # a second agency entry of the same posting, to another agency
        f"(2, {_AT}, 'O1', 'post', 'agency', 'net', '月光', NULL, 'M1', 'A1', 'S1', {_PAID}, 5)",
    ],
)
def test_an_entry_a_row_per_posting_cannot_keep_stops_the_upgrade(entry):
    con = _schema_10_with([*_ENTRIES_V10, entry])
    con.execute("BEGIN")
    with pytest.raises(duckdb.Error, match="cannot keep"):
        con.execute(MIGRATIONS[10])
    con.execute("ROLLBACK")
    assert con.execute("SELECT count(*) FROM ledger").fetchone() == (len(_ENTRIES_V10) + 1,)
