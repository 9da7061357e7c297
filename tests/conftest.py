"""Shared fixtures: a fresh database, the products spec, sheet writers, and the CLI runner."""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

# The tests written before haowu spoke Chinese read its English: every run in them, in this
# process or a child, speaks English unless a test asks for another language
# (tests/process/test_language.py, tests/test_i18n.py).
os.environ["HAOWU_LANG"] = "en"

from haowu_cli.config import packaged_path
from haowu_cli.ingest.columns import load_kind
from haowu_cli.store import Store

HEADER = ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率"]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "haowu.duckdb", lock_timeout=10)


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
