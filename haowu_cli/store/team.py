"""Moving a haowu database between a local file and a team lake: `team push` (file → lake)
and `team pull` (lake → new file). Every table is copied in one transaction on the receiving
side, the counters (sequences) go along, and the rows of every table are counted on both
sides afterwards: a copy that does not match is reported, never passed off as done.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from haowu_cli.errors import HaowuError
from haowu_cli.i18n import _
from haowu_cli.store.connection import Store, migrate, retry_conflicts, transaction
from haowu_cli.store.lake import (
    SEQUENCES_TABLE,
    LakeStore,
    literal,
    load_team_extensions,
    shown_spec,
)
from haowu_cli.store.ledger import SHARES
from haowu_cli.store.schema import SCHEMA_VERSION, known_schema_version
from haowu_cli.store.sql import quote, run, scalar

if TYPE_CHECKING:
    import duckdb

__all__ = ["TableCopy", "init_lake", "pull_lake", "push_to_lake"]

_NOT_COPIED = {"meta", SEQUENCES_TABLE}  # written by the receiving side's own schema
SHARE_TOTAL = " + ".join(column for column, _account, _item in SHARES)


@dataclass(frozen=True)
class TableCopy:
    """One table copied: its rows on each side, and its money column's sum where it has one."""

    table: str
    source_rows: int
    copied_rows: int
    source_fen: int | None = None
    copied_fen: int | None = None

    @property
    def matches(self) -> bool:
        return self.source_rows == self.copied_rows and self.source_fen == self.copied_fen


def init_lake(lake: LakeStore) -> int:
    """Create the haowu schema on the lake (or bring it up to date); its version. Two
    machines running it at once: the second's commit is refused and it runs again."""

    def once() -> int:
        with lake.write() as con:
            return known_schema_version(con)

    return retry_conflicts(once, patience=lake.lock_timeout)


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
        "AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name",
        [database],
    ).fetchall()
    return [r[0] for r in rows if r[0] not in _NOT_COPIED]


def _holds_data(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The tables of `database` that hold rows."""
    return [
        t
        for t in _tables(con, database)
        if scalar(con, f"SELECT count(*) FROM {quote(database)}.{quote(t)}")
    ]


def _copy(
    con: duckdb.DuckDBPyConnection, source: str, target: str, tables: list[str]
) -> list[TableCopy]:
    """Every table from `source` into `target`, in one transaction, then counted."""
    with transaction(con):
        for table in tables:
            run(
                con,
                f"INSERT INTO {quote(target)}.{quote(table)} BY NAME "
                f"SELECT * FROM {quote(source)}.{quote(table)}",
            )
    result = []
    for table in tables:

        def count(database: str, table: str = table) -> tuple[int, int | None]:
            name = f"{quote(database)}.{quote(table)}"
            rows: int = scalar(con, f"SELECT count(*) FROM {name}")
            fen = None
            if table == "ledger_postings":  # every share of every posting
                fen = int(scalar(con, f"SELECT coalesce(sum({SHARE_TOTAL}), 0) FROM {name}"))
            return rows, fen

        (src_rows, src_fen), (dst_rows, dst_fen) = count(source), count(target)
        result.append(TableCopy(table, src_rows, dst_rows, src_fen, dst_fen))
    return result


def _lake_alias(con: duckdb.DuckDBPyConnection, lake: LakeStore, alias: str) -> None:
    from haowu_cli.store.lake import LAKE_PREFIX, attach_lake

    load_team_extensions(con)
    attach_lake(con, LAKE_PREFIX + lake.conninfo, lake.data_dir(), alias)


def push_to_lake(local: Store, lake: LakeStore) -> list[TableCopy]:
    """Every row of a local haowu file into an empty lake (its schema created if missing).
    The local file is held (its lock) and only read; it stays as it was."""
    if not local.exists():
        raise HaowuError(_("no haowu database at {path}").format(path=local.path))
    init_lake(lake)
    with local.write() as con:  # the lock: no local writer changes it meanwhile
        source = scalar(con, "SELECT current_database()")
        _lake_alias(con, lake, "team_lake")
        lake_version = scalar(con, "SELECT value FROM team_lake.meta WHERE key = 'schema_version'")
        if int(lake_version) != SCHEMA_VERSION:
            raise HaowuError(
                _("the lake has schema version {version}, this haowu writes {ours}").format(
                    version=lake_version, ours=SCHEMA_VERSION
                )
            )
        full = _holds_data(con, "team_lake")
        if full:
            raise HaowuError(
                _("{spec} already holds data (tables: {tables}): nothing was pushed").format(
                    spec=shown_spec(lake.spec), tables=", ".join(full)
                ),
                hint=_("push into a new, empty lake (haowu team init on a new database)"),
            )
        # The last number each counter gave. A sequence read from a file (none is used in
        # this connection) shows as `start_value` the next number it will give, and as
        # `last_value` that same number (NULL if never used): the last given is one less.
        sequences = con.execute(
            "SELECT sequence_name, start_value - 1 FROM duckdb_sequences() WHERE database_name = ?",
            [source],
        ).fetchall()
        copies = _copy(con, source, "team_lake", _tables(con, source))
        with transaction(con):
            for name, value in sequences:
                run(
                    con,
                    f"UPDATE team_lake.{SEQUENCES_TABLE} SET value = ? WHERE name = ?",
                    [value, name],
                )
        run(con, "DETACH team_lake")
    return copies


def pull_lake(lake: LakeStore, target: Path) -> list[TableCopy]:
    """Every row of the lake into a new local haowu file (which must not exist yet)."""
    if target.exists() or target.is_symlink():
        raise HaowuError(
            _("{path} exists: pull writes a new file only").format(path=target),
            hint=_("name a file that does not exist yet with --to"),
        )
    if not target.parent.is_dir():
        raise HaowuError(
            _("{path}: folder {parent} does not exist").format(path=target, parent=target.parent)
        )
    with lake.read() as con:
        if known_schema_version(con) != SCHEMA_VERSION:
            raise HaowuError(_("the lake's schema is not this haowu's: run haowu team init"))
        counters = con.execute(f"SELECT name, value FROM {SEQUENCES_TABLE}").fetchall()
        run(con, f"ATTACH {literal(str(target))} AS pulled")
        try:
            run(con, "USE pulled")
            migrate(con)
            copies = _copy(con, "lake", "pulled", _tables(con, "lake"))
            with transaction(con):
                for name, value in counters:
                    run(con, f"DROP SEQUENCE {quote(name)}")
                    run(con, f"CREATE SEQUENCE {quote(name)} START {int(value) + 1}")
            run(con, "USE lake")
            run(con, "DETACH pulled")
        except BaseException:
            con.close()  # the new file is half made: it goes
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
            raise
    return copies
