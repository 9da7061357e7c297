"""The platform's settlements (结算明细) as `haowu reconcile` reads them, and their comparison
with the ledger, line by line and party by party, in DuckDB: the lines read go in once (a
frame of one row per line, each party's amount a column), and everything after (keeping
them, the platform's settlement dates, the comparison, its counts and summary) is SQL over
temporary tables; only what is shown comes back out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from haowu_cli.store.lake import is_lake
from haowu_cli.store.sql import frame, quote, run, scalar

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "compare_settlements",
    "date_settled_orders",
    "drop_settlement_tables",
    "load_settlements",
    "reconciled_detail",
    "reconciled_states",
    "reconciled_summary",
    "record_settlements",
]

INCOMING = "settlement_incoming"  # platform_order_id, product_id, party, amount_fen, …
RECONCILED = "settlement_reconciled"  # compare_settlements' result


def load_settlements(
    con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, parties: list[str]
) -> int:
    """The settlement lines read (platform_order_id, product_id, settled_at, file_name and
    a column per party, in fen) as a temporary table of a row per line and party with an
    amount (`settlement_incoming`). Returns its rows."""
    con.register("settlement_wide", lines)
    try:
        columns = ", ".join(quote(p) for p in parties)
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE {INCOMING} AS "
            "SELECT CAST(platform_order_id AS VARCHAR) AS platform_order_id, "
            "CAST(product_id AS VARCHAR) AS product_id, CAST(party AS VARCHAR) AS party, "
            "CAST(amount_fen AS BIGINT) AS amount_fen, "
            "CAST(settled_at AS TIMESTAMP) AS settled_at, "
            "CAST(file_name AS VARCHAR) AS file_name "
            f"FROM (UNPIVOT settlement_wide ON {columns} INTO NAME party VALUE amount_fen)"
            if parties
            else f"CREATE OR REPLACE TEMP TABLE {INCOMING} (platform_order_id VARCHAR, "
            "product_id VARCHAR, party VARCHAR, amount_fen BIGINT, settled_at TIMESTAMP, "
            "file_name VARCHAR)",
        )
    finally:
        con.unregister("settlement_wide")
    count: int = scalar(con, f"SELECT count(*) FROM {INCOMING}")
    return count


def record_settlements(con: duckdb.DuckDBPyConnection, recorded_at: datetime) -> int:
    """Keep the settlement lines loaded (`load_settlements`): a line read again replaces
    what was kept of it. Call inside a transaction. Returns the lines kept."""
    kept_before = scalar(con, "SELECT count(*) FROM platform_settlements")
    if kept_before:  # a first reading has nothing to replace
        run(
            con,
            "DELETE FROM platform_settlements s USING (SELECT DISTINCT platform_order_id, "
            f"product_id FROM {INCOMING}) i WHERE i.platform_order_id = s.platform_order_id "
            "AND i.product_id = s.product_id",
        )
    run(
        con,
        "INSERT INTO platform_settlements SELECT platform_order_id, product_id, party, "
        f"amount_fen, settled_at, file_name, ? FROM {INCOMING}",
        [recorded_at],
    )
    count: int = scalar(
        con, f"SELECT count(*) FROM (SELECT DISTINCT platform_order_id, product_id FROM {INCOMING})"
    )
    return count


def date_settled_orders(
    con: duckdb.DuckDBPyConnection, import_id: int, posted_at: datetime
) -> tuple[int, int]:
    """The platform's settlement date (实际结算时间) of each line loaded, taken as the
    settlement date of haowu's orders of that line where it differs (the 订单导出 gives
    none). For each such order: `orders.settled_at` set, the change noted under
    `import_id` (order_changes, the order's `updated_import_id`), and, where the day moves,
    its ledger entries reversed and posted again under the platform's day. The split's
    amounts do not depend on the settlement date (`commission.split_orders_query` settles
    a valid order with a settled_at on its day), so the entries standing (those of the
    order's latest posting) are reversed and posted again as they are, dated. Invalid
    orders settle nothing and are left alone. Call inside a transaction. Returns (orders
    dated, orders whose entries were posted again)."""
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE settlement_dated AS "
        "SELECT o.order_id, o.settled_at AS old, d.settled_at AS new "
        "FROM orders o JOIN (SELECT platform_order_id, product_id, max(settled_at) AS settled_at "
        f"FROM {INCOMING} WHERE settled_at IS NOT NULL GROUP BY ALL) d "
        "USING (platform_order_id, product_id) "
        "WHERE o.settled_at IS DISTINCT FROM d.settled_at AND o.status <> 'invalid'",
    )
    dated: int = scalar(con, "SELECT count(*) FROM settlement_dated")
    if not dated:
        run(con, "DROP TABLE settlement_dated")
        return 0, 0
    run(
        con,
        "INSERT INTO order_changes SELECT ?, order_id, 'settled_at', "
        "CAST(old AS VARCHAR), CAST(new AS VARCHAR) FROM settlement_dated",
        [import_id],
    )
    run(
        con,
        "UPDATE orders SET settled_at = d.new, updated_import_id = ? "
        "FROM settlement_dated d WHERE orders.order_id = d.order_id",
        [import_id],
    )
    key = (
        "order_id, account, item, party_id, settles_on, merchant_id, anchor_id, session_id, paid_on"
    )
    # What stands of a valid order is what its latest posting posted (a posting reverses
    # all that stood before it): those entries, of the orders whose day moves.
    entries = ", ".join(f"e.{k}" for k in key.split(", "))
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE settlement_redated AS "
        "WITH latest AS (SELECT order_id, max(import_id) AS import_id, "
        "max(import_id) FILTER (WHERE entry = 'post') AS posted FROM ledger "
        "SEMI JOIN settlement_dated USING (order_id) GROUP BY order_id), "
        "moving AS (SELECT l.order_id, l.import_id, CAST(d.new AS DATE) AS day FROM latest l "
        "JOIN settlement_dated d USING (order_id) WHERE l.posted = l.import_id) "
        f"SELECT {entries}, e.amount_fen, m.day "
        "FROM ledger e JOIN moving m USING (order_id, import_id) "
        "WHERE e.entry = 'post' AND e.settles_on IS DISTINCT FROM m.day",
    )
    columns = f"import_id, posted_at, entry, {key}, amount_fen"
    run(
        con,
        f"INSERT INTO ledger ({columns}) SELECT $id, $at, 'reverse', {key}, -amount_fen "
        "FROM settlement_redated",
        {"id": import_id, "at": posted_at},
    )
    moved = key.replace("settles_on", "day")
    run(
        con,
        f"INSERT INTO ledger ({columns}) SELECT $id, $at, 'post', {moved}, amount_fen "
        "FROM settlement_redated ORDER BY order_id",
        {"id": import_id, "at": posted_at},
    )
    reposted: int = scalar(con, "SELECT count(DISTINCT order_id) FROM settlement_redated")
    run(con, "DROP TABLE settlement_dated; DROP TABLE settlement_redated")
    return dated, reposted


def compare_settlements(con: duckdb.DuckDBPyConnection, party_map: pl.DataFrame) -> None:
    """Each settlement line loaded against haowu's orders and ledger, a row per line and
    party, into a temporary table (`reconciled_*` read it): platform_order_id, product_id,
    party, state (matched | differs | only_platform | only_haowu), platform_fen, haowu_fen,
    difference_fen, settled_at (the platform's), settles_on (haowu's).

    Lines match on the platform's order number and product (haowu's lines of one order and
    product summed). A party is compared where the file gives its amount; `party_map`
    (party, account, item) says which ledger entries are haowu's side of it. Lines only in
    haowu are its platform orders due to settle within the dates the files cover that the
    files do not have. Only the ledger entries of these orders are read."""
    compare = _COMPARE
    if is_lake(con):  # the ledger's ENUM columns are VARCHAR on a lake (`store.lake`)
        compare = compare.replace("ledger_account", "VARCHAR").replace("ledger_item", "VARCHAR")
    con.register("settlement_parties", party_map)
    try:
        run(con, f"CREATE OR REPLACE TEMP TABLE {RECONCILED} AS {compare}")
    finally:
        con.unregister("settlement_parties")


_COMPARE = f"""
WITH p AS (
    SELECT platform_order_id, product_id, party, sum(amount_fen) AS platform_fen,
           max(settled_at) AS settled_at
    FROM {INCOMING} GROUP BY ALL
), p_lines AS (
    SELECT platform_order_id, product_id, max(settled_at) AS settled_at FROM p GROUP BY ALL
), span AS (
    SELECT min(CAST(settled_at AS DATE)) AS lo, max(CAST(settled_at AS DATE)) AS hi
    FROM p_lines
), o AS (
    SELECT order_id, platform_order_id, product_id FROM orders
    WHERE platform_order_id IS NOT NULL
), candidates AS (  -- the file's lines, and haowu's due within the dates it covers
    SELECT order_id FROM o SEMI JOIN p_lines USING (platform_order_id, product_id)
    UNION
    SELECT l.order_id FROM ledger l, span WHERE l.settles_on BETWEEN span.lo AND span.hi
), c AS (
    SELECT o.* FROM o SEMI JOIN candidates USING (order_id)
), parties_map AS (
    SELECT party, CAST(account AS ledger_account) AS account, CAST(item AS ledger_item) AS item
    FROM settlement_parties
), per_item AS (  -- one pass over the ledger entries of these orders
    SELECT order_id, account, item, sum(amount_fen) AS amount_fen, max(import_id) AS last,
           max(import_id) FILTER (WHERE entry = 'post') AS last_post,
           arg_max_null(settles_on, import_id) FILTER (WHERE entry = 'post') AS day
    FROM ledger SEMI JOIN c USING (order_id) GROUP BY ALL
), per_order AS (
    -- An order's settlement day is that of its latest posting (a split has one day); none
    -- when its latest import only reversed it (it became invalid). Reversals cancel in sums.
    SELECT order_id,
           CASE WHEN max(last_post) = max(last) THEN arg_max_null(day, last_post) END
               AS settles_on
    FROM per_item GROUP BY order_id
), h_lines AS (
    SELECT c.platform_order_id, c.product_id, max(po.settles_on) AS settles_on
    FROM c LEFT JOIN per_order po USING (order_id) GROUP BY ALL
), h AS (
    SELECT c.platform_order_id, c.product_id, m.party, sum(i.amount_fen) AS haowu_fen
    FROM per_item i JOIN parties_map m USING (account, item) JOIN c USING (order_id)
    GROUP BY ALL HAVING sum(i.amount_fen) <> 0
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
"""


def reconciled_states(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """How many lines compared are in each state."""
    rows = con.execute(
        "SELECT state, count(*) FROM (SELECT DISTINCT platform_order_id, product_id, state "
        f"FROM {RECONCILED}) GROUP BY state"
    ).fetchall()
    return {str(state): int(count) for state, count in rows}


def reconciled_summary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """By month (the platform's settlement month, else haowu's) and party: platform_fen,
    haowu_fen, difference_fen, lines, lines_differing."""
    return frame(
        con,
        "SELECT coalesce(strftime(settled_at, '%Y-%m'), strftime(settles_on, '%Y-%m')) "
        "AS month, party, sum(platform_fen) AS platform_fen, sum(haowu_fen) AS haowu_fen, "
        "sum(difference_fen) AS difference_fen, count(*) AS lines, "
        "count(*) FILTER (WHERE difference_fen <> 0) AS lines_differing "
        f"FROM {RECONCILED} GROUP BY ALL ORDER BY month NULLS LAST, party NULLS LAST",
        [],
    )


def reconciled_detail(con: duckdb.DuckDBPyConnection, *, differing_only: bool) -> pl.DataFrame:
    """The comparison a row per line and party (see `compare_settlements`), in order of
    order, product and party; only the rows whose amounts differ when `differing_only`."""
    where = "WHERE difference_fen <> 0" if differing_only else ""
    return frame(
        con,
        f"SELECT * FROM {RECONCILED} {where} ORDER BY platform_order_id, product_id, party",
        [],
    )


def drop_settlement_tables(con: duckdb.DuckDBPyConnection) -> None:
    run(con, f"DROP TABLE IF EXISTS {INCOMING}; DROP TABLE IF EXISTS {RECONCILED}")
