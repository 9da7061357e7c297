"""The harness for promises made at the process boundary: it runs the installed `haowu` as a
subprocess, as a user, a script or cron does, with stdout and stderr kept apart.

In-process tests (`tests/cli/`, Typer's runner) cannot see what a C library prints to the real
stdout, real signals, exit codes as the shell sees them, or the modes of files written. These
can. The `haowu` run is the one installed next to the Python running the tests (the project's
venv), never one found elsewhere on PATH.
"""

from __future__ import annotations

import filecmp
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENGINE, ON_LAKE, file_only, new_lake_name
from tests.pg_cluster import Cluster

__all__ = ["ENGINE", "ON_LAKE", "file_only", "new_lake_name"]  # the process tests' imports

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


class OnTerminal:
    """`haowu ARGS` with its stdout on a pseudo-terminal (and its stdin too, with
    `stdin="terminal"`), as a person runs the live view: read what it draws, type keys,
    Ctrl-C it. `close()` when done."""

    def __init__(
        self,
        args: list[object],
        *,
        cwd: Path,
        home: Path,
        stdin: str = "devnull",
        env: dict[str, str] | None = None,
    ) -> None:
        import pty

        self.leader, self.follower = pty.openpty()
        source = {"devnull": subprocess.DEVNULL, "pipe": subprocess.PIPE}.get(stdin, self.follower)
        self.process = subprocess.Popen(
            [str(HAOWU), *map(str, args)],
            cwd=cwd,
            env=clean_env(home, COLUMNS="200", LINES="80", **(env or {})),
            stdin=source,
            stdout=self.follower,
            stderr=subprocess.PIPE,
        )
        self.seen = b""

    def _read(self) -> None:
        import contextlib
        import select

        if select.select([self.leader], [], [], 0.2)[0]:
            with contextlib.suppress(OSError):  # the terminal closed with the process
                self.seen += os.read(self.leader, 65536)

    def read_until(self, text: bytes, seconds: float = 60) -> bool:
        """Whether the terminal shows `text` within `seconds` (False once the process ends)."""
        deadline = time.monotonic() + seconds
        while text not in self.seen and time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._read()
                break
            self._read()
        return text in self.seen

    def interrupt(self) -> int:
        """Ctrl-C, the terminal kept drained until the process ends; its exit code."""
        self.process.send_signal(signal.SIGINT)
        while self.process.poll() is None:
            self._read()
        return self.process.wait(timeout=60)

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read().decode(errors="replace")

    def close(self) -> None:
        os.close(self.follower)
        os.close(self.leader)


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
def haowu(request: pytest.FixtureRequest, tmp_path: Path, home: Path) -> Callable[..., Ran]:
    """`haowu(*args, stdin=None, env={})`: run the installed haowu in `tmp_path`. With
    HAOWU_TEST_ENGINE=lake, on a lake for each database file the test names (`Lakes`)."""
    lakes: Lakes | None = request.getfixturevalue("lakes") if ON_LAKE else None
    return _runner(lakes, tmp_path, home, {})


def _runner(
    lakes: Lakes | None, cwd: Path, home: Path, base_env: dict[str, str]
) -> Callable[..., Ran]:
    """`run(*args, stdin=None, env={})`: the installed haowu in `cwd`, on a lake of `lakes`
    for each database file named when there are lakes."""

    def invoke(*args, stdin=None, env: dict[str, str] | None = None, timeout=180) -> Ran:
        args_, env_ = [str(a) for a in args], {**base_env, **(env or {})}
        if lakes is not None and "HAOWU_DB" not in env_ and not runs_on_a_file(args_):
            args_, on_lake = lakes.rewrite(args_)
            env_.update(on_lake)
        return run_haowu(args_, cwd=cwd, env=clean_env(home, **env_), stdin=stdin, timeout=timeout)

    return invoke


def shared_haowu(
    request: pytest.FixtureRequest, cwd: Path, home: Path, **env: str
) -> Callable[..., Ran]:
    """For a module- or session-scoped fixture that builds a database its tests share: `run`
    as the `haowu` fixture's, in `cwd` with `env`, on the test's engine. On a lake, the lake
    made for a database file is the one every test naming that file then gets (through
    `haowu`, `on_engine` or `databases`), as every test gets the same file on files."""
    if not ON_LAKE:
        return _runner(None, cwd, home, env)
    return _runner(Lakes(request, cwd, home, shared=True), cwd, home, env)


@pytest.fixture
def on_engine(request: pytest.FixtureRequest) -> Callable[[list[object]], tuple[list[str], dict]]:
    """`args, env = on_engine(args)`: for a test that starts haowu itself (on a terminal, in a
    pipeline, to Ctrl-C it), the arguments and the environment that run it on the test's engine,
    as the `haowu` fixture does (on a lake: `--db FILE` becomes that file's lake)."""

    def rewrite(args: list[object]) -> tuple[list[str], dict[str, str]]:
        if not ON_LAKE:
            return [str(a) for a in args], {}
        lakes: Lakes = request.getfixturevalue("lakes")
        return lakes.rewrite([str(a) for a in args])

    return rewrite


# The engine the `haowu` fixture runs every command on (and the `store` of the unit tests):
# `file` or `lake` (HAOWU_TEST_ENGINE=lake), `file_only(reason)`, the `postgres` cluster and
# the lakes' names: tests/conftest.py.


@pytest.fixture(scope="session")
def demo_lake(postgres: Cluster, demo_db: Path, tmp_path_factory) -> tuple[str, Path]:
    """The demo database pushed once into a lake: its PostgreSQL database (a template the
    tests copy with `createdb -T`) and its data folder, which the copies share (DuckLake
    only ever adds files to it, each under a new name)."""
    folder = tmp_path_factory.mktemp("demo_lake")
    data = folder / "data"
    data.mkdir()
    name = new_lake_name()
    conninfo = postgres.create_database(name)
    home = folder / "home"
    home.mkdir()
    env = clean_env(home, HAOWU_DB=f"ducklake:postgres:{conninfo}", HAOWU_DATA_PATH=str(data))
    ran = run_haowu(["team", "push", "--from", demo_db], cwd=folder, env=env)
    assert ran.code == 0, ran
    return name, data


def runs_on_a_file(args: list[str]) -> bool:
    """Whether the command is `haowu demo`, whose `--db` is always a new local file (it
    never works on $HAOWU_DB): on a lake run it runs as given."""
    items = iter(args)
    for arg in items:
        if arg in {"--db", "--data-path", "--config", "--lock-timeout", "--lang"}:
            next(items, None)  # its value
        elif not arg.startswith("-"):
            return arg == "demo"
    return False


class Lakes:
    """Lake mode: the lake standing in for each database file a test names (`--db FILE`, or
    haowu.duckdb in the working folder), made when first named. The demo database (or an
    unchanged copy) is a copy of `demo_lake`; another existing file is pushed into a new lake
    (`team push`); a file that does not exist is a new, empty lake."""

    def __init__(
        self, request: pytest.FixtureRequest, cwd: Path, home: Path, *, shared: bool = False
    ) -> None:
        self.request, self.cwd, self.home = request, cwd, home
        self.cluster: Cluster = request.getfixturevalue("postgres")
        # A test's own lakes, or (`shared`, a module or session fixture's) the session's,
        # which every test naming their file finds first.
        self.shared: dict[Path, dict[str, str]] = request.getfixturevalue("shared_lakes")
        self.made: dict[Path, dict[str, str]] = self.shared if shared else {}

    def rewrite(self, args: list[str]) -> tuple[list[str], dict[str, str]]:
        """`args` without their `--db FILE`, and the environment naming that file's lake."""
        path, rest = Path("haowu.duckdb"), []
        items = iter(args)
        for arg in items:
            if arg == "--db":
                path = Path(next(items))
            elif arg.startswith("--db="):
                path = Path(arg.removeprefix("--db="))
            else:
                rest.append(arg)
        return rest, self.env_for(self.cwd / path)

    def env_for(self, path: Path) -> dict[str, str]:
        path = path.resolve()
        if path in self.shared:
            return self.shared[path]
        if path in self.made:
            return self.made[path]
        demo_db: Path = self.request.getfixturevalue("demo_db")
        if path.exists() and filecmp.cmp(path, demo_db, shallow=False):
            template, data = self.request.getfixturevalue("demo_lake")
            conninfo = self.cluster.create_database(new_lake_name(), template=template)
        else:
            # Outside the working folder, which stands for the user's: tests list what haowu
            # wrote there, and the lake's shared data folder is elsewhere on a team's machines.
            factory: pytest.TempPathFactory = self.request.getfixturevalue("tmp_path_factory")
            data = factory.mktemp("lake_data")
            conninfo = self.cluster.create_database(new_lake_name())
        env = {"HAOWU_DB": f"ducklake:postgres:{conninfo}", "HAOWU_DATA_PATH": str(data)}
        if path.exists() and not filecmp.cmp(path, demo_db, shallow=False):
            ran = run_haowu(
                ["team", "push", "--from", path], cwd=self.cwd, env=clean_env(self.home, **env)
            )
            assert ran.code == 0, ran
        self.made[path] = env
        return env


@pytest.fixture
def lakes(request: pytest.FixtureRequest, tmp_path: Path, home: Path) -> Lakes:
    return Lakes(request, tmp_path, home)


@pytest.fixture(scope="session")
def shared_lakes() -> dict[Path, dict[str, str]]:
    """The lakes standing in for the database files that module and session fixtures built
    to share (`shared_haowu`), by resolved path."""
    return {}


class Databases:
    """The database behind a `--db FILE` a test names, on the engine the `haowu` fixture runs:
    the file itself, or (HAOWU_TEST_ENGINE=lake) its lake, attached as haowu attaches it. For
    tests whose point is the data a command left, not the file that holds it."""

    def __init__(self, request: pytest.FixtureRequest, cwd: Path) -> None:
        self.request, self.cwd = request, cwd

    def spec(self, database: Path | str) -> tuple[str, str | None]:
        """What haowu's `--db` and `--data-path` would be for `database` on this engine."""
        path = self.cwd / database
        if not ON_LAKE:
            return str(path), None
        env = self.request.getfixturevalue("lakes").env_for(path)
        return env["HAOWU_DB"], env["HAOWU_DATA_PATH"]

    def store(self, database: Path | str):  # -> haowu_cli.store.Store
        """haowu's own store for `database` (in this process)."""
        from haowu_cli.store import open_store

        db, data_path = self.spec(database)
        return open_store(db, data_path=data_path)

    @contextmanager
    def connect(self, database: Path | str, *, write: bool = False) -> Iterator[Any]:
        """A plain connection to `database` (no migration, no lock): read-only on a file
        unless `write`."""
        import duckdb

        db, data_path = self.spec(database)
        if ON_LAKE:
            from haowu_cli.store.lake import LakeStore

            con = LakeStore(db, data_path).connect()
        else:
            con = duckdb.connect(db, read_only=not write)
        try:
            yield con
        finally:
            con.close()

    def rows(self, database: Path | str, sql: str, params: list[object] | None = None) -> list:
        """The rows of the query `sql` on `database`."""
        with self.connect(database) as con:
            return con.execute(sql, params or []).fetchall()

    def fingerprint(self, database: Path | str) -> str:
        """What changes whenever anything is written to `database`: the file's bytes (their
        SHA-256), or the lake's latest snapshot (DuckLake makes one at each commit)."""
        if not ON_LAKE:
            return hashlib.sha256((self.cwd / database).read_bytes()).hexdigest()
        with self.connect(database) as con:
            [(snapshot,)] = con.execute(
                "SELECT max(snapshot_id) FROM ducklake_snapshots(current_database())"
            ).fetchall()
        return str(snapshot)

    def execute(self, database: Path | str, sql: str, params: list[object] | None = None) -> None:
        """Run `sql` on `database`, as another program changing the data would."""
        with self.connect(database, write=True) as con:
            con.execute(sql, params or [])


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Databases:
    """`databases.rows(FILE, sql)`, `.execute(FILE, sql)`, `.store(FILE)`: the data of the
    database the test named `--db FILE` (relative to the test's folder), whichever engine."""
    return Databases(request, tmp_path)


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
