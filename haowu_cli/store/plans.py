"""Session plans (排品): what the planner reads, and the plans and run sheets it saves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from haowu_cli.store.grades import LATEST_GRADES, latest_grades_params
from haowu_cli.store.lake import next_value
from haowu_cli.store.sql import (
    frame,
    insert_record,
    one_record,
    quote,
    run,
    variables_frame,
)

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "PLAN_ITEM_COLUMNS",
    "RUN_SHEET_COLUMNS",
    "plan_item_details",
    "plan_items",
    "plan_record",
    "planning_products",
    "query_plans",
    "save_plan",
]

# The stored run sheet of a plan, one row per product, in `plan_items`: the columns a
# planner's items frame holds, in this order.
RUN_SHEET_COLUMNS = (
    "session",
    "anchor_id",
    "session_date",
    "position",
    "start_minute",
    "start",
    "product_id",
    "merchant_id",
    "title",
    "category_l1",
    "role",
    "live_price_fen",
    "mechanism",
    "commission_rate",
    "service_fee_rate",
    "stock",
    "minutes",
    "expected_units",
    "expected_gmv_fen",
    "commission_fen",
    "team_income_fen",
    "objective_fen",
    "note",
)
PLAN_ITEM_COLUMNS = ("plan_id", *RUN_SHEET_COLUMNS)


def planning_products(
    con: duckdb.DuckDBPyConnection, *, today: date | None = None, activity: str | None = None
) -> pl.DataFrame:
    """What the planner reads of every product: its latest level (not after `today`), and its
    sales strength, the share of products of its category_l1 that sold no more in 30 days
    (0–1]. With `activity`: only the products the activity passed (审核 通过), at the
    activity's price, stock, rates and mechanism where the application gave them."""
    from haowu_cli.store.activities import LATEST_DECISIONS

    # The values are bound as variables (`variables_frame`): 3 × faster than parameters here.
    today_value = latest_grades_params(today)[0]
    grades = LATEST_GRADES.replace("?", "getvariable('haowu_today')")
    source = "products"
    values: dict[str, Any] = {"haowu_today": today_value}
    if activity is not None:
        decisions = LATEST_DECISIONS.replace("$activity_id", "getvariable('haowu_activity')")
        source = f"""(
            SELECT p.* REPLACE (
                coalesce(a.activity_price_fen, p.live_price_fen) AS live_price_fen,
                coalesce(a.commission_rate, p.commission_rate) AS commission_rate,
                coalesce(a.service_fee_rate, p.service_fee_rate) AS service_fee_rate,
                coalesce(a.stock, p.stock) AS stock,
                coalesce(a.sample, p.sample) AS sample,
                coalesce(a.mechanism, p.mechanism) AS mechanism)
            FROM products p JOIN applications a USING (product_id)
            JOIN ({decisions}) d USING (activity_id, product_id)
            WHERE a.activity_id = getvariable('haowu_activity') AND d.status = 'passed')"""
        values["haowu_activity"] = activity
    import polars as pl

    products = variables_frame(
        con,
        f"""
        SELECT p.product_id, p.merchant_id, p.title, p.brand, p.category_l1, p.category_l2,
               p.category_l3, p.listed_at,
               p.live_price_fen, p.commission_rate, p.service_fee_rate, p.stock, p.sample,
               p.mechanism, g.level, coalesce(p.sales_30d, 0) AS _sales
        FROM {source} p LEFT JOIN ({grades}) g USING (product_id)
        ORDER BY p.product_id
        """,
        values,
    )
    # cume_dist() over the category, in Polars: DuckDB's window carried every column through
    # its sort (a third of the query's time at 100,000 products).
    by_category = pl.col("_sales").rank("max").over("category_l1") / pl.len().over("category_l1")
    return products.with_columns(by_category.alias("sales_strength")).drop("_sales")


def save_plan(
    con: duckdb.DuckDBPyConnection, record: Mapping[str, Any], items: pl.DataFrame
) -> int:
    """Store a plan and its run sheets; returns the new plan ID. Within the caller's
    transaction (`write_transaction`), so that a plan never goes in without its sheets."""
    columns = ", ".join(quote(c) for c in RUN_SHEET_COLUMNS)
    plan_id = next_value(con, "plan_id_seq")
    insert_record(con, "plans", {"plan_id": plan_id} | dict(record))
    con.register("plan_items_frame", items)
    try:
        run(
            con,
            f"INSERT INTO plan_items (plan_id, {columns}) "
            f"SELECT ?, {columns} FROM plan_items_frame",
            [plan_id],
        )
    finally:
        con.unregister("plan_items_frame")
    return plan_id


def query_plans(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every saved plan, newest first, with its sessions' anchors and dates."""
    return frame(
        con,
        """
        SELECT p.plan_id, p.created_at, p.status, p.objective, p.objective_fen,
               string_agg(DISTINCT i.anchor_id, ', ' ORDER BY i.anchor_id) AS anchors,
               min(i.session_date) AS first_date, count(DISTINCT i.session) AS sessions,
               count(i.product_id) AS products
        FROM plans p LEFT JOIN plan_items i USING (plan_id)
        GROUP BY ALL ORDER BY p.plan_id DESC
        """,
        [],
    )


def plan_record(con: duckdb.DuckDBPyConnection, plan_id: int) -> dict[str, Any] | None:
    return one_record(con, "SELECT * FROM plans WHERE plan_id = ?", [plan_id])


def plan_items(con: duckdb.DuckDBPyConnection, plan_id: int) -> pl.DataFrame:
    columns = ", ".join(quote(c) for c in PLAN_ITEM_COLUMNS)
    return frame(
        con,
        f"SELECT {columns} FROM plan_items WHERE plan_id = ? ORDER BY session, position",
        [plan_id],
    )


def plan_item_details(con: duckdb.DuckDBPyConnection, plan_id: int) -> pl.DataFrame:
    """What the run sheet workbook shows of a plan's products beyond the stored run sheet,
    as the products are now: list price (划线价), sample (样品), merchant name, the sheet's
    other columns (`extra`, JSON), and the anchor's name. One row per plan item's product
    (a product deleted since is left out: the workbook shows it without these)."""
    return frame(
        con,
        """
        SELECT DISTINCT i.session, i.product_id, p.list_price_fen, p.sample, p.merchant_name,
               p.extra, a.name AS anchor_name
        FROM plan_items i
        LEFT JOIN products p USING (product_id)
        LEFT JOIN anchors a ON a.anchor_id = i.anchor_id
        WHERE i.plan_id = ?
        ORDER BY i.session, i.product_id
        """,
        [plan_id],
    )
