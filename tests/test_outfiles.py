"""Writing the files haowu creates (`outfiles`, `exporting`, the rejects of `ingest.pipeline`):
the temporary file is never an existing file or link, a failure leaves nothing behind, a file
whose rejects cannot be written is not imported, and every text cell for Excel is neutral."""

from __future__ import annotations

import errno
import os

import polars as pl
import pytest

from haowu_cli import outfiles
from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.exporting import excel_safe_frame
from haowu_cli.ingest.pipeline import ImportOptions, import_files
from tests.conftest import HEADER, product_row, write_csv


def test_the_temporary_file_never_follows_a_planted_link(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    names = iter(["guessed", "fresh"])
    monkeypatch.setattr(outfiles.secrets, "token_hex", lambda _n: next(names))
    (tmp_path / ".out.csv.guessed.tmp").symlink_to(victim)  # someone guessed the name
    outfiles.write_file(tmp_path / "out.csv", lambda stream: stream.write(b"data\n"))
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.csv").read_text() == "data\n"
    assert (tmp_path / ".out.csv.guessed.tmp").is_symlink()


def test_a_failed_write_leaves_the_target_as_it_was_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("older\n")

    def fill(stream):
        stream.write(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(HaowuError, match="No space left on device; nothing was written there"):
        outfiles.write_file(target, fill)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert target.read_text() == "older\n"


def test_a_long_name_gets_a_temporary_file_too(tmp_path):
    target = tmp_path / ("长" * 80 + ".csv")  # 244 bytes: a valid name, near the limit
    outfiles.write_file(target, lambda stream: stream.write(b"x"))
    assert target.read_bytes() == b"x"


def test_check_target_refuses_the_database_by_inode_and_by_path(tmp_path):
    db = tmp_path / "haowu.duckdb"
    db.write_bytes(b"db")
    os.link(db, tmp_path / "other.csv")
    protect = outfiles.protected(db)
    for target in (tmp_path / "other.csv", tmp_path / "x" / ".." / "haowu.duckdb"):
        (tmp_path / "x").mkdir(exist_ok=True)
        with pytest.raises(UsageError, match="is the database"):
            outfiles.check_target(target, option="--out", protect=protect)
    with pytest.raises(UsageError, match="write-ahead log"):
        outfiles.check_target(tmp_path / "haowu.duckdb.wal", option="--out", protect=protect)


def test_check_target_refuses_any_file_in_a_lakes_data_folder_however_named(tmp_path):
    data = tmp_path / "shared"
    (data / "main").mkdir(parents=True)
    (tmp_path / "mounted").symlink_to(data)  # the same folder reached by another name
    protect = outfiles.protected(tmp_path / "x", data_path=str(data))
    for target in (
        data / "p.csv",
        data / "main" / "deeper" / "p.csv",
        tmp_path / "y" / ".." / "shared" / "p.csv",
        tmp_path / "mounted" / "p.csv",
    ):
        with pytest.raises(UsageError, match=r"is in the lake's shared data folder"):
            outfiles.check_target(target, option="--out", protect=protect)
    outfiles.check_target(tmp_path / "shared.csv", option="--out", protect=protect)  # beside it
    # a URL data path (s3://) holds no file of ours to refuse
    assert not [kept for kept in outfiles.protected(None, data_path="s3://b/x") if kept.folder]


@pytest.fixture
def sheet(tmp_path):
    return write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", price="x")])


def imported(store) -> list[str]:
    if not store.path.exists():
        return []
    with store.read() as con:
        return [r[0] for r in con.execute("SELECT product_id FROM products").fetchall()]


def test_a_file_whose_rejects_cannot_be_written_is_not_imported(
    store, products_kind, sheet, tmp_path, monkeypatch
):
    def refuse(target):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(outfiles, "_create_temp", refuse)  # the input's folder: read-only
    [report] = import_files(store, [sheet], products_kind, ImportOptions())
    assert report.status == "failed"
    assert (
        "cannot be written" in report.error.message and "Permission denied" in report.error.message
    )
    assert "nothing imported" in report.error.message
    assert imported(store) == []  # rolled back
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "haowu.duckdb",
        "haowu.duckdb.lock",
        "s.csv",
    ]


def test_a_disk_full_when_the_rejects_are_written_fails_clearly_and_leaves_nothing(
    store, products_kind, sheet, tmp_path, monkeypatch
):
    def full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(outfiles.os, "fsync", full)
    [report] = import_files(store, [sheet], products_kind, ImportOptions())
    assert report.status == "failed"
    message = report.error.message
    assert "No space left on device" in message and "its other rows were imported" in message
    assert imported(store) == ["P1"]  # committed before the rejects were written: said so
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["haowu.duckdb", "haowu.duckdb.lock", "s.csv"]  # no 0-byte, no temp file


def test_every_text_column_is_neutralised_not_only_the_known_ones():
    frame = pl.DataFrame(
        {
            "title": ["=1+2", "-5", "ok"],
            "new_column": ["@cmd", "+x", "\tx"],  # a column added later, in no list
            "amount": ["-12.50", "-1+1", "3.00"],
            "count": [-3, 1, 2],
        }
    )
    safe = excel_safe_frame(frame, {"amount": "money", "count": "number"})
    assert safe["title"].to_list() == ["'=1+2", "'-5", "ok"]
    assert safe["new_column"].to_list() == ["'@cmd", "'+x", "'\tx"]
    assert safe["amount"].to_list() == ["-12.50", "'-1+1", "3.00"]  # a number is data
    assert safe["count"].to_list() == [-3, 1, 2]
