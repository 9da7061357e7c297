"""Where haowu writes, through the real process: never over the database (or its WAL, its lock)
or an input, never through a link, never into a device, a FIFO or a folder; the rejects only
where they belong, or the command fails before importing; and only the file asked for."""

from __future__ import annotations

import hashlib
import os
import resource
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import HEADER, product_row, write_csv
from tests.process.conftest import HAOWU, clean_env, file_only

WRITERS = {
    "export products": ["export", "products", "--out"],
    "export products xlsx": ["export", "products", "--out"],
    "export run-sheet": ["export", "run-sheet", "1", "--out"],
    "export ledger": ["export", "ledger", "--excel", "--out"],
    "report --html": ["report", "merchants", "--html"],
    "import --rejects": ["import", "s.csv", "--rejects"],
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def bad_sheet(tmp_path: Path) -> Path:
    """A sheet with one good row and one rejected row."""
    return write_csv(
        tmp_path / "s.csv", [HEADER, product_row("PX1"), product_row("PX2", price="x")]
    )


def database_target(name: str, tmp_path: Path, writer: str) -> str:
    """A name for the database (or its WAL or lock) that is not its plain name."""
    if name == "hard link":
        link = tmp_path / ("db.xlsx" if writer.endswith("xlsx") else "db.csv")
        os.link(tmp_path / "demo.duckdb", link)
        return link.name
    if name == "dot-dot":
        (tmp_path / "x").mkdir()
        return "./x/../demo.duckdb"
    return {"itself": "demo.duckdb", "wal": "demo.duckdb.wal", "lock": "demo.duckdb.lock"}[name]


@file_only("an output aimed at the database file, its WAL or its lock file")
@pytest.mark.parametrize("name", ["itself", "dot-dot", "hard link", "wal", "lock"])
@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_output_goes_over_the_database(haowu, demo_copy, bad_sheet, tmp_path, writer, name):
    before = digest(demo_copy)
    target = database_target(name, tmp_path, writer)
    ran = haowu("--db", demo_copy.name, *WRITERS[writer], target)
    assert ran.code == 2, ran
    assert "haowu will not write over it" in ran.err and "the database" in ran.err
    assert digest(demo_copy) == before
    assert not (tmp_path / "demo.duckdb.wal").exists()
    if name == "hard link":
        assert digest(tmp_path / target) == before
    if writer == "import --rejects":  # refused before the import: PX1 is not in
        listed = haowu("--db", demo_copy.name, "products", "--search", "PX1", "-f", "csv")
        assert listed.code == 0 and "PX1" not in listed.out


def test_the_rejects_never_go_over_an_input(haowu, bad_sheet, tmp_path):
    sheet = bad_sheet.read_bytes()
    other = write_csv(tmp_path / "s.rejects.csv", [HEADER, product_row("PX3")])
    other_bytes = other.read_bytes()
    ran = haowu("--db", "h.duckdb", "import", "s.csv", "--rejects", "s.csv")
    assert ran.code == 2 and "an input of this command" in ran.err, ran
    # The default rejects file of s.csv is the second input.
    ran = haowu("--db", "h.duckdb", "import", "s.csv", "s.rejects.csv")
    assert ran.code == 2 and "an input of this command" in ran.err, ran
    assert bad_sheet.read_bytes() == sheet and other.read_bytes() == other_bytes
    assert not (tmp_path / "h.duckdb").exists()  # refused before anything was written


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    path = tmp_path / "victim.txt"
    path.write_text("precious\n")
    return path


def test_a_planted_link_at_the_default_rejects_file_is_refused(haowu, victim, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    write_csv(upload / "s.csv", [HEADER, product_row("PX1"), product_row("PX2", price="x")])
    (upload / "s.rejects.csv").symlink_to(victim)
    ran = haowu("--db", "h.duckdb", "import", "upload/s.csv")
    assert ran.code == 2 and "symbolic link" in ran.err, ran
    assert victim.read_text() == "precious\n"
    assert (upload / "s.rejects.csv").is_symlink()  # left for a person to look at
    assert not (tmp_path / "h.duckdb").exists()  # the sheet was not imported


@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_output_is_written_through_a_link(haowu, demo_copy, bad_sheet, victim, tmp_path, writer):
    link = tmp_path / ("link.xlsx" if writer.endswith("xlsx") else "link.csv")
    link.symlink_to(victim)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "nowhere.csv")
    for target in (link, dangling):
        ran = haowu("--db", demo_copy.name, *WRITERS[writer], target.name)
        assert ran.code == 2 and "symbolic link" in ran.err, ran
    assert victim.read_text() == "precious\n" and link.is_symlink()
    assert not (tmp_path / "nowhere.csv").exists()


@pytest.mark.parametrize("writer", list(WRITERS))
def test_a_fifo_or_a_folder_is_refused_not_replaced(haowu, demo_copy, bad_sheet, tmp_path, writer):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    ran = haowu("--db", demo_copy.name, *WRITERS[writer], fifo.name, timeout=60)
    assert ran.code == 2 and "not a regular file" in ran.err, ran
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    if writer != "import --rejects":  # there a folder holds FILE.rejects.csv
        (tmp_path / "folder.csv").mkdir()
        ran = haowu("--db", demo_copy.name, *WRITERS[writer], "folder.csv")
        assert ran.code == 2 and "is a folder" in ran.err, ran


def test_a_device_is_refused_not_replaced(haowu, demo_copy, tmp_path):
    device = tmp_path / "null.csv"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers
    except PermissionError:
        pytest.skip("creating a device node needs root")
    ran = haowu("--db", demo_copy.name, "export", "products", "--out", device.name)
    assert ran.code == 2 and "not a regular file" in ran.err, ran
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_out_dash_is_stdout(haowu, demo_copy, tmp_path):
    ran = haowu("--db", demo_copy.name, "export", "products", "--out", "-")
    assert ran.code == 0 and ran.out.startswith("product_id,")
    assert not (tmp_path / "-").exists()


def test_rejects_that_cannot_be_written_stop_the_import_and_go_nowhere_else(
    haowu, bad_sheet, tmp_path
):
    ran = haowu("--db", "h.duckdb", "import", "s.csv", "--rejects", "gone/r.csv")
    assert ran.code == 2 and "gone" in ran.err and "does not exist" in ran.err, ran
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "s.csv"]  # nothing written


def run_limited(args: list, cwd: Path, home: Path, max_file_bytes: int):
    """haowu with the files it writes limited in size, as a full disk limits them."""

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return subprocess.run(
        [str(HAOWU), *map(str, args)],
        cwd=cwd,
        env=clean_env(home),
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["export", "ledger", "--out", "out.csv"],
        ["export", "ledger", "--out", "out.xlsx"],
        ["report", "session", "1", "--html", "out.html"],
    ],
    ids=["csv", "xlsx", "html"],
)
def test_an_output_that_cannot_be_finished_leaves_nothing_behind(demo_copy, home, tmp_path, args):
    ran = run_limited(["--db", demo_copy.name, *args], tmp_path, home, 20_000)
    assert ran.returncode == 1 and "cannot write" in ran.stderr, ran.stderr
    assert "unexpected" not in ran.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb", "home"]
    # Over an older file: the older file stays as it was.
    old = tmp_path / args[-1]
    old.write_text("older\n")
    ran = run_limited(["--db", demo_copy.name, *args], tmp_path, home, 20_000)
    assert ran.returncode == 1 and old.read_text() == "older\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.duckdb", "home", old.name]


def test_an_export_writes_only_its_own_file(haowu, demo_copy, tmp_path):
    before = set(tmp_path.iterdir())
    for target in ("only.csv", "only.xlsx"):
        assert haowu("--db", demo_copy.name, "export", "orders", "--out", target).code == 0
    assert set(tmp_path.iterdir()) - before == {tmp_path / "only.csv", tmp_path / "only.xlsx"}


THE_FILE = file_only("the run log aimed at the database file or its WAL")


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("demo.duckdb", marks=THE_FILE),
        pytest.param("demo.duckdb.wal", marks=THE_FILE),
        "link.log",
    ],
)
def test_the_run_log_is_never_the_database_nor_a_link(haowu, demo_copy, tmp_path, name):
    (tmp_path / "elsewhere.txt").write_text("keep me\n")
    (tmp_path / "link.log").symlink_to(tmp_path / "elsewhere.txt")
    before = demo_copy.read_bytes()
    ran = haowu("--db", demo_copy, "grade", "--as-of", "2026-11-22", "--log", tmp_path / name)
    assert ran.code == 2, ran
    assert demo_copy.read_bytes() == before
    assert (tmp_path / "elsewhere.txt").read_text() == "keep me\n"
