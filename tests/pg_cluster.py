"""A throwaway PostgreSQL cluster for the team-mode tests: Debian's server binaries (not on
PATH: /usr/lib/postgresql/<version>/bin), a cluster in a temporary folder (`initdb -A trust`),
a free port, its socket in that folder and no TCP listener, stopped and removed at the end.

`initdb` refuses to run as root: as root the cluster runs as the `postgres` user (`su`), in a
folder that user owns. Where PostgreSQL or the team extra is missing, `why_not()` says why, and
the tests skip with that reason.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


def server_bindir() -> Path | None:
    """The folder of `initdb` and `pg_ctl`: $HAOWU_TEST_PG_BINDIR, Debian's newest, or PATH."""
    given = os.environ.get("HAOWU_TEST_PG_BINDIR")
    if given:
        return Path(given)
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def team_extra_missing() -> str | None:
    """Why team mode cannot run in this venv (the extension wheels), or None."""
    import duckdb

    for package, name in (
        ("duckdb_extension_ducklake", "ducklake"),
        ("duckdb_extension_postgres_scanner", "postgres_scanner"),
    ):
        try:
            module = __import__(package)
        except ImportError:
            return f"the team extra is not installed (pip install -e '.[team]'): no {package}"
        file = (
            Path(module.__file__).parent
            / "extensions"
            / f"v{duckdb.__version__}"
            / f"{name}.duckdb_extension"
        )
        if not file.is_file():
            return f"{package} has no build for DuckDB {duckdb.__version__}"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bindir: Path
    folder: Path
    port: int
    as_postgres: bool

    @property
    def socket_dir(self) -> Path:
        return self.folder

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.as_postgres:
            command = ["su", "postgres", "-s", "/bin/sh", "-c", subprocess.list2cmdline(command)]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        data = self.folder / "data"
        done = self._run(self.bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr or done.stdout}")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses='' -c fsync=off"
        done = self._run(
            self.bindir / "pg_ctl",
            "-D",
            data,
            "-o",
            options,
            "-l",
            self.folder / "log",
            "-w",
            "start",
        )
        if done.returncode != 0:
            log = (
                (self.folder / "log").read_text(errors="replace")
                if (self.folder / "log").exists()
                else ""
            )
            raise RuntimeError(f"pg_ctl start failed: {done.stderr or done.stdout}\n{log}")

    def stop(self) -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.folder / "data", "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new database (a copy of `template` when given); its conninfo."""
        copy = ("-T", template) if template else ()
        done = self._run(
            self.bindir / "createdb",
            "-h",
            self.socket_dir,
            "-p",
            str(self.port),
            "-U",
            "postgres",
            *copy,
            name,
        )
        if done.returncode != 0:
            raise RuntimeError(f"createdb failed: {done.stderr}")
        return f"dbname={name} host={self.socket_dir} port={self.port} user=postgres"


def start_cluster() -> Cluster:
    """A running cluster (call `stop()` at the end); RuntimeError when it cannot start."""
    bindir = server_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL's server binaries (initdb) are not installed")
    as_postgres = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="haowu-pg-"))
    if as_postgres:
        try:
            import pwd

            user = pwd.getpwnam("postgres")
        except KeyError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise RuntimeError("running as root and there is no postgres user for initdb") from exc
        os.chown(folder, user.pw_uid, user.pw_gid)
    cluster = Cluster(bindir, folder, _free_port(), as_postgres)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster
