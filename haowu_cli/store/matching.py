"""What matching (`haowu match anchors`) reads beyond products and anchors: each anchor's
history with a merchant's categories and goods, from the imported orders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from haowu_cli.store.sql import frame

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["anchor_history"]


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
