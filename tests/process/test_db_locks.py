"""Who keeps the database busy, through the real process: after --lock-timeout, the message
tells a haowu writer (the lock file) from a process reading the database and from another
program holding it open for writing, and names the holder's PID."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path
from tests.process.conftest import file_only

pytestmark = file_only("its lock file and who holds it open")

SHEET = packaged_path("sample_data") / "m1002_food_utf8bom.csv"
REPO = Path(__file__).resolve().parents[2]

HOLDERS = {
    # A haowu writer: holds the lock file and the database, as an import does.
    "haowu-writer": """
        from haowu_cli.store import Store
        with Store(PATH).write():
            print("holding", flush=True)
            time.sleep(60)
    """,
    # A process reading the database (a haowu reader, a notebook reading it).
    "reader": """
        import duckdb
        con = duckdb.connect(str(PATH), read_only=True)
        print("holding", flush=True)
        time.sleep(60)
    """,
    # Another program writing to it, which knows nothing of haowu's lock file.
    "other-writer": """
        import duckdb
        con = duckdb.connect(str(PATH))
        print("holding", flush=True)
        time.sleep(60)
    """,
}


@contextmanager
def held(path: Path, how: str) -> Iterator[int]:
    code = "import sys, time\nfrom pathlib import Path\nPATH = Path(sys.argv[1])\n"
    code += textwrap.dedent(HOLDERS[how])
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert process.stdout.readline().strip() == "holding"
        yield process.pid
    finally:
        process.kill()
        process.wait()


@pytest.fixture
def database(haowu, tmp_path) -> Path:
    target = tmp_path / "haowu.duckdb"
    assert haowu("--db", target, "import", SHEET).code == 0
    return target


READ = ["products", "--format", "csv"]
WRITE = ["import", str(SHEET)]


@pytest.mark.parametrize(
    ("how", "command", "says"),
    [
        ("haowu-writer", WRITE, "another haowu command is writing to it"),
        ("haowu-writer", READ, "another haowu command is writing to it (PID {pid}"),
        ("reader", WRITE, "another process is reading it (PID {pid}"),
        ("other-writer", READ, "another program has it open for writing (PID {pid}"),
        ("other-writer", WRITE, "another program has it open for writing (PID {pid}"),
    ],
    ids=[
        "writer-blocks-writer",
        "writer-blocks-reader",
        "reader-blocks-writer",
        "program-blocks-reader",
        "program-blocks-writer",
    ],
)
def test_the_lock_message_says_who_holds_the_database(how, command, says, database, haowu):
    with held(database, how) as pid:
        ran = haowu("--db", database, "--lock-timeout", "0.5", *command)
    assert ran.code == 1, ran
    assert f"database {database} stayed busy for 0.5 s" in ran.err, ran
    assert says.format(pid=pid) in ran.err, ran
    assert "--lock-timeout" in ran.err or "close that program" in ran.err
    if how != "haowu-writer":
        assert "another haowu command is writing" not in ran.err
