"""The --db file, through the real process: a file that is not a haowu database (a SQLite file,
a text file, an empty file, another application's DuckDB file, a folder) is refused with exit 2
and a message naming the file and what it seems to be, at once, without any attempt to fetch or
load a DuckDB extension, and without touching the file; a database of a schema version this
haowu does not know (newer, or not a number) is refused by readers and writers alike."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import duckdb
import pytest

from haowu_cli.config import packaged_path
from haowu_cli.store import SCHEMA_VERSION
from tests.process.conftest import file_only

IS_THE_FILE = file_only("what the --db file is (SQLite, text, another DuckDB file, a folder)")

SHEET = packaged_path("sample_data") / "m1002_food_utf8bom.csv"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_file(path: Path) -> str:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE orders (id INTEGER, note TEXT)")
    con.execute("INSERT INTO orders VALUES (1, 'kept')")
    con.commit()
    con.close()
    return "a SQLite database"


def text_file(path: Path) -> str:
    path.write_text("商品ID,商家ID\nP1,M1\n", encoding="utf-8")
    return "a text file"


def empty_file(path: Path) -> str:
    path.touch()
    return "an empty file"


def other_duckdb(path: Path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE measurements (sensor VARCHAR, value DOUBLE)")
    con.execute("INSERT INTO measurements VALUES ('t1', 21.5)")
    con.close()
    return "DuckDB database of another application (tables: measurements)"


FOREIGN = [sqlite_file, text_file, empty_file, other_duckdb]


@IS_THE_FILE
@pytest.mark.parametrize("make", FOREIGN, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "command",
    [["import", str(SHEET)], ["products", "--format", "csv"]],
    ids=["import", "products"],
)
def test_a_file_that_is_not_a_haowu_database_is_refused_at_once(
    make, command, haowu, tmp_path, home
):
    target = tmp_path / "target.duckdb"
    seems = make(target)
    before = digest(target)
    started = time.monotonic()
    ran = haowu("--db", target, *command)
    took = time.monotonic() - started
    assert ran.code == 2, ran
    assert f"{target} is {seems}" in ran.err or f"{target} is a {seems}" in ran.err, ran
    assert "not a haowu database" in ran.err
    assert ran.out == ""
    # No extension was looked for, downloaded or loaded: nothing in the message about one, no
    # extension folder in the home DuckDB would install into, and no network wait.
    for word in ("extension", "download", "install", "unexpected", "Traceback"):
        assert word not in ran.err.lower(), ran
    assert not (home / ".duckdb").exists()
    assert took < 20
    # The file is left exactly as it was, and nothing was created next to it.
    assert digest(target) == before
    assert not target.with_name("target.duckdb.wal").exists()


@IS_THE_FILE
def test_another_applications_duckdb_file_keeps_its_tables_only(haowu, tmp_path):
    target = tmp_path / "theirs.duckdb"
    other_duckdb(target)
    assert haowu("--db", target, "import", SHEET).code == 2
    con = duckdb.connect(str(target), read_only=True)
    tables = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    con.close()
    assert tables == [("measurements",)]


@IS_THE_FILE
def test_a_folder_given_as_the_database_is_refused(haowu, tmp_path):
    (tmp_path / "data").mkdir()
    ran = haowu("--db", tmp_path / "data", "products")
    assert ran.code == 2, ran
    assert "is a folder, not a haowu database" in ran.err


@IS_THE_FILE
def test_a_duckdb_file_with_no_tables_yet_becomes_a_haowu_database(haowu, tmp_path):
    target = tmp_path / "new.duckdb"
    duckdb.connect(str(target)).close()
    ran = haowu("--db", target, "import", SHEET)
    assert ran.code == 0, ran
    assert haowu("--db", target, "products", "--format", "csv").out.count("\n") == 11


@file_only("whether the file exists before and after (a lake has no file)")
def test_a_missing_database_is_created_by_writers_and_reported_by_readers(haowu, tmp_path):
    target = tmp_path / "fresh.duckdb"
    ran = haowu("--db", target, "products")
    assert ran.code == 1, ran
    assert f"no haowu database at {target}" in ran.err
    assert not target.exists()
    assert haowu("--db", target, "import", SHEET).code == 0
    assert target.exists()


@pytest.fixture
def database(haowu, tmp_path) -> Path:
    target = tmp_path / "haowu.duckdb"
    assert haowu("--db", target, "import", SHEET).code == 0
    return target


def set_version(databases, path: Path, value: str | None) -> None:
    if value is None:
        databases.execute(path, "DELETE FROM meta WHERE key = 'schema_version'")
    else:
        databases.execute(path, "UPDATE meta SET value = ? WHERE key = 'schema_version'", [value])


READ = ["products", "--format", "csv"]
WRITE = ["import", str(SHEET)]


@pytest.mark.parametrize("command", [READ, WRITE], ids=["reader", "writer"])
def test_a_database_from_a_newer_haowu_is_refused_naming_both_versions(
    command, database, haowu, databases
):
    newer = SCHEMA_VERSION + 1
    set_version(databases, database, str(newer))
    before = databases.fingerprint(database)
    ran = haowu("--db", database, *command)
    assert ran.code == 2, ran
    assert f"schema version {newer}, newer than this haowu knows ({SCHEMA_VERSION})" in ran.err
    assert "pip install -U haowu" in ran.err
    assert ran.out == ""
    assert databases.fingerprint(database) == before


@pytest.mark.parametrize(
    ("command", "version"),
    [(READ, "abc"), (WRITE, "abc"), (READ, "5.0"), (READ, "")],
    ids=["reader-abc", "writer-abc", "reader-5.0", "reader-empty"],
)
def test_a_schema_version_haowu_never_writes_is_refused(
    command, version, database, haowu, databases
):
    set_version(databases, database, version)
    ran = haowu("--db", database, *command)
    assert ran.code == 2, ran
    assert f"schema version {version!r}, which no haowu writes" in ran.err
    assert f"this haowu writes version {SCHEMA_VERSION}" in ran.err
    assert "unexpected" not in ran.err


def test_a_meta_table_without_a_version_is_not_a_haowu_database(database, haowu, databases):
    set_version(databases, database, None)
    ran = haowu("--db", database, *READ)
    assert ran.code == 2, ran
    assert "not a haowu database" in ran.err
