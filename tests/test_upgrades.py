"""Upgrades: a database left by each released haowu (tests/fixtures, made by
make_schema_fixtures.py) is brought up to date on first use without losing a row, and the
commands of this version work on it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from haowu_cli.store import SCHEMA_VERSION, Store, schema_version

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
