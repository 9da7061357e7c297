"""Products and anchors (达人) as they are listed and looked up."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from haowu_cli.store.grades import LATEST_GRADES, latest_grades_params
from haowu_cli.store.sql import frame, one_record

if TYPE_CHECKING:
    import duckdb
    import polars as pl


__all__ = [
    "anchor_row",
    "query_anchors",
    "query_products",
]


def query_products(
    con: duckdb.DuckDBPyConnection,
    *,
    merchant: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    today: date | None = None,
) -> pl.DataFrame:
    """Products matching the filters, in a stable order (merchant, product), with their
    latest grade as of `today` (default: `dates.today()`). `category` is a category at any
    level (一级, 二级 or 三级类目), or a path `A>B>C` from the first level down."""
    where, params = ["TRUE"], list[Any]()
    if merchant:
        where.append("p.merchant_id = ?")
        params.append(merchant)
    path = [part.strip() for part in (category or "").replace("＞", ">").split(">")]
    path = path[:2] + [">".join(path[2:])] if len(path) > 3 else path  # as imports keep it
    if category and len(path) > 1:
        for level, part in zip(("category_l1", "category_l2", "category_l3"), path, strict=False):
            where.append(f"p.{level} = ?")
            params.append(part)
    elif category:
        where.append("(p.category_l1 = ? OR p.category_l2 = ? OR p.category_l3 = ?)")
        params += [category, category, category]
    if search:
        where.append("(p.title ILIKE ? OR p.brand ILIKE ? OR p.product_id = ?)")
        params += [f"%{search}%", f"%{search}%", search]
    # The latest grade of each product rides along (level and total score).
    sql = (
        f"SELECT p.*, g.level, g.total_score FROM products p LEFT JOIN ({LATEST_GRADES}) g "
        f"USING (product_id) WHERE {' AND '.join(where)} ORDER BY p.merchant_id, p.product_id"
    )
    params = [*latest_grades_params(today), *params]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return frame(con, sql, params)


def query_anchors(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every anchor (达人), by ID."""
    return frame(con, "SELECT * FROM anchors ORDER BY anchor_id", [])


def anchor_row(con: duckdb.DuckDBPyConnection, anchor_id: str) -> dict[str, Any] | None:
    return one_record(con, "SELECT * FROM anchors WHERE anchor_id = ?", [anchor_id])
