"""Orders and the commission ledger (分佣台账): what an import of orders needs to know, posting
the splits, and the ledger's totals.

The split itself is the commission rules' query (`commission.postings_query`): the store runs it
over the orders an `OrderSelection` picks, binding its values as parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from haowu_cli.store.sql import Query, frame, quote, run, scalar

if TYPE_CHECKING:
    import duckdb
    import polars as pl


__all__ = [
    "ALL_ORDERS",
    "LedgerFilters",
    "OrderSelection",
    "COVERED_BEFORE",
    "SPREAD_MERCHANTS",
    "SPREAD_NEW",
    "SPREAD_ORDERS",
    "POSTING",
    "POSTING_KEY",
    "SHARES",
    "commission_totals",
    "forget_spread",
    "keep_covered",
    "ledger_entries",
    "order_terms",
    "orders_posted_later",
    "post_ledger",
    "post_ledger_in_batches",
    "query_orders",
    "spread_orders",
]


def _order_ids(incoming: pl.DataFrame, column: str) -> pl.DataFrame:
    """`order_id`, `product_id` and `column` of the incoming orders (null where the sheet
    has no such column)."""
    import polars as pl

    own = pl.col(column) if column in incoming.columns else pl.lit(None, pl.String).alias(column)
    return incoming.select("order_id", "product_id", own)


def order_terms(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame) -> pl.DataFrame:
    """What the database knows of each incoming order (`order_id`, `product_id`,
    `anchor_id`): `stored` (whether it is), its stored rates, second-level leader, anchor and
    agency share (`*_stored`); its merchant and category (`*_known`: the stored ones while
    the product stays the same, else the product's); its product's current rates
    (`*_product`); its anchor's agency and share (`*_anchor`). Rates in parts per million."""
    con.register("incoming_orders", _order_ids(incoming, "anchor_id"))
    ppm = "* 1000000 AS BIGINT)"
    try:
        return frame(
            con,
            f"""
            SELECT i.order_id, o.order_id IS NOT NULL AS stored,
                   CASE WHEN o.product_id = i.product_id THEN o.merchant_id END
                       AS merchant_stored_same,
                   coalesce(CASE WHEN o.product_id = i.product_id THEN o.merchant_id END,
                            p.merchant_id) AS merchant_id_known,
                   coalesce(CASE WHEN o.product_id = i.product_id THEN o.category_l1 END,
                            p.category_l1) AS category_l1_known,
                   CAST(o.commission_rate {ppm} AS commission_rate_stored,
                   CAST(o.service_fee_rate {ppm} AS service_fee_rate_stored,
                   CAST(p.commission_rate {ppm} AS commission_rate_product,
                   CAST(p.service_fee_rate {ppm} AS service_fee_rate_product,
                   o.second_leader_id AS second_leader_id_stored,
                   CAST(o.second_leader_rate {ppm} AS second_leader_rate_stored,
                   o.anchor_id AS anchor_id_stored,
                   CAST(coalesce(CASE WHEN o.product_id = i.product_id THEN o.shop_score END,
                                 p.shop_score) * 100 AS BIGINT) AS shop_score_known,
                   o.mcn AS mcn_stored, CAST(o.mcn_share {ppm} AS mcn_share_stored,
                   a.mcn AS mcn_anchor,
                   CAST(CASE WHEN a.mcn IS NOT NULL THEN a.mcn_share END {ppm} AS mcn_share_anchor
            FROM incoming_orders i LEFT JOIN orders o USING (order_id)
            LEFT JOIN products p ON p.product_id = i.product_id
            LEFT JOIN anchors a ON a.anchor_id = coalesce(i.anchor_id, o.anchor_id)
            """,
            [],
        ).drop("merchant_stored_same")
    finally:
        con.unregister("incoming_orders")


# What a ledger report is narrowed to: `session`, `anchor`, `merchant` (IDs), and `start`
# and `end` (paid dates); a key left out or None does not narrow it.
LedgerFilters = Mapping[str, Any]

# The ledger is kept a row per order posting (`ledger_postings`, schema version 11): the
# order, post or reverse, the dimensions it was posted under, and a column per share in fen;
# the view `ledger` shows those as entries (a row per share that is not 0). Each share's
# column, account and item, in the order the view lists them; the split's query
# (`commission.postings_query`) names each share as its column without `_fen`.
SHARES = (
    ("base_fen", "base", "base"),
    ("merchant_fen", "merchant", "net"),
    ("anchor_fen", "anchor", "net"),
    ("agency_fen", "agency", "net"),
    ("leader_fen", "leader", "net"),
    ("second_leader_fen", "second_leader", "net"),
    ("commission_cut_fen", "platform", "commission_cut"),
    ("service_fee_cut_fen", "platform", "service_fee_cut"),
    ("technical_fee_fen", "platform", "technical_fee"),
)
SHARE_COLUMNS = ", ".join(column for column, _account, _item in SHARES)
# A posting's order and dimensions: what a split's posting row (`commission.postings_query`)
# gives besides its shares. `mcn` and `second_leader_id` are the parties of the agency's and
# the second-level leader's shares, null where that share is 0.
POSTING_KEY = (
    "order_id, settles_on, merchant_id, anchor_id, session_id, paid_on, mcn, second_leader_id"
)
POSTING = f"{POSTING_KEY}, {SHARE_COLUMNS}"


@dataclass(frozen=True)
class OrderSelection:
    """Which orders a split covers: every one, or those the import `updated_by_import`
    inserted or changed."""

    updated_by_import: int | None = None
    # Also every order of the new merchants (with a join date) whose orders the import
    # touched: their technical-fee cap spans their orders, so one order moves the others.
    spread_new_merchants: bool = False
    merchant: str | None = None  # one merchant's orders only
    # Also the orders whose IDs this table holds (`spread_orders`: those whose part under a
    # new merchant's cap the import moved).
    spread_orders_table: str | None = None
    # Only batch `index` of `count` (by a hash of the order ID): a large posting goes in
    # batches (`post_ledger_in_batches`), each order in exactly one.
    batch: tuple[int, int] | None = None

    def where(self) -> Query:
        """The condition over `orders o`, its values as `$orders_*` parameters."""
        parts, params = [], dict[str, Any]()
        if self.updated_by_import is not None:
            touched = "o.updated_import_id = $orders_import_id"
            if self.spread_new_merchants:
                touched = (
                    f"(({touched}) OR o.merchant_id IN (SELECT merchant_id FROM merchants "
                    "WHERE joined_on IS NOT NULL AND merchant_id IN (SELECT merchant_id "
                    "FROM orders WHERE updated_import_id = $orders_import_id)))"
                )
            if self.spread_orders_table:
                touched = (
                    f"(({touched}) OR o.order_id IN "
                    f"(SELECT order_id FROM {quote(self.spread_orders_table)}))"
                )
            parts.append(touched)
            params["orders_import_id"] = self.updated_by_import
        if self.merchant is not None:
            parts.append("o.merchant_id = $orders_merchant")
            params["orders_merchant"] = self.merchant
        if self.batch is not None:
            parts.append("hash(o.order_id) % $orders_batches = $orders_batch")
            params["orders_batch"], params["orders_batches"] = self.batch
        return Query(" AND ".join(parts) or "TRUE", params)


ALL_ORDERS = OrderSelection()


def post_ledger(
    con: duckdb.DuckDBPyConnection,
    split: Query,
    orders: OrderSelection,
    import_id: int,
    posted_at: datetime,
) -> tuple[int, int]:
    """Post the split (`split`, the commission rules' postings query over the same `orders`:
    a row per order with a share that is not 0, `POSTING`'s columns) of the selected orders
    where it differs from what the ledger holds for them: a reversing row for the old, a
    row for the new (none for an invalid order). Returns how many orders were posted and
    how many of them reversed earlier entries. Call inside a transaction."""
    columns = f"import_id, posted_at, entry, {POSTING}"
    touched = orders.where()
    stamp = {"import_id": import_id, "posted_at": posted_at}
    # What the ledger holds for these orders, read once: each share summed over the rows of
    # an order posted under the same dimensions (a posting and its reversal cancel). None
    # of it is this posting's own (an import posts its orders once, each batch its own
    # orders): the rows an earlier batch just wrote are skipped by their import ID, whole
    # row groups at a time, rather than joined order by order.
    sums = ", ".join(f"CAST(sum({c}) AS BIGINT) AS {c}" for c, _a, _i in SHARES)
    standing = " OR ".join(f"sum({c}) <> 0" for c, _a, _i in SHARES)
    held = (
        f"SELECT {POSTING_KEY}, {sums} FROM ledger_postings "
        f"SEMI JOIN (SELECT order_id FROM orders o WHERE {touched.sql}) t USING (order_id) "
        f"WHERE import_id <> $posting_import_id GROUP BY ALL HAVING {standing}"
    )
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE posted AS {held}",
        {**touched.params, "posting_import_id": import_id},
    )
    if not scalar(con, "SELECT count(*) FROM posted"):
        # Nothing posted for these orders yet (a first import): straight in, no comparing,
        # not sorted (no report relies on the order rows are stored in), the split computed
        # once; a row an order posted, so the rows written count them. (`posted` is empty:
        # a table dropped inside the transaction is kept until it ends, and a posting in
        # batches keeps one empty table a batch.)
        run(con, "DROP TABLE posted")
        written = con.execute(
            f"INSERT INTO ledger_postings ({columns}) SELECT $import_id, $posted_at, 'post', "
            f"{POSTING} FROM ({split.sql})",
            {**split.params, **stamp},
        ).fetchall()
        return int(written[0][0]), 0
    run(con, f"CREATE OR REPLACE TEMP TABLE split_new AS {split.sql}", dict(split.params) or None)
    # Orders whose new split differs from the one posted, either way round.
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE changed AS SELECT DISTINCT order_id FROM ("
        f"(SELECT {POSTING} FROM split_new EXCEPT SELECT {POSTING} FROM posted) UNION ALL "
        f"(SELECT {POSTING} FROM posted EXCEPT SELECT {POSTING} FROM split_new))",
    )
    reversed_orders: int = scalar(
        con, "SELECT count(DISTINCT order_id) FROM posted SEMI JOIN changed USING (order_id)"
    )
    negated = ", ".join(f"-{c}" for c, _a, _i in SHARES)
    run(
        con,
        f"INSERT INTO ledger_postings ({columns}) SELECT ?, ?, 'reverse', {POSTING_KEY}, "
        f"{negated} FROM posted SEMI JOIN changed USING (order_id)",
        [import_id, posted_at],
    )
    run(
        con,
        f"INSERT INTO ledger_postings ({columns}) SELECT ?, ?, 'post', {POSTING} "
        "FROM split_new SEMI JOIN changed USING (order_id)",
        [import_id, posted_at],
    )
    posted = scalar(con, "SELECT count(*) FROM changed")
    run(con, "DROP TABLE split_new; DROP TABLE posted; DROP TABLE changed")
    return posted, reversed_orders


# Orders posted at a time: the split of a batch (a row an order, held by DuckDB while its
# entries are written) and the comparison with what the ledger holds stay within DuckDB's
# memory limit, however many orders one import or re-split touches.
POST_BATCH_ORDERS = 500_000


def post_ledger_in_batches(
    con: duckdb.DuckDBPyConnection,
    split_of: Callable[[OrderSelection], Query],
    orders: OrderSelection,
    import_id: int,
    posted_at: datetime,
) -> tuple[int, int]:
    """`post_ledger` of the orders `orders` selects, in batches of about `POST_BATCH_ORDERS`
    orders (`split_of`: the commission rules' query over a selection); all inside the
    caller's one transaction. Returns (orders posted, of which reversed earlier entries)."""
    touched = orders.where()
    count: int = scalar(
        con, f"SELECT count(*) FROM orders o WHERE {touched.sql}", dict(touched.params) or None
    )
    batches = max(1, -(-count // max(POST_BATCH_ORDERS, 1)))
    if batches == 1:
        return post_ledger(con, split_of(orders), orders, import_id, posted_at)
    posted = reversed_orders = 0
    for index in range(batches):
        batch = replace(orders, batch=(index, batches))
        done = post_ledger(con, split_of(batch), batch, import_id, posted_at)
        posted, reversed_orders = posted + done[0], reversed_orders + done[1]
    return posted, reversed_orders


# What an import of orders keeps between checking its orders and posting their splits: the
# new merchants it may touch and the part under the cap of each of their orders before it
# wrote (`keep_covered`), then the orders whose part moved (`spread_orders`). A file written
# in parts adds each part's new merchants (`SPREAD_NEW`) as it goes.
SPREAD_MERCHANTS = "ledger_spread_merchants"
SPREAD_NEW = "ledger_spread_new"
COVERED_BEFORE = "ledger_covered_before"
SPREAD_ORDERS = "ledger_spread_orders"


def keep_covered(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame, covered: str) -> None:
    """Before orders `incoming` (all of a file, or a part of it) are written: the new
    merchants (with a join date) they may touch — each order's merchant, its product's and
    the stored order's — not kept yet, added to the temporary table `SPREAD_MERCHANTS`, and
    `covered` (a query of order_id and covered over the merchants of `SPREAD_NEW`, those
    just added) as it is now, added to `COVERED_BEFORE`. A merchant first touched by a later
    part has no order an earlier part wrote, so what is kept is as it was before the file."""
    run(con, f"CREATE TEMP TABLE IF NOT EXISTS {SPREAD_MERCHANTS} (merchant_id VARCHAR)")
    con.register("ledger_incoming", _order_ids(incoming, "merchant_id"))
    try:
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE {SPREAD_NEW} AS "
            "SELECT merchant_id FROM merchants WHERE joined_on IS NOT NULL AND merchant_id IN ("
            "SELECT merchant_id FROM ledger_incoming "
            "UNION SELECT p.merchant_id FROM ledger_incoming JOIN products p USING (product_id) "
            "UNION SELECT o.merchant_id FROM ledger_incoming JOIN orders o USING (order_id)) "
            f"AND merchant_id NOT IN (SELECT merchant_id FROM {SPREAD_MERCHANTS})",
        )
    finally:
        con.unregister("ledger_incoming")
    run(con, f"INSERT INTO {SPREAD_MERCHANTS} SELECT merchant_id FROM {SPREAD_NEW}")
    run(con, f"CREATE TEMP TABLE IF NOT EXISTS {COVERED_BEFORE} AS {covered} LIMIT 0")
    run(con, f"INSERT INTO {COVERED_BEFORE} SELECT order_id, covered FROM ({covered})")
    run(con, f"DROP TABLE {SPREAD_NEW}")


def spread_orders(con: duckdb.DuckDBPyConnection, covered: str) -> str | None:
    """After the orders are written: the orders whose `covered` differs from what
    `keep_covered` kept, as a temporary table; its name, or None when nothing was kept."""
    kept = scalar(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [COVERED_BEFORE],
    )
    if not kept:
        return None
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {SPREAD_ORDERS} AS "
        f"SELECT order_id FROM ({covered}) a FULL JOIN {COVERED_BEFORE} b USING (order_id) "
        "WHERE coalesce(a.covered, 0) <> coalesce(b.covered, 0)",
    )
    return SPREAD_ORDERS


def forget_spread(con: duckdb.DuckDBPyConnection) -> None:
    """The tables of `keep_covered` and `spread_orders`, dropped."""
    for table in (SPREAD_ORDERS, COVERED_BEFORE, SPREAD_MERCHANTS, SPREAD_NEW):
        run(con, f"DROP TABLE IF EXISTS {table}")


def _ledger_filters(filters: LedgerFilters) -> tuple[str, list[Any]]:
    where, params = ["TRUE"], list[Any]()
    for key, column in (
        ("session", "session_id"),
        ("anchor", "anchor_id"),
        ("merchant", "merchant_id"),
    ):
        if filters.get(key):
            where.append(f"{column} = ?")
            params.append(filters[key])
    if filters.get("start"):
        where.append("paid_on >= ?")
        params.append(filters["start"])
    if filters.get("end"):
        where.append("paid_on <= ?")
        params.append(filters["end"])
    return " AND ".join(where), params


GROUPS = {
    "merchant": "merchant_id",
    "anchor": "anchor_id",
    "session": "session_id",
    "day": "paid_on",  # shown as text (2026-12-01)
}


def commission_totals(
    con: duckdb.DuckDBPyConnection, *, by: str, as_of: date, filters: LedgerFilters
) -> pl.DataFrame:
    """Ledger totals as of a date (entries posted on or before it, with the merchant, anchor,
    session and day they were posted under), per account and item or per group, account and
    item: `estimated_fen` (every valid order), `settled_fen` (entries whose settlement date
    has come) and `orders` (those with a base left, on the base rows). The filters' `start`
    and `end` are paid dates (`paid_on`), the business date; `as_of` is a posting date.

    One pass over the entries, no row per order: what stands of an order is its latest
    posting (a posting first reverses all that stood, `post_ledger`), whose base entry is
    above 0 (a base of 0 posts nothing) and is reversed under the same merchant, anchor,
    session and day. So in a group, an order's base entries are posts each followed by its
    reversal but the last, and their signs add up to 1 when a base is left there, else 0."""
    where, params = _ledger_filters(filters)
    group = "NULL" if by == "party" else GROUPS[by]
    # One pass over the postings (a row per order posting, a column per share): per group,
    # each share's sum, its settled part and whether any entry of it is there (a share
    # that is not 0: the entry the view `ledger` shows); then a row per account and item
    # that has entries, made text in the few rows that come out.
    sums = "".join(
        f", sum({c}) AS e{n}, coalesce(sum({c}) FILTER (WHERE settles_on <= ?), 0) AS s{n}, "
        f"count(*) FILTER (WHERE {c} <> 0) AS n{n}"
        for n, (c, _a, _i) in enumerate(SHARES)
    )
    shown = "NULL" if by == "party" else 'CAST("group" AS VARCHAR)'
    rows = " UNION ALL ".join(
        f"SELECT {shown} AS \"group\", '{account}' AS account, '{item}' AS item, "
        f"e{n} AS estimated_fen, s{n} AS settled_fen, "
        f"{'orders' if column == 'base_fen' else 'CAST(0 AS BIGINT)'} AS orders "
        f"FROM totals WHERE n{n} > 0"
        for n, (column, account, item) in enumerate(SHARES)
    )
    return frame(
        con,
        f"""
        WITH totals AS (
            SELECT {group} AS "group"{sums},
                   CAST(coalesce(sum(sign(base_fen)), 0) AS BIGINT) AS orders
            FROM ledger_postings WHERE CAST(posted_at AS DATE) <= ? AND {where}
            GROUP BY ALL
        )
        {rows}
        ORDER BY ALL
        """,
        [*([as_of] * len(SHARES)), as_of, *params],
    )


def orders_posted_later(
    con: duckdb.DuckDBPyConnection, *, as_of: date, filters: LedgerFilters
) -> int:
    """Orders paid on or before `as_of` (within the filters) that the ledger first heard of
    after it (imported later): those a report as of that day cannot show. Only the orders
    with an entry posted after `as_of` are grouped (most days none is)."""
    where, params = _ledger_filters(filters)
    return con.execute(
        f"""
        WITH later AS (
            SELECT DISTINCT order_id FROM ledger_postings
            WHERE CAST(posted_at AS DATE) > ? AND paid_on <= ? AND {where}
        )
        SELECT count(*) FROM (
            SELECT order_id FROM ledger_postings SEMI JOIN later USING (order_id)
            WHERE paid_on <= ? AND {where}
            GROUP BY order_id HAVING min(CAST(posted_at AS DATE)) > ?
        )
        """,
        [as_of, as_of, *params, as_of, *params, as_of],
    ).fetchall()[0][0]


def ledger_entries(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every ledger entry in posting order, with the merchant, anchor, session and paid date
    it was posted under."""
    return frame(
        con,
        """
        SELECT import_id, posted_at, order_id, merchant_id, anchor_id, session_id, paid_on,
               CAST(entry AS VARCHAR) AS entry, CAST(account AS VARCHAR) AS account,
               CAST(item AS VARCHAR) AS item, party_id, settles_on, amount_fen
        FROM ledger ORDER BY import_id, order_id, entry DESC, account, item
        """,
        [],
    )


def query_orders(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return frame(con, "SELECT * FROM orders ORDER BY order_id", [])
