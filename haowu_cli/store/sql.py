"""What every query module of the store uses: running a statement, reading a frame, quoting a
name, a query another module composed, and a record as one row of a table.

Values always travel as bound parameters (`?`, or `$name` with a dict); only identifiers
(table and column names haowu itself defines) are put into SQL text, through `quote`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from haowu_cli.i18n import _

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "Query",
    "quote",
    "run",
]

Params = Sequence[Any] | Mapping[str, Any]


@dataclass(frozen=True)
class Query:
    """A query composed outside the store (the grading model's, the commission split's) that
    the store runs as a subquery: its text holds no values, only `$name` parameters, whose
    values are `params`. The store binds its own values by name next to them."""

    sql: str
    params: Mapping[str, Any] = field(default_factory=dict)


def quote(name: str) -> str:
    """An identifier (a table or column name) as SQL: "name", inner quotes doubled."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A string as an SQL literal, inner quotes doubled: for the statements that take no
    parameters (ATTACH, LOAD) and the names a query's shape is built from (a column per
    party); values go in as parameters."""
    return "'" + text.replace("'", "''") + "'"


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Params | None = None) -> None:
    """Execute a statement whose result is not needed, and finish it: DuckDB 2 refuses the
    next statement on a connection while a result is unread."""
    (con.execute(sql) if params is None else con.execute(sql, params)).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Params | None = None) -> Any:
    """The first column of the first row of a query."""
    result = con.execute(sql) if params is None else con.execute(sql, params)
    return result.fetchall()[0][0]


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Params) -> pl.DataFrame:
    """A query's whole result as a Polars frame (the same call on DuckDB 1.5 and 2.x).

    Polars reads the result through the Arrow C stream interface; DuckDB's own `.pl()` goes
    through pyarrow, whose import alone costs a read command a third of its start-up."""
    import polars as pl

    return pl.DataFrame(con.sql(sql, params=params))


def variables_frame(
    con: duckdb.DuckDBPyConnection, sql: str, values: Mapping[str, Any]
) -> pl.DataFrame:
    """`frame` of a query that reads its values as `getvariable('name')`: each is bound (a
    parameter of `SET VARIABLE`) before the query runs without parameters. DuckDB 1.5's
    `sql()` with parameters materialises the whole result before Polars reads it: three times
    the time of this over 100,000 products (benchmarks/bench_match.py)."""
    import polars as pl

    for name, value in values.items():
        run(con, f"SET VARIABLE {quote(name)} = ?", [value])
    try:
        return pl.DataFrame(con.sql(sql))
    finally:
        for name in values:
            run(con, f"RESET VARIABLE {quote(name)}")


def one_record(con: duckdb.DuckDBPyConnection, sql: str, params: Params) -> dict[str, Any] | None:
    """The first row of a query as a dict by column name; None when there is none."""
    result = con.execute(sql, params)
    names, rows = [d[0] for d in result.description], result.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def insert_record(con: duckdb.DuckDBPyConnection, table: str, record: Mapping[str, Any]) -> None:
    """One row into `table`, its columns named by the record's keys."""
    names = ", ".join(quote(name) for name in record)
    marks = ", ".join("?" for _ in record)
    run(con, f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", list(record.values()))


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file open on `con`, for messages (asked only when something went wrong)."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    except duckdb.Error:
        return _("the database")
    return rows[0][0] if rows and rows[0][0] else _("the database")
