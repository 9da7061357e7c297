"""Upgrades: a database left by each released haowu (tests/fixtures, made by
make_schema_fixtures.py) is brought up to date on first use without losing a row, and the
commands of this version work on it."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from haowu_cli.store import SCHEMA_VERSION, Store, schema_version

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RELEASED = sorted(FIXTURES.glob("schema_v*.duckdb.gz"))


def unpack(fixture: Path, folder: Path) -> Path:
    target = folder / "old.duckdb"
    with gzip.open(fixture, "rb") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def test_every_released_schema_has_a_fixture():
    assert [p.name for p in RELEASED] == [f"schema_v{v}.duckdb.gz" for v in (1, 2, 3)]


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
        assert con.execute("SELECT count(*) FROM ledger").fetchone() == (0,)
    # This version's commands run on it.
    assert cli("--db", path, "products", "--format", "csv").code == 0
    assert cli("--db", path, "grade", "--as-of", "2026-11-22").code == 0
    assert cli("--db", path, "commission", "--format", "csv").code == 0
