"""What `haowu live` reads of a session in progress: its orders so far, per product."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from haowu_cli.store.sql import frame

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["live_orders"]


def live_orders(
    con: duckdb.DuckDBPyConnection,
    *,
    anchor_id: str,
    session_date: date,
    start: datetime,
    at: datetime,
    recent_from: datetime,
) -> pl.DataFrame:
    """The session's orders so far, one row per product: `orders`, `units`, `gmv_fen`
    (paid, invalid orders left out), `refund_fen`, `refunds` (orders refunded in part or
    whole, or closed), `recent_orders` (timed orders paid from `recent_from` to `at`),
    `untimed_orders` (orders that only know their day), `first_paid`, `last_paid`,
    `service_fee_rate` (the orders' own, else the product's), `title` (the product's) and
    `known` (the product is in the database).

    An order is the session's when it is the anchor's (or names no anchor) and was paid from
    `start` to `at`, or, where only the day of payment is known (haowu's own order sheets),
    on the session's day: those are counted as paid by `at`."""
    return frame(
        con,
        """
        WITH o AS (
            SELECT o.*, coalesce(o.quantity, 1) AS units
            FROM orders o
            WHERE (o.anchor_id = ? OR o.anchor_id IS NULL)
              AND ((o.paid_time >= ? AND o.paid_time <= ?)
                   OR (o.paid_time IS NULL AND o.paid_at = ?))
        )
        SELECT o.product_id,
               count(*) AS orders,
               sum(CASE WHEN o.status <> 'invalid' THEN o.units ELSE 0 END) AS units,
               sum(CASE WHEN o.status <> 'invalid' THEN o.paid_amount_fen ELSE 0 END)
                   AS gmv_fen,
               sum(coalesce(o.refund_amount_fen, 0)) AS refund_fen,
               count(*) FILTER (WHERE coalesce(o.refund_amount_fen, 0) > 0
                                OR o.status = 'invalid') AS refunds,
               count(*) FILTER (WHERE o.paid_time >= ?) AS recent_orders,
               count(*) FILTER (WHERE o.paid_time IS NULL) AS untimed_orders,
               min(o.paid_time) AS first_paid,
               max(o.paid_time) AS last_paid,
               coalesce(max(o.service_fee_rate), any_value(p.service_fee_rate))
                   AS service_fee_rate,
               any_value(p.title) AS title,
               bool_or(p.product_id IS NOT NULL) AS known
        FROM o LEFT JOIN products p USING (product_id)
        GROUP BY o.product_id
        ORDER BY o.product_id
        """,
        [anchor_id, start, at, session_date, recent_from],
    )
