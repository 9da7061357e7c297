"""Shared fixtures: a fresh database, the products spec, sheet writers, and the CLI runner."""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# The tests written before haowu spoke Chinese read its English: every run in them, in this
# process or a child, speaks English unless a test asks for another language
# (tests/process/test_language.py, tests/test_i18n.py).
os.environ["HAOWU_LANG"] = "en"

from haowu_cli.config import packaged_path
from haowu_cli.ingest.columns import load_kind
from haowu_cli.store import Store

if TYPE_CHECKING:
    from tests.pg_cluster import Cluster

HEADER = ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率"]


# The engine the tests' databases are on: `file` (a DuckDB file, the default) or `lake`
# (HAOWU_TEST_ENGINE=lake: team mode, a DuckLake on the throwaway PostgreSQL of
# tests/pg_cluster.py): the `store` fixture here, every `haowu` of the process tests
# (tests/process/conftest.py). `file_only(reason)` marks a test about the file itself.
ENGINE = os.environ.get("HAOWU_TEST_ENGINE", "file")
ON_LAKE = ENGINE == "lake"


def file_only(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(ON_LAKE, reason=f"about the local database file: {reason}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throwaway PostgreSQL cluster for the session; skips where none can start."""
    from tests.pg_cluster import start_cluster, team_extra_missing

    missing = team_extra_missing()
    if missing:
        pytest.skip(missing)
    try:
        cluster = start_cluster()
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL for the team-mode tests: {exc}")
    yield cluster
    cluster.stop()


_lake_names = itertools.count()


def new_lake_name() -> str:
    return f"lake_{os.getpid()}_{next(_lake_names)}"


def _snapshot(con) -> int:
    """A lake's latest snapshot: DuckLake makes one at each commit."""
    [(snapshot,)] = con.execute(
        "SELECT max(snapshot_id) FROM ducklake_snapshots(current_database())"
    ).fetchall()
    return snapshot


_empty_snapshot: list[int] = []  # `empty_lake`'s, which its copies start from


@pytest.fixture(scope="session")
def empty_lake(postgres: Cluster, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A lake with haowu's tables and nothing in them, made once: its PostgreSQL database (a
    template the `store` fixture copies) and its data folder (the copies share it: DuckLake
    only ever adds files to it, each under a new name)."""
    from haowu_cli.store.lake import LakeStore

    data = tmp_path_factory.mktemp("empty_lake")
    name = new_lake_name()
    with LakeStore(f"ducklake:postgres:{postgres.create_database(name)}", data).write() as con:
        _empty_snapshot.append(_snapshot(con))  # the schema, migrated on the first write
    return name, data


def written_to(store: Store) -> bool:
    """Whether anything was written to the `store` fixture's database: on a file, whether
    there is one (a refused import leaves none, not even an empty database); on a lake
    (made with haowu's tables, as `team init` leaves it), whether a commit followed."""
    if not ON_LAKE:
        return store.exists()
    with store.read() as con:
        return _snapshot(con) != _empty_snapshot[0]


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A new, empty database on the tests' engine: haowu.duckdb in `tmp_path`, or (a lake
    run) a copy of `empty_lake`."""
    if not ON_LAKE:
        return Store(tmp_path / "haowu.duckdb", lock_timeout=10)
    from haowu_cli.store.lake import LakeStore

    cluster: Cluster = request.getfixturevalue("postgres")
    template, data = request.getfixturevalue("empty_lake")
    conninfo = cluster.create_database(new_lake_name(), template=template)
    return LakeStore(f"ducklake:postgres:{conninfo}", data, lock_timeout=10)


@pytest.fixture(scope="session")
def products_kind():
    return load_kind("products", packaged_path("configs"))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    """A CSV as Excel writes it (CRLF), in the given encoding (`utf-8-sig` adds the BOM)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list], sheet: str = "Sheet1", extra_sheets=()) -> Path:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path))
    for name in [*extra_sheets, sheet]:
        worksheet = workbook.add_worksheet(name)
        if name != sheet:
            worksheet.write(0, 0, "not this one")
            continue
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if hasattr(value, "year"):
                    fmt = workbook.add_format({"num_format": "yyyy-mm-dd"})
                    worksheet.write_datetime(r, c, value, fmt)
                else:
                    worksheet.write(r, c, value)
    workbook.close()
    return path


def product_row(pid: str, merchant: str = "M1", price: str = "59.90", rate: str = "20%", **kw):
    """A valid row under HEADER; keyword arguments replace cells by header name."""
    row = dict(zip(HEADER, [pid, merchant, f"商品{pid}", "美妆", price, rate], strict=True))
    row.update(kw)
    return [row[h] for h in HEADER]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    """Run `haowu ARGS…` in-process, as `main()` does; stdout and stderr kept apart."""
    from haowu_cli.cli import run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HAOWU_DB", raising=False)
    monkeypatch.delenv("HAOWU_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> Result:
        capsys.readouterr()
        code = run([str(a) for a in args])
        captured = capsys.readouterr()
        return Result(int(code), captured.out, captured.err)

    return invoke
