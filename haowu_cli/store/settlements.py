"""The platform's settlements (结算明细) as `haowu reconcile` reads them, and their comparison
with the ledger, line by line and party by party."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from haowu_cli.store.sql import frame, run

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["compare_settlements", "record_settlements"]


def record_settlements(
    con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, recorded_at: datetime
) -> int:
    """Keep the settlement lines read (platform_order_id, product_id, party, amount_fen,
    settled_at, file_name): a line read again replaces what was kept of it. Call inside a
    transaction. Returns the lines kept."""
    con.register("settlement_incoming", lines)
    try:
        kept_before = con.execute("SELECT count(*) FROM platform_settlements").fetchone()
        if kept_before and kept_before[0]:  # a first reading has nothing to replace
            run(
                con,
                "DELETE FROM platform_settlements s WHERE EXISTS (SELECT 1 FROM "
                "settlement_incoming i WHERE i.platform_order_id = s.platform_order_id "
                "AND i.product_id = s.product_id)",
            )
        run(
            con,
            "INSERT INTO platform_settlements SELECT platform_order_id, product_id, party, "
            "amount_fen, settled_at, file_name, ? FROM settlement_incoming",
            [recorded_at],
        )
        count = con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT platform_order_id, product_id "
            "FROM settlement_incoming)"
        ).fetchone()
    finally:
        con.unregister("settlement_incoming")
    return int(count[0]) if count else 0


def compare_settlements(
    con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, party_map: pl.DataFrame
) -> pl.DataFrame:
    """Each settlement line against haowu's orders and ledger, a row per line and party:
    platform_order_id, product_id, party, state (matched | differs | only_platform |
    only_haowu), platform_fen, haowu_fen, difference_fen, settled_at (the platform's),
    settles_on (haowu's).

    Lines match on the platform's order number and product (haowu's lines of one order and
    product summed). A party is compared where the file gives its amount; `party_map`
    (party, account, item) says which ledger entries are haowu's side of it. Lines only in
    haowu are its platform orders due to settle within the dates the files cover that the
    files do not have."""
    con.register("settlement_incoming", lines)
    con.register("settlement_parties", party_map)
    try:
        return frame(con, _COMPARE, [])
    finally:
        con.unregister("settlement_incoming")
        con.unregister("settlement_parties")


_COMPARE = """
WITH p AS (
    SELECT platform_order_id, product_id, party, sum(amount_fen) AS platform_fen,
           max(settled_at) AS settled_at
    FROM settlement_incoming GROUP BY ALL
), p_lines AS (
    SELECT platform_order_id, product_id, max(settled_at) AS settled_at FROM p GROUP BY ALL
), span AS (
    SELECT min(CAST(settled_at AS DATE)) AS lo, max(CAST(settled_at AS DATE)) AS hi
    FROM p_lines
), o AS (
    SELECT order_id, platform_order_id, product_id FROM orders
    WHERE platform_order_id IS NOT NULL
), entries AS (
    SELECT o.platform_order_id, o.product_id, l.account, l.item, l.amount_fen, l.settles_on
    FROM ledger l JOIN o USING (order_id)
), h_lines AS (
    SELECT o.platform_order_id, o.product_id, max(e.settles_on) AS settles_on
    FROM o LEFT JOIN entries e USING (platform_order_id, product_id) GROUP BY ALL
), h AS (
    SELECT e.platform_order_id, e.product_id, m.party, sum(e.amount_fen) AS haowu_fen
    FROM entries e JOIN settlement_parties m
      ON CAST(e.account AS VARCHAR) = m.account AND CAST(e.item AS VARCHAR) = m.item
    GROUP BY ALL
), lines AS (
    SELECT coalesce(pl.platform_order_id, hl.platform_order_id) AS platform_order_id,
           coalesce(pl.product_id, hl.product_id) AS product_id,
           pl.settled_at, hl.settles_on,
           CASE WHEN hl.platform_order_id IS NULL THEN 'only_platform'
                WHEN pl.platform_order_id IS NULL THEN 'only_haowu' END AS side
    FROM p_lines pl FULL JOIN h_lines hl USING (platform_order_id, product_id)
    WHERE pl.platform_order_id IS NOT NULL
       OR hl.settles_on BETWEEN (SELECT lo FROM span) AND (SELECT hi FROM span)
), parties AS (
    SELECT l.*, p.party, p.platform_fen, h.haowu_fen
    FROM lines l JOIN p USING (platform_order_id, product_id)
    LEFT JOIN h USING (platform_order_id, product_id, party)
    UNION ALL
    SELECT l.*, h.party, NULL, h.haowu_fen
    FROM lines l JOIN h USING (platform_order_id, product_id)
    WHERE l.side = 'only_haowu'
), compared AS (
    SELECT *, coalesce(platform_fen, 0) - coalesce(haowu_fen, 0) AS difference_fen
    FROM parties
    WHERE coalesce(platform_fen, 0) <> 0 OR coalesce(haowu_fen, 0) <> 0  -- nothing to compare
)
SELECT platform_order_id, product_id, party,
       coalesce(side, CASE WHEN bool_or(difference_fen <> 0)
                            OVER (PARTITION BY platform_order_id, product_id)
                           THEN 'differs' ELSE 'matched' END) AS state,
       platform_fen, haowu_fen, difference_fen, settled_at, settles_on
FROM compared
ORDER BY platform_order_id, product_id, party
"""
