"""Team mode: a haowu database on DuckLake, its catalog in PostgreSQL, its data as Parquet
files in a shared folder (`--db ducklake:postgres:<conninfo> --data-path DIR`).

DuckDB's `ducklake` and `postgres_scanner` extensions come from their wheels (the `haowu[team]`
extra) and are loaded from those files; DuckDB never downloads or auto-loads anything.

What DuckLake lacks, and how haowu works around it (checked with DuckDB 1.5.5):
- no PRIMARY KEY or UNIQUE constraints: haowu's upserts never relied on them (they compare
  with the stored rows by key); the migrations run without them (`lake_script`);
- no sequences: a table `haowu_sequences` holds each counter, and taking a number updates its
  row (`next_value`). Since every import takes an import id, two imports at once always
  touch the same row, so DuckLake refuses the second at commit and it is run again on top of
  the first: two writers never store the same key twice;
- no user-defined (ENUM) types: those columns are VARCHAR on the lake;
- a transaction that conflicts with one committed meanwhile fails at COMMIT
  ("Transaction conflict …"): nothing of it was written; haowu runs the whole unit again
  (a file's import, a grading run, any other command's one transaction:
  `connection.retry_conflicts`, `connection.write_transaction`), for as long as
  `--lock-timeout` allows and at least 8 times.
"""

from __future__ import annotations

import importlib.util
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import _
from haowu_cli.store.connection import Store, migrate
from haowu_cli.store.memory import apply_memory_settings, memory_limit
from haowu_cli.store.sql import literal, quote, run, scalar

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "LAKE_PREFIX",
    "LakeStore",
    "is_lake",
    "is_lake_spec",
    "lake_script",
    "load_team_extensions",
    "next_value",
]

LAKE_PREFIX = "ducklake:"
LAKE_ALIAS = "lake"
SEQUENCES_TABLE = "haowu_sequences"
# The extensions team mode loads, by the wheel (Python package) that ships each.
_EXTENSIONS = (
    ("postgres_scanner", "duckdb_extension_postgres_scanner"),
    ("ducklake", "duckdb_extension_ducklake"),
)
_CONNECTION_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


def is_lake_spec(db: str | Path) -> bool:
    """Whether a `--db` value names a DuckLake (`ducklake:postgres:…`), not a file."""
    return str(db).startswith(LAKE_PREFIX)


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` works on a DuckLake (its current database is one)."""
    kind = scalar(
        con,
        "SELECT any_value(type) FROM duckdb_databases() WHERE database_name = current_database()",
    )
    return kind == "ducklake"


def _extension_file(name: str, package: str) -> Path:
    import duckdb

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise HaowuError(
            _("team mode needs DuckDB's {name} extension, which is not installed").format(
                name=name
            ),
            hint=_("install haowu's team extra: pip install 'haowu[team]'"),
        )
    path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}"
    path = path / f"{name}.duckdb_extension"
    if not path.is_file():
        raise HaowuError(
            _(
                "team mode: the installed {name} extension is not built for DuckDB "
                "{version} ({path} is missing)"
            ).format(name=name, version=duckdb.__version__, path=path),
            hint=_("install haowu's team extra again: pip install 'haowu[team]'"),
        )
    return path


def load_team_extensions(con: duckdb.DuckDBPyConnection) -> None:
    """Load `postgres_scanner` and `ducklake` from their wheels' files; nothing is fetched."""
    for name, package in _EXTENSIONS:
        path = _extension_file(name, package)
        run(con, f"LOAD {literal(path.as_posix())}")


_ENUM = re.compile(r"CREATE\s+TYPE\s+(\w+)\s+AS\s+ENUM\s*\(.*?\)\s*;", re.S | re.I)
_SEQUENCE = re.compile(r"CREATE\s+SEQUENCE\s+(\w+)\s+START\s+1\s*;", re.I)
_KEY = re.compile(r"\s+PRIMARY\s+KEY\b", re.I)


def lake_script(script: str, earlier: str = "") -> str:
    """A migration as DuckLake takes it: no PRIMARY KEY, ENUM columns as VARCHAR (those of
    the types it creates, and of those the migrations `earlier` created), each sequence a
    row of `haowu_sequences` (see the module's docstring)."""
    enums = _ENUM.findall(earlier) + _ENUM.findall(script)
    script = _ENUM.sub("", script)
    for name in enums:
        script = re.sub(rf"\b{name}\b", "VARCHAR", script)
    script = _SEQUENCE.sub(
        lambda m: f"INSERT INTO {SEQUENCES_TABLE} VALUES ('{m.group(1)}', 0);", script
    )
    return _KEY.sub("", script)


def create_sequences_table(con: duckdb.DuckDBPyConnection) -> None:
    """The table that stands in for sequences on a lake (before the first migration)."""
    run(
        con,
        f"CREATE TABLE IF NOT EXISTS {SEQUENCES_TABLE} "
        "(name VARCHAR NOT NULL, value BIGINT NOT NULL)",
    )


def next_value(con: duckdb.DuckDBPyConnection, sequence: str, count: int = 1) -> int:
    """The next number of a sequence (the first of `count` taken at once): DuckDB's own
    sequence on a file, the counter row in `haowu_sequences` on a lake."""
    if not is_lake(con):
        first: int = scalar(con, f"SELECT min(nextval('{sequence}')) FROM range(?)", [count])
        return first
    params = [count, sequence]
    run(con, f"UPDATE {SEQUENCES_TABLE} SET value = value + ? WHERE name = ?", params)
    last: int = scalar(con, f"SELECT value FROM {SEQUENCES_TABLE} WHERE name = ?", [sequence])
    return last - count + 1


def attach_lake(con: duckdb.DuckDBPyConnection, url: str, data_dir: str, alias: str) -> None:
    """ATTACH a lake (`ducklake:postgres:…`) with its data folder as `alias`."""
    run(con, f"ATTACH {literal(url)} AS {quote(alias)} (DATA_PATH {literal(data_dir)})")


def is_conflict(exc: BaseException) -> bool:
    """Whether DuckDB refused a commit because another transaction changed the same data."""
    import duckdb

    return isinstance(exc, duckdb.TransactionException) and "conflict" in str(exc).lower()


def _conninfo(spec: str) -> str:
    rest = spec[len(LAKE_PREFIX) :]
    if not rest.startswith("postgres:"):
        raise UsageError(
            _("--db {spec}: team mode takes ducklake:postgres:CONNINFO").format(spec=spec),
            hint=_("for example --db 'ducklake:postgres:dbname=haowu host=db.internal user=haowu'"),
        )
    return rest


def shown_spec(spec: str) -> str:
    """The `--db` value as messages show it: a password in the conninfo is hidden."""
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", spec)


class LakeStore(Store):
    """A haowu database on DuckLake. The same `write()` and `read()` as `Store`, without a
    lock file: writers on several machines work at once; DuckLake's snapshot transactions
    commit, or fail at commit on a conflict (`connection.TransactionConflict`)."""

    data_path: str

    def __init__(
        self, spec: str, data_path: str | Path | None, *, lock_timeout: float = 0.0
    ) -> None:
        self.spec = spec
        self.conninfo = _conninfo(spec)
        if data_path is None or not str(data_path):
            raise UsageError(
                _("--db {spec}: team mode needs the shared data folder").format(
                    spec=shown_spec(spec)
                ),
                hint=_("give --data-path DIR (or set HAOWU_DATA_PATH)"),
            )
        self.data_path = str(data_path)
        memory_limit()  # a HAOWU_MEMORY_LIMIT that is no size: said before anything starts
        self.path = Path(shown_spec(spec))  # for messages and the checks of output targets
        # No lock to wait for: how long a writer goes on retrying after conflicts
        # (`connection.retry_conflicts`), as `--lock-timeout` says.
        self.lock_timeout = lock_timeout

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def data_dir(self) -> str:
        """The shared data folder as DuckLake takes it (an absolute path, or a URL)."""
        if "://" in self.data_path:  # s3:// … where httpfs is available
            return self.data_path.rstrip("/") + "/"
        folder = Path(self.data_path)
        if not folder.is_dir():
            raise HaowuError(
                _("--data-path {path}: folder does not exist").format(path=folder),
                hint=_("create the shared folder, or mount it, then run this again"),
            )
        return str(folder.resolve()) + "/"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A connection with the lake attached as its current database."""
        import duckdb

        con = duckdb.connect(":memory:", config=_CONNECTION_CONFIG)
        try:
            run(con, "SET enable_progress_bar = false")
            # The same cap as on a file; spilling where HAOWU_TEMP_DIR says (the lake has no
            # file to spill beside).
            apply_memory_settings(con, None)
            load_team_extensions(con)
            data_dir = self.data_dir()
            try:
                attach_lake(con, LAKE_PREFIX + self.conninfo, data_dir, LAKE_ALIAS)
            except duckdb.Error as exc:
                raise HaowuError(
                    _("cannot open the team database {spec}: {exc}").format(
                        spec=shown_spec(self.spec), exc=str(exc).splitlines()[0]
                    ),
                    hint=_(
                        "check that PostgreSQL is running and the conninfo is right; "
                        "`haowu team init` creates the lake"
                    ),
                ) from exc
            run(con, f"USE {quote(LAKE_ALIAS)}")
        except BaseException:
            con.close()
            raise
        return con

    def exists(self) -> bool:
        from haowu_cli.store.schema import schema_version

        con = self.connect()
        try:
            return schema_version(con) > 0
        finally:
            con.close()

    @contextmanager
    def write(self, *, scratch: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection to the lake, schema up to date. `scratch` is for dry runs, which
        roll back what they do: on a lake without haowu's tables they get an empty database
        in memory instead of creating the tables."""
        import duckdb

        from haowu_cli.store.schema import schema_version

        con = self.connect()
        try:
            if scratch and schema_version(con) == 0:
                con.close()
                con = duckdb.connect(":memory:", config=_CONNECTION_CONFIG)
                apply_memory_settings(con, None)
            migrate(con)
            yield con
        finally:
            con.close()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        from haowu_cli.store.schema import SCHEMA_VERSION, known_schema_version

        con = self.connect()
        try:
            version = known_schema_version(con)
            if version == 0:
                raise HaowuError(
                    _("no haowu database at {path}").format(path=shown_spec(self.spec)),
                    hint=_("create it with haowu team init, or import a sheet first"),
                )
            if version < SCHEMA_VERSION:
                migrate(con)
            yield con
        finally:
            con.close()


def retry_pause(attempt: int) -> None:
    """Wait before another try after a conflict: longer each time, and spread out so that the
    writers that collided do not collide again."""
    import random

    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random()))
