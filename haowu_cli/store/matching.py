"""What matching (`haowu match products`, `haowu match anchors`) reads: the products as the
scoring reads them, each anchor's history with a merchant's categories and goods (from the
imported orders), and a scoring query's result."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from haowu_cli.store.grades import grade_floor, latest_grades_params
from haowu_cli.store.sql import Query, frame

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["MATCH_PRODUCTS", "anchor_history", "match_query"]


def anchor_history(
    con: duckdb.DuckDBPyConnection, categories: Sequence[str], merchant_id: str, *, until: date
) -> pl.DataFrame:
    """Per anchor with orders paid up to `until` (invalid ones left out): `sessions` and
    `orders` in these category_l1s, and `merchant_orders` of this merchant's goods. A session
    is a 专场ID; orders without one count one session per payment day."""
    return frame(
        con,
        """
        SELECT anchor_id,
               count(DISTINCT coalesce(session_id, CAST(paid_at AS VARCHAR)))
                   FILTER (WHERE list_contains(?, category_l1)) AS sessions,
               count(*) FILTER (WHERE list_contains(?, category_l1)) AS orders,
               count(*) FILTER (WHERE merchant_id = ?) AS merchant_orders
        FROM orders
        WHERE anchor_id IS NOT NULL AND status <> 'invalid' AND (paid_at IS NULL OR paid_at <= ?)
        GROUP BY anchor_id
        ORDER BY anchor_id
        """,
        [list(categories), list(categories), merchant_id, until],
    )


# What `haowu match` scores, one row per product: the columns the expected-sales model reads
# (`planner/sql_model.py`), the latest level (not after `$m_today`; `LATEST_GRADES`' search)
# and the sales strength (`planning_products`' share of the category_l1's products that sold
# no more in 30 days, here counted per distinct sales figure rather than sorted per product),
# plus the dates 潜力好货 reads. A relation for a query the planner composes (`match_query`).
MATCH_PRODUCTS = f"""(
    WITH sold AS (
        SELECT category_l1, coalesce(sales_30d, 0) AS _sales, count(*) AS _n
        FROM products GROUP BY ALL),
    strength AS (
        SELECT category_l1, _sales,
               CAST(sum(_n) OVER (PARTITION BY category_l1 ORDER BY _sales) AS DOUBLE)
               / CAST(sum(_n) OVER (PARTITION BY category_l1) AS DOUBLE) AS sales_strength
        FROM sold),
    latest AS (
        SELECT product_id, arg_max(level, as_of) AS level FROM grades
        WHERE as_of <= $m_today AND as_of >= {grade_floor("$m_today")} GROUP BY product_id)
    SELECT p.product_id, p.merchant_id, p.brand, p.category_l1, p.category_l2, p.category_l3,
           p.listed_at, p.joined_at, p.live_price_fen, p.commission_rate, p.service_fee_rate,
           p.stock, p.sample, g.level, s.sales_strength
    FROM products p LEFT JOIN latest g USING (product_id)
    JOIN strength s ON s.category_l1 IS NOT DISTINCT FROM p.category_l1
                   AND s._sales = coalesce(p.sales_30d, 0))"""


def match_query(
    con: duckdb.DuckDBPyConnection, query: Query, *, today: date | None
) -> pl.DataFrame:
    """The result of a matching query (`query.sql` reads `{products}`, `MATCH_PRODUCTS`, and
    `{anchors}`, the stored anchors) as a frame. Only its result comes to Python: a scoring pass
    over a million products returns the best few."""
    sql = query.sql.replace("{products}", MATCH_PRODUCTS).replace("{anchors}", "anchors")
    return frame(con, sql, {**query.params, "m_today": latest_grades_params(today)[0]})
