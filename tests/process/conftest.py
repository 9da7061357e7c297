"""The harness for promises made at the process boundary: it runs the installed `haowu` as a
subprocess, as a user, a script or cron does, with stdout and stderr kept apart.

In-process tests (`tests/cli/`, Typer's runner) cannot see what a C library prints to the real
stdout, real signals, exit codes as the shell sees them, or the modes of files written. These
can. The `haowu` run is the one installed next to the Python running the tests (the project's
venv), never one found elsewhere on PATH.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

HAOWU = Path(sys.executable).parent / "haowu"


@dataclass
class Ran:
    """What one run of `haowu` did."""

    args: list[str]
    code: int
    out: str
    err: str

    def __str__(self) -> str:  # shown when an assertion about a run fails
        return (
            f"haowu {' '.join(self.args)}\n-> exit {self.code}\n--- stdout ---\n{self.out}"
            f"\n--- stderr ---\n{self.err}"
        )


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh user: no haowu settings but English (see tests/conftest.py),
    its own home and log folder, a plain (non-terminal) output, and whatever `extra` adds."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HAOWU_") and key not in {"COLUMNS", "LINES", "FORCE_COLOR"}
    }
    env.update(
        HOME=str(home),
        XDG_STATE_HOME=str(home / ".state"),
        XDG_DATA_HOME=str(home / ".data"),
        XDG_CONFIG_HOME=str(home / ".config"),
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8",
        HAOWU_LANG="en",  # the tests that read Chinese ask for it (test_language.py)
    )
    env.update(extra)
    return env


def run_haowu(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdin: str | bytes | None = None,
    timeout: float = 180,
) -> Ran:
    args = [str(a) for a in args]
    data = stdin.encode() if isinstance(stdin, str) else stdin
    done = subprocess.run(
        [str(HAOWU), *args],
        cwd=cwd,
        env=env,
        input=data,
        stdin=None if data is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Ran(
        args,
        done.returncode,
        done.stdout.decode("utf-8", errors="replace"),
        done.stderr.decode("utf-8", errors="replace"),
    )


@pytest.fixture(scope="session", autouse=True)
def _installed() -> None:
    if not HAOWU.exists():
        pytest.fail(f"{HAOWU} is not there: install haowu into this venv (pip install -e .)")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def haowu(tmp_path: Path, home: Path) -> Callable[..., Ran]:
    """`haowu(*args, stdin=None, env={})`: run the installed haowu in `tmp_path`."""

    def invoke(*args, stdin=None, env: dict[str, str] | None = None, timeout=180) -> Ran:
        return run_haowu(
            list(args),
            cwd=tmp_path,
            env=clean_env(home, **(env or {})),
            stdin=stdin,
            timeout=timeout,
        )

    return invoke


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """A database filled by `haowu demo` (products, anchors, grades, a saved plan, orders and
    their ledger). Shared by the session: tests that write use `demo_copy`."""
    folder = tmp_path_factory.mktemp("demo")
    home = folder / "home"
    home.mkdir()
    ran = run_haowu(["demo", "--db", "demo.duckdb"], cwd=folder, env=clean_env(home))
    assert ran.code == 0, ran
    return folder / "demo.duckdb"


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database in `tmp_path`, as `demo.duckdb`."""
    target = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_db, target)
    return target


def interrupt_when(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    ready: Callable[[], bool],
    timeout: float = 120,
) -> Ran:
    """Start haowu, send it SIGINT (Ctrl-C) once `ready()` is true, and wait for it to end.
    Its output goes to files, not pipes: a pipe nobody reads would block a command that
    prints a lot before the moment comes."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [str(HAOWU), *map(str, args)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
        deadline = time.monotonic() + timeout
        while not ready():
            if process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.wait(timeout=timeout)
        out.seek(0)
        err.seek(0)
        return Ran(
            list(map(str, args)),
            process.returncode,
            out.read().decode("utf-8", errors="replace"),
            err.read().decode("utf-8", errors="replace"),
        )
