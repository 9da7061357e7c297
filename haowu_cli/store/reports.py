"""What the reports read: a session's orders, merchants' GMV by month, grade counts and moves.

The reports build their pages from these frames; they never see SQL.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from haowu_cli.store.grades import grade_floor, latest_on
from haowu_cli.store.sql import frame

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "grade_counts",
    "grade_moves",
    "grading_dates",
    "merchant_names",
    "monthly_gmv",
    "session_ids",
    "session_orders",
]

# Refunded fen of an order: all of an invalid (refunded, cancelled) one, else its refund.
REFUNDED_FEN = (
    "CASE WHEN status = 'invalid' THEN paid_amount_fen "
    "ELSE least(coalesce(refund_amount_fen, 0), paid_amount_fen) END"
)


def session_orders(
    con: duckdb.DuckDBPyConnection,
    *,
    session_id: str | None = None,
    anchor_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> pl.DataFrame:
    """A session's orders per product: by 专场ID (`session_id`) when given, else the
    anchor's orders paid from `start` to `end`. `orders` counts every order, `units` its
    quantity (1 when the sheet gave none), `gmv_fen` the paid amounts, `refund_fen` what was
    refunded; with the product's title, merchant and category."""
    params: list[Any]
    if session_id is not None:
        where, params = "o.session_id = ?", [session_id]
    else:
        where, params = "o.anchor_id = ? AND o.paid_at BETWEEN ? AND ?", [anchor_id, start, end]
    return frame(
        con,
        f"""
        SELECT o.product_id, any_value(p.title) AS title,
               coalesce(any_value(o.merchant_id), any_value(p.merchant_id)) AS merchant_id,
               coalesce(any_value(o.category_l1), any_value(p.category_l1)) AS category_l1,
               count(*) AS orders, CAST(sum(coalesce(o.quantity, 1)) AS BIGINT) AS units,
               CAST(sum(o.paid_amount_fen) AS BIGINT) AS gmv_fen,
               CAST(sum({REFUNDED_FEN}) AS BIGINT) AS refund_fen
        FROM orders o LEFT JOIN products p USING (product_id)
        WHERE {where}
        GROUP BY o.product_id ORDER BY o.product_id
        """,
        params,
    )


def session_ids(
    con: duckdb.DuckDBPyConnection, anchor_id: str, start: date, end: date
) -> list[tuple[str | None, int]]:
    """The 专场IDs of an anchor's orders paid from `start` to `end`, with their orders (null
    for orders without one), the most orders first."""
    return con.execute(
        "SELECT session_id, count(*) AS orders FROM orders "
        "WHERE anchor_id = ? AND paid_at BETWEEN ? AND ? GROUP BY ALL ORDER BY 2 DESC, 1",
        [anchor_id, start, end],
    ).fetchall()


def merchant_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each merchant's name as its products give it (the most recent sheet's)."""
    return frame(
        con,
        "SELECT merchant_id, arg_max(merchant_name, updated_import_id) AS merchant_name "
        "FROM products GROUP BY merchant_id ORDER BY merchant_id",
        [],
    )


def monthly_gmv(con: duckdb.DuckDBPyConnection, *, net: bool) -> pl.DataFrame:
    """GMV per merchant and month (`month`: the first day), from every order with a paid
    date: paid amounts, or paid − refunded (`net`); with the orders counted. An order
    without a merchant takes its product's; those with neither have a null merchant."""
    amount = f"paid_amount_fen - ({REFUNDED_FEN})" if net else "paid_amount_fen"
    return frame(
        con,
        f"""
        SELECT coalesce(o.merchant_id, p.merchant_id) AS merchant_id,
               CAST(date_trunc('month', o.paid_at) AS DATE) AS month,
               count(*) AS orders, CAST(sum({amount}) AS BIGINT) AS gmv_fen
        FROM orders o LEFT JOIN products p USING (product_id)
        WHERE o.paid_at IS NOT NULL
        GROUP BY ALL ORDER BY ALL
        """,
        [],
    )


GRADES_WITH_PREVIOUS = f"""
    SELECT g.product_id, p.merchant_id, p.title, p.category_l1, p.category_l2, p.category_l3,
           g.level, prev.as_of AS previous_as_of, prev.level AS previous_level
    FROM grades g LEFT JOIN products p USING (product_id)
    LEFT JOIN (SELECT product_id, max(as_of) AS as_of, arg_max(level, as_of) AS level
               FROM grades WHERE as_of < $as_of AND as_of >= {grade_floor("$as_of", before=True)}
               GROUP BY product_id) prev USING (product_id)
    WHERE g.as_of = $as_of
"""
# The same when the date is every graded product's latest (`latest_on`), as it is after each
# night's grading: read from `latest_grades`, with no search of the history.
LATEST_WITH_PREVIOUS = """
    SELECT l.product_id, p.merchant_id, p.title, p.category_l1, p.category_l2, p.category_l3,
           l.level, l.previous_as_of, l.previous_level
    FROM latest_grades l LEFT JOIN products p USING (product_id)
    WHERE l.as_of = $as_of
"""


def grades_with_previous(con: duckdb.DuckDBPyConnection, as_of: date) -> str:
    """SQL for the products graded on `as_of` with each one's previous grade (`$as_of`)."""
    return LATEST_WITH_PREVIOUS if latest_on(con, as_of) else GRADES_WITH_PREVIOUS


# A category down to a level (1, 2 or 3) as one text: `美妆`, `美妆>护肤`, `美妆>护肤>面霜`;
# a product without a category at that level stops at its deepest (`美妆>护肤`).
CATEGORY_PATHS = {
    1: "category_l1",
    2: "CASE WHEN category_l2 IS NULL THEN category_l1 "
    "ELSE concat_ws('>', category_l1, category_l2) END",
    3: "CASE WHEN category_l2 IS NULL THEN category_l1 "
    "WHEN category_l3 IS NULL THEN concat_ws('>', category_l1, category_l2) "
    "ELSE concat_ws('>', category_l1, category_l2, category_l3) END",
}


def grade_counts(
    con: duckdb.DuckDBPyConnection, as_of: date, *, category_level: int = 1
) -> pl.DataFrame:
    """Products graded on a date per category, level and previous level (each product's
    latest grade before that date; null for a first grade), with the latest earlier date.
    The category (`category`) is the path down to `category_level` (`CATEGORY_PATHS`)."""
    return frame(
        con,
        f"""
        SELECT {CATEGORY_PATHS[category_level]} AS category, level, previous_level,
               count(*) AS products,
               max(previous_as_of) AS previous_as_of
        FROM ({grades_with_previous(con, as_of)}) GROUP BY ALL ORDER BY ALL
        """,
        {"as_of": as_of},
    )


def grade_moves(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """The products whose level on a date differs from their previous grade."""
    return frame(
        con,
        f"""
        SELECT * FROM ({grades_with_previous(con, as_of)})
        WHERE previous_level IS NOT NULL AND previous_level <> level ORDER BY product_id
        """,
        {"as_of": as_of},
    )


def grading_dates(con: duckdb.DuckDBPyConnection) -> list[date]:
    """The dates with grades, from the newest (future ones included: callers pick)."""
    # The runs' dates, and each product's latest two from `latest_grades` (grades written
    # without a run, by hand): not a scan of every grade ever stored.
    sql = (
        "SELECT as_of FROM grade_runs UNION SELECT as_of FROM latest_grades "
        "UNION SELECT previous_as_of FROM latest_grades WHERE previous_as_of IS NOT NULL "
        "ORDER BY 1 DESC"
    )
    return [r[0] for r in con.execute(sql).fetchall()]
