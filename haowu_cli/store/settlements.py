"""The platform's settlements (结算明细) as `haowu reconcile` reads them, and their comparison
with the ledger, line by line and party by party, in DuckDB: the lines read go in once (a
frame of one row per line, each party's amount a column), and everything after (keeping
them, the platform's settlement dates, the comparison, its counts and summary) is SQL over
temporary tables; only what is shown comes back out."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from haowu_cli.store.ledger import POSTING, POSTING_KEY, SHARES
from haowu_cli.store.sql import frame, literal, quote, run, scalar

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

ROWS = "settlement_rows"  # the files' rows: platform_order_id, …, a column per party
INCOMING = "settlement_incoming"  # platform_order_id, product_id, party, amount_fen, …
LINES = "settlement_lines"  # platform_order_id, product_id, settled_at, a column per party
RECONCILED = "settlement_reconciled"  # compare_settlements' result


def load_settlements(
    con: duckdb.DuckDBPyConnection, lines: pl.DataFrame, parties: list[str]
) -> int:
    """The settlement lines read (platform_order_id, product_id, settled_at, file_name and
    a column per party, in fen) as a temporary view of a row per line and party with an
    amount (`settlement_incoming`), and a table of a row per line (`settlement_lines`).
    Returns the rows of the first."""
    con.register("settlement_wide", lines)
    try:
        # The frame is read once, into a table of the files' rows, a column per party.
        sums = "".join(f", CAST({quote(p)} AS BIGINT) AS {quote(p)}" for p in parties)
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE {ROWS} AS "
            "SELECT CAST(platform_order_id AS VARCHAR) AS platform_order_id, "
            "CAST(product_id AS VARCHAR) AS product_id, "
            "CAST(settled_at AS TIMESTAMP) AS settled_at, "
            f"CAST(file_name AS VARCHAR) AS file_name{sums} FROM settlement_wide",
        )
    finally:
        con.unregister("settlement_wide")
    columns = ", ".join(quote(p) for p in parties)
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {INCOMING} AS "
        "SELECT platform_order_id, product_id, CAST(party AS VARCHAR) AS party, amount_fen, "
        f"settled_at, file_name FROM (UNPIVOT {ROWS} ON {columns} "
        "INTO NAME party VALUE amount_fen)"
        if parties
        else f"CREATE OR REPLACE TEMP VIEW {INCOMING} AS "
        "SELECT platform_order_id, product_id, CAST(NULL AS VARCHAR) AS party, "
        f"CAST(NULL AS BIGINT) AS amount_fen, settled_at, file_name FROM {ROWS} WHERE FALSE",
    )
    # And a row per line (the files' rows of one line summed), a column per party: what
    # the comparison reads. A line is one the files give an amount of.
    given = " OR ".join(f"{quote(p)} IS NOT NULL" for p in parties) or "FALSE"
    sums = "".join(f", sum({quote(p)}) AS {quote(p)}" for p in parties)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {LINES} AS "
        f"SELECT platform_order_id, product_id, max(settled_at) AS settled_at{sums} "
        f"FROM {ROWS} WHERE {given} GROUP BY ALL",
    )
    count: int = scalar(con, f"SELECT count(*) FROM {INCOMING}")
    return count


def record_settlements(con: duckdb.DuckDBPyConnection, recorded_at: datetime) -> int:
    """Keep the settlement lines loaded (`load_settlements`): a line read again replaces
    what was kept of it. Call inside a transaction. Returns the lines kept."""
    kept_before = scalar(con, "SELECT count(*) FROM platform_settlements")
    if kept_before:  # a first reading has nothing to replace
        run(
            con,
            f"DELETE FROM platform_settlements s USING {LINES} i "
            "WHERE i.platform_order_id = s.platform_order_id AND i.product_id = s.product_id",
        )
    run(
        con,
        "INSERT INTO platform_settlements SELECT platform_order_id, product_id, party, "
        f"amount_fen, settled_at, file_name, ? FROM {INCOMING}",
        [recorded_at],
    )
    count: int = scalar(con, f"SELECT count(*) FROM {LINES}")
    return count


def date_settled_orders(
    con: duckdb.DuckDBPyConnection, import_id: int, posted_at: datetime
) -> tuple[int, int, int]:
    """The platform's settlement date (实际结算时间) of each line loaded, taken as the
    settlement date of haowu's orders of that line where it differs (the 订单导出 gives
    none). For each such order: `orders.settled_at` set, the change noted under
    `import_id` (order_changes, the order's `updated_import_id`), and, where the day moves,
    its ledger entries reversed and posted again under the platform's day. The split's
    amounts do not depend on the settlement date (`commission.split_orders_query` settles
    a valid order with a settled_at on its day), so the entries standing (those of the
    order's latest posting) are reversed and posted again as they are, dated. Invalid
    orders settle nothing and are left alone. Call inside a transaction. Returns (orders
    dated, settlement lines that dated them, orders whose entries were posted again): a line
    may date several of haowu's orders (an order's SKUs of one product)."""
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE settlement_dated AS "
        "SELECT o.order_id, o.settled_at AS old, d.settled_at AS new, "
        "platform_order_id, product_id "
        "FROM orders o JOIN (SELECT platform_order_id, product_id, settled_at "
        f"FROM {LINES} WHERE settled_at IS NOT NULL) d "
        "USING (platform_order_id, product_id) "
        "WHERE o.settled_at IS DISTINCT FROM d.settled_at AND o.status <> 'invalid'",
    )
    dated, lines = con.execute(
        "SELECT count(*), count(DISTINCT (platform_order_id, product_id)) FROM settlement_dated"
    ).fetchone() or (0, 0)
    if not dated:
        run(con, "DROP TABLE settlement_dated")
        return 0, 0, 0
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
    # What stands of a valid order is what its latest posting posted (a posting reverses
    # all that stood before it): that posting's rows (one, normally), of the orders whose
    # day moves. One pass over the ledger's postings finds each order's latest posting
    # (`_LATEST_POSTING`: its import and day as one number); the orders whose day moves are
    # kept (a row each), and their rows are reversed and posted again on the new day by one
    # insert that reads them once, two rows for each, in no particular order (no report
    # relies on the order rows are stored in).
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE settlement_moving AS "
        f"SELECT order_id, {_POSTED_IMPORT} AS import_id, CAST(d.new AS DATE) AS day "
        f"FROM (SELECT order_id, max(import_id) AS last, {_LATEST_POSTING} AS posted "
        "FROM ledger_postings SEMI JOIN settlement_dated USING (order_id) GROUP BY order_id) l "
        "JOIN settlement_dated d USING (order_id) "
        f"WHERE {_POSTED_IMPORT} = l.last AND {_POSTED_DAY} IS DISTINCT FROM CAST(d.new AS DATE)",
    )
    names = POSTING_KEY.split(", ")
    values = ", ".join(
        "CASE w.entry WHEN 'post' THEN r.day ELSE r.settles_on END"
        if k == "settles_on"
        else f"r.{k}"
        for k in names
    )
    amounts = ", ".join(
        f"CASE w.entry WHEN 'post' THEN r.{c} ELSE -r.{c} END" for c, _a, _i in SHARES
    )
    picked = ", ".join(f"e.{k}" for k in POSTING.split(", "))
    run(
        con,
        f"INSERT INTO ledger_postings (import_id, posted_at, entry, {POSTING}) "
        f"SELECT $id, $at, w.entry, {values}, {amounts} "
        f"FROM (SELECT {picked}, m.day FROM ledger_postings e "
        "JOIN settlement_moving m USING (order_id, import_id) "
        "WHERE e.entry = 'post' AND e.settles_on IS DISTINCT FROM m.day) r, "
        "(VALUES ('reverse'), ('post')) w(entry)",
        {"id": import_id, "at": posted_at},
    )
    reposted: int = scalar(con, "SELECT count(*) FROM settlement_moving")
    run(con, "DROP TABLE settlement_dated; DROP TABLE settlement_moving")
    return dated, lines, reposted


# An order's latest posting among its ledger entries, and its settlement day, as one number
# that a plain `max` finds (a posting has one day: a split settles on one day):
# import_id * 10,000,000 + the day's number from 0001-01-01 plus one (0: no day).
_LATEST_POSTING = (
    "max(import_id * 10000000 + coalesce(date_diff('day', DATE '0001-01-01', settles_on) + 1, "
    "0)) FILTER (WHERE entry = 'post')"
)
_POSTED_IMPORT = "posted // 10000000"
_POSTED_DAY = (
    "CASE WHEN posted % 10000000 > 0 "
    "THEN DATE '0001-01-01' + CAST(posted % 10000000 - 1 AS INTEGER) END"
)


def compare_settlements(con: duckdb.DuckDBPyConnection, party_map: pl.DataFrame) -> None:
    """Each settlement line loaded against haowu's orders and ledger, a row per line and
    party, into a temporary table (`reconciled_*` read it): platform_order_id, product_id,
    party, state (matched | differs | only_platform | only_haowu), platform_fen, haowu_fen,
    difference_fen, settled_at (the platform's), settles_on (haowu's).

    Lines match on the platform's order number and product (haowu's lines of one order and
    product summed). A party is compared where the file gives its amount; `party_map`
    (party, account, item) says which ledger entries are haowu's side of it. Lines only in
    haowu are its platform orders due to settle within the dates the files cover that the
    files do not have. Only the ledger entries of these orders are read, once: a row per
    order, a column per party."""
    pairs = [(str(p), str(a), str(i)) for p, a, i in party_map.select(PARTY_MAP).iter_rows()]
    fixed = ("platform_order_id", "product_id", "settled_at")
    description = con.execute(f"SELECT * FROM {LINES} LIMIT 0").description or []
    given = [str(column[0]) for column in description if column[0] not in fixed]
    run(con, f"CREATE OR REPLACE TEMP TABLE {RECONCILED} AS {_compare_query(pairs, given)}")


PARTY_MAP = ("party", "account", "item")


def _compare_query(pairs: list[tuple[str, str, str]], given: list[str]) -> str:
    """The comparison's query; `pairs` (party, account, item): which ledger entries make
    haowu's side of each party; `given`: the parties the files have a column of."""
    mapped = list(dict.fromkeys(party for party, _account, _item in pairs))
    column = {(account, item): c for c, account, item in SHARES}
    sums = []
    for party in mapped:
        # The shares of its entries, added along each posting row (a share no entry makes
        # adds nothing: as in the entries, where none matches).
        shares = list(
            dict.fromkeys(column[a, i] for p, a, i in pairs if p == party and (a, i) in column)
        )
        total = f"sum({' + '.join(shares)})" if shares else "CAST(NULL AS HUGEINT)"
        sums.append(f"{total} AS {quote(party)}")
    per_order = "".join(f", {total}" for total in sums)
    per_line = "".join(f", sum({quote(p)}) AS {quote(p)}" for p in mapped)
    # Each party of either side (a row of the line for each): the platform's amount (none
    # where the files have no column of it) and haowu's (none where it is 0, or no ledger
    # entry makes it).
    every = list(dict.fromkeys([*given, *mapped]))
    platform = " ".join(f"WHEN {literal(p)} THEN pl.{quote(p)}" for p in every if p in given)
    haowu = " ".join(
        f"WHEN {literal(p)} THEN nullif(hl.{quote(p)}, 0)" for p in every if p in mapped
    )
    platform_fen = f"CASE k.party {platform} END" if platform else "NULL"
    haowu_fen = f"CASE k.party {haowu} END" if haowu else "NULL"
    each = (
        f"k.party, CAST({platform_fen} AS HUGEINT) AS platform_fen, "
        f"CAST({haowu_fen} AS HUGEINT) AS haowu_fen"
    )
    names = ", ".join(f"({literal(p)})" for p in every) or "(CAST(NULL AS VARCHAR))"
    return f"""
WITH span AS (
    SELECT min(CAST(settled_at AS DATE)) AS lo, max(CAST(settled_at AS DATE)) AS hi
    FROM {LINES}
), o AS (
    SELECT order_id, platform_order_id, product_id FROM orders
    WHERE platform_order_id IS NOT NULL
), candidates AS (  -- the file's lines, and haowu's due within the dates it covers
    SELECT order_id FROM o SEMI JOIN {LINES} USING (platform_order_id, product_id)
    UNION
    -- (an order's postings: its rows with a base)
    SELECT l.order_id FROM ledger_postings l, span
    WHERE l.base_fen <> 0 AND l.entry = 'post' AND l.settles_on BETWEEN span.lo AND span.hi
), c AS (
    SELECT o.* FROM o SEMI JOIN candidates USING (order_id)
), per_order AS (  -- one pass over the ledger entries of these orders: a row per order
    -- An order's settlement day is that of its latest posting; none when its latest
    -- import only reversed it (it became invalid). Reversals cancel in sums.
    SELECT order_id, max(import_id) AS last, {_LATEST_POSTING} AS posted{per_order}
    FROM ledger_postings SEMI JOIN c USING (order_id) GROUP BY order_id
), h_lines AS (  -- a row per line, a column per party
    SELECT c.platform_order_id, c.product_id,
           max(CASE WHEN {_POSTED_IMPORT} = po.last THEN {_POSTED_DAY} END)
               AS settles_on{per_line}
    FROM c LEFT JOIN per_order po USING (order_id) GROUP BY ALL
), lines AS (
    SELECT coalesce(pl.platform_order_id, hl.platform_order_id) AS platform_order_id,
           coalesce(pl.product_id, hl.product_id) AS product_id,
           pl.settled_at, hl.settles_on,
           CASE WHEN hl.platform_order_id IS NULL THEN 'only_platform'
                WHEN pl.platform_order_id IS NULL THEN 'only_haowu' END AS side,
           {each}
    FROM {LINES} pl FULL JOIN h_lines hl USING (platform_order_id, product_id)
         CROSS JOIN (VALUES {names}) k(party)
    WHERE pl.platform_order_id IS NOT NULL
       OR hl.settles_on BETWEEN (SELECT lo FROM span) AND (SELECT hi FROM span)
), compared AS (
    -- A line the files have compares the parties they give an amount of; a line only in
    -- haowu, the parties haowu has an amount of. Nothing on either side: nothing to compare.
    SELECT *, coalesce(platform_fen, 0) - coalesce(haowu_fen, 0) AS difference_fen
    FROM lines
    WHERE (CASE WHEN side = 'only_haowu' THEN haowu_fen ELSE platform_fen END) IS NOT NULL
      AND (coalesce(platform_fen, 0) <> 0 OR coalesce(haowu_fen, 0) <> 0)
), differing AS (  -- the lines with a party whose amounts differ
    SELECT DISTINCT platform_order_id, product_id FROM compared WHERE difference_fen <> 0
)
SELECT platform_order_id, product_id, party,
       coalesce(side, CASE WHEN d.platform_order_id IS NOT NULL THEN 'differs'
                           ELSE 'matched' END) AS state,
       platform_fen, haowu_fen, difference_fen, settled_at, settles_on
FROM compared LEFT JOIN differing d USING (platform_order_id, product_id)
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
    run(
        con,
        f"DROP VIEW IF EXISTS {INCOMING}; DROP TABLE IF EXISTS {ROWS}; "
        f"DROP TABLE IF EXISTS {LINES}; "
        f"DROP TABLE IF EXISTS {RECONCILED}",
    )
