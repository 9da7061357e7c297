"""The permissions of the files haowu creates, through the real process: a new file follows
the umask like any other program's (0666 less the umask), whatever it is (a CSV or workbook
export, a report page, a rejects file); a file written over keeps its permissions."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import HEADER, product_row, write_csv
from tests.process.conftest import HAOWU, clean_env

OUTPUTS = {
    "export csv": (["export", "products", "--excel", "--out", "out.csv"], "out.csv"),
    "export xlsx": (["export", "ledger", "--out", "out.xlsx"], "out.xlsx"),
    "report page": (["report", "merchants", "--html", "out.html"], "out.html"),
    "default rejects": (["import", "s.csv"], "s.rejects.csv"),
    "--rejects": (["import", "s.csv", "--rejects", "r.csv"], "r.csv"),
}


def run_with_umask(args: list, cwd: Path, home: Path, umask: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HAOWU), *map(str, args)],
        cwd=cwd,
        env=clean_env(home),
        preexec_fn=lambda: os.umask(umask),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "s.csv", [HEADER, product_row("PX1"), product_row("PX2", price="x")]
    )


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002], ids=oct)
@pytest.mark.parametrize("output", list(OUTPUTS))
def test_a_new_file_follows_the_umask(demo_copy, home, sheet, tmp_path, output, umask):
    args, name = OUTPUTS[output]
    ran = run_with_umask(["--db", demo_copy.name, *args], tmp_path, home, umask)
    assert ran.returncode in (0, 3), ran.stderr
    assert mode(tmp_path / name) == 0o666 & ~umask


@pytest.mark.parametrize("output", ["export csv", "report page", "default rejects"])
def test_a_file_written_over_keeps_its_permissions(demo_copy, home, sheet, tmp_path, output):
    args, name = OUTPUTS[output]
    (tmp_path / name).write_text("older\n")
    os.chmod(tmp_path / name, 0o600)  # someone made it private
    ran = run_with_umask(["--db", demo_copy.name, *args], tmp_path, home, 0o022)
    assert ran.returncode in (0, 3), ran.stderr
    assert (tmp_path / name).read_text(encoding="utf-8-sig") != "older\n"
    assert mode(tmp_path / name) == 0o600
