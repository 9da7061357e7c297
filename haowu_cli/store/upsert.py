"""The upsert engine: an import's parsed rows into their table by key, with the history of the
fields whose changes are kept, in slices so that a million stored rows never sit in memory at
once.

The store knows the table it writes as plain data (`UpsertTarget`): which sheet it is, the
ingest layer decides (`ingest.columns.Kind.target`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from haowu_cli.store.lake import next_value
from haowu_cli.store.sql import insert_record, quote, run, scalar

if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    import duckdb
    import polars as pl

__all__ = [
    "ImportCounts",
    "UpsertColumn",
    "UpsertTarget",
    "apply_rows",
    "next_import_id",
    "record_import",
]

UPSERT_SLICE_ROWS = 1_000_000  # rows compared with the stored ones at a time


@dataclass(frozen=True)
class UpsertColumn:
    """One field an import may carry: its name in the incoming frame, the stored column, the
    SQL that turns the staged value into the stored one (`{}`: the incoming column)."""

    name: str
    column: str
    stored: str = "{}"


@dataclass(frozen=True)
class UpsertTarget:
    """A table an import writes: keyed by `key`, owned by the merchant in `owner` (a row never
    changes owner through an import), with the changes of the `tracked` columns (by name)
    going to `history_table`."""

    table: str
    key: str
    columns: tuple[UpsertColumn, ...]
    owner: str | None = None
    tracked: tuple[str, ...] = ()
    history_table: str = ""


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int
    conflicts: list[tuple[int, str, str]]  # (row, key, owner in the database)


def apply_rows(
    con: duckdb.DuckDBPyConnection,
    target: UpsertTarget,
    rows: pl.DataFrame,
    *,
    import_id: int,
) -> ImportCounts:
    """Upsert parsed rows into the target's table by its key; keep history of tracked fields.

    `rows` holds `_row`, the key, and the staged values of the fields the sheet had. Fields
    the sheet did not have keep their stored values. A row whose key belongs to another owner
    (merchant) in the database is not applied: it comes back in `conflicts`, since a product
    never changes merchant through an import. Call inside a transaction.
    """
    present = [c for c in target.columns if c.name in rows.columns]
    # The sheet's values as they are stored, read straight from the Polars frame (Arrow).
    stored = [f"{c.stored.format(quote(c.name))} AS {quote(c.column)}" for c in present]
    if "extra" in rows.columns:
        stored.append("extra")
    incoming = _Incoming(con, rows, f"(SELECT _row, {', '.join(stored)} FROM {_ROWS})")
    return _apply_incoming(con, target, present, import_id, "extra" in rows.columns, incoming)


_ROWS = "haowu_incoming_rows"  # the name the incoming frame is read by: see `_Incoming.fetch`


@dataclass(frozen=True)
class _Incoming:
    """The rows an import writes, for the statements that read them (`sql`: a subquery of
    `_row` and the stored columns).

    The frame is read where it stands, by name, never `con.register`ed: DuckDB keeps a
    registered frame alive until the transaction ends, `unregister` or not, so a file
    written in parts (one transaction) held every part's rows in memory until its commit.
    """

    con: duckdb.DuckDBPyConnection
    rows: pl.DataFrame
    sql: str

    def fetch(self, statement: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row of `statement`, which reads the rows as `self.sql`."""
        # DuckDB's replacement scan finds a frame by its name among the variables of the
        # function that runs the statement: this one.
        haowu_incoming_rows = self.rows  # noqa: F841
        if params is None:
            return self.con.execute(statement).fetchall()
        return self.con.execute(statement, params).fetchall()

    def scalar(self, statement: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.fetch(statement, params)[0][0]


def _apply_incoming(
    con: duckdb.DuckDBPyConnection,
    target: UpsertTarget,
    present: list[UpsertColumn],
    import_id: int,
    has_extra: bool,
    incoming: _Incoming,
) -> ImportCounts:
    table, key = quote(target.table), quote(target.key)
    conflicts: list[tuple[int, str, str]] = []
    if target.owner and any(c.name == target.owner for c in present):
        owner = quote(target.owner)
        conflicts = incoming.fetch(
            f"SELECT s._row, s.{key}, t.{owner} FROM {incoming.sql} s JOIN {table} t "
            f"USING ({key}) WHERE t.{owner} <> s.{owner} ORDER BY s._row"
        )
    run(con, f"CREATE OR REPLACE TEMP TABLE conflicting ({key} VARCHAR)")
    if conflicts:
        con.executemany("INSERT INTO conflicting VALUES (?)", [[k] for _, k, _ in conflicts])
    applicable = f"s.{key} NOT IN (SELECT {key} FROM conflicting)"

    value_columns = [quote(c.column) for c in present if c.name != target.key]
    if has_extra:
        value_columns.append("extra")
    by_name = {c.name: c for c in present}
    tracked = [by_name[name] for name in target.tracked if name in by_name]
    total: int = incoming.scalar(f"SELECT count(*) FROM {incoming.sql} s")
    # Comparing every column of more than a million stored rows at once would hold them all
    # in memory: slices by key hash keep that to a million rows. Each slice reads the whole
    # table and sheet again (a quarter million a slice made re-importing a million-row sheet
    # slower than importing it), so up to a million there is one. New rows need no slicing.
    matched: int = incoming.scalar(
        f"SELECT count(*) FROM {incoming.sql} s SEMI JOIN {table} t USING ({key})"
    )
    slices = max(1, -(-matched // UPSERT_SLICE_ROWS))
    columns = [quote(c.column) for c in present] + (["extra"] if has_extra else [])
    updated = 0
    for part in range(slices):
        params: dict[str, Any] = {"import_id": import_id}
        in_slice, stored = "TRUE", table
        if slices > 1:
            in_slice = f"hash(s.{key}) % $slices = $part"
            stored = f"(SELECT * FROM {table} WHERE hash({key}) % $slices = $part)"
            params |= {"slices": slices, "part": part}
        updated += _update_changed(
            con,
            target,
            value_columns,
            tracked,
            incoming,
            stored=stored,
            where=f"{in_slice} AND {applicable}",
            params=params,
        )
    # The new rows, in one pass that needs only the stored keys (none when every key is
    # stored already, as in a re-import).
    inserted = 0
    if matched < total:
        inserted = incoming.scalar(
            f"INSERT INTO {table} ({', '.join(columns)}, created_import_id, updated_import_id) "
            f"SELECT {', '.join('s.' + c for c in columns)}, $import_id, $import_id "
            f"FROM {incoming.sql} s ANTI JOIN {table} t USING ({key})",
            {"import_id": import_id},
        )
    run(con, "DROP TABLE conflicting")
    return ImportCounts(
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated - len(conflicts),
        conflicts=conflicts,
    )


def _update_changed(
    con: duckdb.DuckDBPyConnection,
    target: UpsertTarget,
    value_columns: list[str],
    tracked: list[UpsertColumn],
    incoming: _Incoming,
    *,
    stored: str,
    where: str,
    params: Mapping[str, Any],
) -> int:
    """Update the stored rows (of the `stored` slice) whose values differ from the incoming
    ones (among `where`), recording the changes of tracked fields first. Returns how many
    rows changed. `params` holds `import_id` and the slice's parameters."""
    table, key = quote(target.table), quote(target.key)
    slice_params = {k: v for k, v in params.items() if k != "import_id"}
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM t.{c}" for c in value_columns) or "FALSE"
    incoming.fetch(
        f"CREATE OR REPLACE TEMP TABLE changed AS SELECT s.* FROM {incoming.sql} s "
        f"JOIN {stored} t USING ({key}) WHERE ({differs}) AND {where}",
        slice_params or None,
    )
    updated: int = scalar(con, "SELECT count(*) FROM changed")
    if updated and tracked:
        history = " UNION ALL ".join(
            f"SELECT $import_id, s.{key}, $field_{i}, CAST(t.{quote(c.column)} AS VARCHAR), "
            f"CAST(s.{quote(c.column)} AS VARCHAR) FROM changed s JOIN {table} t "
            f"USING ({key}) WHERE s.{quote(c.column)} IS DISTINCT FROM t.{quote(c.column)}"
            for i, c in enumerate(tracked)
        )
        fields = {f"field_{i}": c.name for i, c in enumerate(tracked)}
        run(
            con,
            f"INSERT INTO {quote(target.history_table)} {history}",
            {"import_id": params["import_id"], **fields},
        )
    if updated:
        assignments = ", ".join(f"{c} = s.{c}" for c in value_columns)
        run(
            con,
            f"UPDATE {table} t SET {assignments}, updated_import_id = $import_id "
            f"FROM changed s WHERE t.{key} = s.{key}",
            {"import_id": params["import_id"]},
        )
    run(con, "DROP TABLE changed")
    return updated


def next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    return next_value(con, "import_id_seq")


def record_import(con: duckdb.DuckDBPyConnection, record: Mapping[str, Any]) -> None:
    insert_record(con, "imports", record)
