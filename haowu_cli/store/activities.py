"""招商活动 in the database: activities and their windows, applications (报名), the review
decisions (审核, kept as history), and merchants' join dates.

The review itself is the activities module's query (`activities.review_query`); the store runs
it and appends a decision wherever the outcome changed, never over a person's decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from haowu_cli.store.lake import next_value
from haowu_cli.store.sql import Query, frame, insert_record, one_record, run, scalar

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "LATEST_DECISIONS",
    "activity_applications",
    "activity_sales",
    "activity_ids",
    "activity_record",
    "add_products_from_applications",
    "decision_history",
    "has_orders",
    "merchant_rows",
    "passed_applications",
    "query_activities",
    "record_decision",
    "review_activity",
    "save_activity",
    "joined_on",
    "set_joined",
]

# Each application's latest decision (`$activity_id`).
LATEST_DECISIONS = (
    "SELECT * FROM decisions WHERE activity_id = $activity_id "
    "QUALIFY row_number() OVER (PARTITION BY product_id ORDER BY decision_id DESC) = 1"
)


def save_activity(
    con: duckdb.DuckDBPyConnection,
    record: Mapping[str, Any],
    windows: Sequence[Mapping[str, Any]],
    now: datetime,
) -> bool:
    """Create or replace an activity and its windows; True when it was new. Its applications
    and decisions stay. Call inside a transaction."""
    activity_id = record["activity_id"]
    created = scalar(
        con, "SELECT min(created_at) FROM activities WHERE activity_id = ?", [activity_id]
    )
    run(con, "DELETE FROM activities WHERE activity_id = ?", [activity_id])
    run(con, "DELETE FROM activity_windows WHERE activity_id = ?", [activity_id])
    insert_record(con, "activities", {**record, "created_at": created or now, "updated_at": now})
    for position, window in enumerate(windows, start=1):
        insert_record(
            con, "activity_windows", {"activity_id": activity_id, "position": position, **window}
        )
    return created is None


def activity_record(
    con: duckdb.DuckDBPyConnection, activity_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """An activity's row and its windows in order; None when there is no such activity."""
    record = one_record(con, "SELECT * FROM activities WHERE activity_id = ?", [activity_id])
    if record is None:
        return None
    rows = con.execute(
        "SELECT name, kind, starts_at, ends_at FROM activity_windows WHERE activity_id = ? "
        "ORDER BY position",
        [activity_id],
    ).fetchall()
    windows = [dict(zip(("name", "kind", "starts_at", "ends_at"), r, strict=True)) for r in rows]
    return record, windows


def activity_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT activity_id FROM activities ORDER BY 1").fetchall()]


def query_activities(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every activity with its first and last window times and its applications by status."""
    return frame(
        con,
        """
        WITH latest AS (
            SELECT * FROM decisions
            QUALIFY row_number() OVER (PARTITION BY activity_id, product_id
                                       ORDER BY decision_id DESC) = 1
        ), counts AS (
            SELECT a.activity_id, count(*) AS applications,
                   count(*) FILTER (WHERE d.status = 'passed') AS passed,
                   count(*) FILTER (WHERE d.status = 'rejected') AS rejected,
                   count(*) FILTER (WHERE d.status = 'manual') AS manual,
                   count(*) FILTER (WHERE d.status IS NULL) AS pending
            FROM applications a LEFT JOIN latest d USING (activity_id, product_id)
            GROUP BY a.activity_id
        ), spans AS (
            SELECT activity_id, min(starts_at) AS starts_at, max(ends_at) AS ends_at
            FROM activity_windows GROUP BY activity_id
        )
        SELECT v.activity_id, v.name, v.activity_type, v.apply_until, s.starts_at, s.ends_at,
               coalesce(c.applications, 0) AS applications, coalesce(c.passed, 0) AS passed,
               coalesce(c.rejected, 0) AS rejected, coalesce(c.manual, 0) AS manual,
               coalesce(c.pending, 0) AS pending
        FROM activities v LEFT JOIN spans s USING (activity_id)
        LEFT JOIN counts c USING (activity_id)
        ORDER BY s.starts_at NULLS LAST, v.activity_id
        """,
        [],
    )


def activity_applications(con: duckdb.DuckDBPyConnection, activity_id: str) -> pl.DataFrame:
    """An activity's applications with their product's title, category and level, and their
    latest decision: status (pending when none), reasons, when and by whom."""
    return frame(
        con,
        f"""
        SELECT a.activity_id, a.merchant_id, a.product_id,
               coalesce(a.title, p.title) AS title,
               coalesce(a.category_l1, p.category_l1) AS category_l1,
               a.activity_price_fen, coalesce(a.list_price_fen, p.list_price_fen) AS list_price_fen,
               coalesce(a.commission_rate, p.commission_rate) AS commission_rate,
               coalesce(a.service_fee_rate, p.service_fee_rate) AS service_fee_rate,
               coalesce(a.stock, p.stock) AS stock, coalesce(a.mechanism, p.mechanism) AS mechanism,
               coalesce(d.status, 'pending') AS status,
               coalesce(d.reasons, []::VARCHAR[]) AS reasons,
               d.level, d.decided_at, d.decided_by, coalesce(d.manual, false) AS manual
        FROM applications a LEFT JOIN products p USING (product_id)
        LEFT JOIN ({LATEST_DECISIONS}) d USING (activity_id, product_id)
        WHERE a.activity_id = $activity_id
        ORDER BY a.merchant_id, a.product_id
        """,
        {"activity_id": activity_id},
    )


def passed_applications(con: duckdb.DuckDBPyConnection, activity_id: str) -> pl.DataFrame:
    """The applications an activity passed, at the activity's terms: its price, stock and
    rates (the product's where the application gave none), as the planner reads products."""
    return frame(
        con,
        f"""
        SELECT a.product_id
        FROM applications a JOIN ({LATEST_DECISIONS}) d USING (activity_id, product_id)
        WHERE a.activity_id = $activity_id AND d.status = 'passed'
        """,
        {"activity_id": activity_id},
    )


def review_activity(
    con: duckdb.DuckDBPyConnection,
    review: Query,
    *,
    activity_id: str,
    fingerprint: str,
    decided_at: datetime,
    dry_run: bool,
    shown: int = 1000,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Run the review query (`activities.review_query`) and append a decision for every
    application whose outcome changed and that no person decided. Returns the count of
    applications by outcome (`passed`, `rejected`, `manual`; a person's decision counted as
    it stands), `kept` (decided by a person), `recorded` (decisions recorded, or in a dry run
    that would be), and up to `shown` of the changed applications (product_id, merchant_id,
    level, status, reasons). Call inside a transaction."""
    params = {**review.params, "activity_id": activity_id}
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP TABLE reviewed AS
        WITH r AS ({review.sql})
        SELECT r.product_id, r.merchant_id, r.level,
               CASE WHEN len(r.hard) > 0 THEN 'rejected' WHEN len(r.near) > 0 THEN 'manual'
                    ELSE 'passed' END AS status,
               list_concat(r.hard, r.near) AS reasons,
               coalesce(d.manual, false) AS kept,
               d.status AS was, d.reasons AS was_reasons
        FROM r LEFT JOIN ({LATEST_DECISIONS}) d USING (product_id)
        """,
        params,
    )
    changed = "NOT kept AND (was IS NULL OR was <> status OR was_reasons <> reasons)"
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE (CASE WHEN kept THEN was ELSE status END) = 'passed'), "
        "count(*) FILTER (WHERE (CASE WHEN kept THEN was ELSE status END) = 'rejected'), "
        "count(*) FILTER (WHERE (CASE WHEN kept THEN was ELSE status END) = 'manual'), "
        f"count(*) FILTER (WHERE kept), count(*) FILTER (WHERE {changed}), count(*) "
        "FROM reviewed"
    ).fetchall()[0]
    summary = dict(
        zip(
            ("passed", "rejected", "manual", "kept", "recorded", "applications"),
            counts,
            strict=True,
        )
    )
    if not dry_run and summary["recorded"]:
        first = next_value(con, "decision_id_seq", summary["recorded"])
        run(
            con,
            "INSERT INTO decisions SELECT $first + row_number() OVER (ORDER BY product_id) - 1, "
            "$activity_id, product_id, $decided_at, status, reasons, 'review', false, "
            f"$fingerprint, level FROM reviewed WHERE {changed}",
            {
                "first": first,
                "activity_id": activity_id,
                "decided_at": decided_at,
                "fingerprint": fingerprint,
            },
        )
    found = con.execute(
        "SELECT product_id, merchant_id, level, status, reasons FROM reviewed "
        f"WHERE {changed} ORDER BY merchant_id, product_id LIMIT ?",
        [shown],
    )
    names = [d[0] for d in found.description]
    result = [dict(zip(names, row, strict=True)) for row in found.fetchall()]
    run(con, "DROP TABLE reviewed")
    return summary, result


def record_decision(
    con: duckdb.DuckDBPyConnection,
    *,
    activity_id: str,
    product_id: str,
    status: str,
    reasons: list[str],
    decided_by: str,
    fingerprint: str,
    decided_at: datetime,
    today: date,
) -> bool:
    """A person's decision on one application; False when the activity has no application
    for the product. Call inside a transaction."""
    found = scalar(
        con,
        "SELECT count(*) FROM applications WHERE activity_id = ? AND product_id = ?",
        [activity_id, product_id],
    )
    if not found:
        return False
    level = con.execute(
        "SELECT arg_max(level, as_of) FROM grades WHERE product_id = ? AND as_of <= ?",
        [product_id, today],
    ).fetchall()[0][0]
    run(
        con,
        "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, true, ?, ?)",
        [
            next_value(con, "decision_id_seq"),
            *(activity_id, product_id, decided_at, status, reasons, decided_by, fingerprint),
            level,
        ],
    )
    return True


def decision_history(
    con: duckdb.DuckDBPyConnection, activity_id: str, product_id: str | None = None
) -> pl.DataFrame:
    """Every decision on an activity's applications (one product's, when given), oldest first."""
    where = "activity_id = $activity_id" + (" AND product_id = $product_id" if product_id else "")
    params: dict[str, Any] = {"activity_id": activity_id}
    if product_id:
        params["product_id"] = product_id
    return frame(
        con,
        "SELECT decision_id, product_id, decided_at, status, reasons, decided_by, manual, "
        f"rules_fingerprint, level FROM decisions WHERE {where} ORDER BY decision_id",
        params,
    )


def add_products_from_applications(con: duckdb.DuckDBPyConnection, import_id: int) -> int:
    """Products an import of applications names that the database does not know yet: added
    from the application (title, category, prices, rates, stock), so that they can be graded
    and planned. Returns how many."""
    added: int = scalar(
        con,
        """
        INSERT INTO products (product_id, merchant_id, title, category_l1, list_price_fen,
                              live_price_fen, commission_rate, service_fee_rate, stock,
                              shop_score, sample, mechanism, created_import_id,
                              updated_import_id)
        SELECT a.product_id, any_value(a.merchant_id), any_value(a.title),
               any_value(a.category_l1), any_value(a.list_price_fen),
               any_value(a.activity_price_fen), any_value(a.commission_rate),
               any_value(a.service_fee_rate), any_value(a.stock), any_value(a.shop_score),
               any_value(a.sample), any_value(a.mechanism), $import_id, $import_id
        FROM applications a ANTI JOIN products p USING (product_id)
        WHERE a.updated_import_id = $import_id
        GROUP BY a.product_id
        """,
        {"import_id": import_id},
    )
    return added


def set_joined(
    con: duckdb.DuckDBPyConnection,
    merchant_id: str,
    joined_on: date,
    source: str,
    now: datetime,
) -> None:
    """A merchant's 加入快分销 date. Call inside a transaction."""
    run(con, "DELETE FROM merchants WHERE merchant_id = ?", [merchant_id])  # no keys on a lake
    run(
        con,
        "INSERT INTO merchants VALUES (?, ?, ?, ?)",
        [merchant_id, joined_on, source, now],
    )


def joined_on(con: duckdb.DuckDBPyConnection, merchant_id: str) -> date | None:
    """A merchant's 加入快分销 date, None when haowu has none."""
    found = con.execute(
        "SELECT joined_on FROM merchants WHERE merchant_id = ?", [merchant_id]
    ).fetchall()
    return found[0][0] if found else None


def has_orders(con: duckdb.DuckDBPyConnection, merchant_id: str) -> bool:
    """Whether haowu holds any order of the merchant."""
    query = "SELECT count(*) FROM orders WHERE merchant_id = ?"
    return bool(con.execute(query, [merchant_id]).fetchall()[0][0])


def merchant_rows(
    con: duckdb.DuckDBPyConnection, *, month_start: date, month_end: date, new_days: int = 30
) -> pl.DataFrame:
    """Every merchant haowu knows (from products, applications or the merchants table): its
    join date, shop score (the lowest of its products'), activities it has a passed
    application in whose windows touch the month, and the month's GMV (paid − refunded,
    valid orders paid in the month)."""
    return frame(
        con,
        """
        WITH ids AS (
            SELECT merchant_id FROM products UNION SELECT merchant_id FROM applications
            UNION SELECT merchant_id FROM merchants UNION
            SELECT merchant_id FROM orders WHERE merchant_id IS NOT NULL
        ), scores AS (
            SELECT merchant_id, min(shop_score) AS shop_score, any_value(merchant_name) AS name
            FROM products GROUP BY merchant_id
        ), latest AS (
            SELECT * FROM decisions
            QUALIFY row_number() OVER (PARTITION BY activity_id, product_id
                                       ORDER BY decision_id DESC) = 1
        ), took_part AS (
            SELECT a.merchant_id, count(DISTINCT a.activity_id) AS activities
            FROM applications a JOIN latest d USING (activity_id, product_id)
            WHERE d.status = 'passed' AND a.activity_id IN (
                SELECT activity_id FROM activity_windows
                WHERE CAST(starts_at AS DATE) <= $month_end
                  AND CAST(ends_at AS DATE) >= $month_start)
            GROUP BY a.merchant_id
        ), gmv AS (
            SELECT merchant_id,
                   sum(CASE WHEN status = 'invalid' THEN 0
                            ELSE greatest(paid_amount_fen - coalesce(refund_amount_fen, 0), 0)
                       END) AS gmv_fen
            FROM orders WHERE paid_at BETWEEN $month_start AND $month_end GROUP BY merchant_id
        ), new_gmv AS (  -- GMV (paid − refunded) in the merchant's first `new_days` days
            SELECT o.merchant_id,
                   sum(CASE WHEN o.status = 'invalid' THEN 0
                            ELSE greatest(o.paid_amount_fen - coalesce(o.refund_amount_fen, 0), 0)
                       END) AS gmv_fen
            FROM orders o JOIN merchants m USING (merchant_id)
            WHERE o.paid_at >= m.joined_on AND o.paid_at < m.joined_on + $new_days
            GROUP BY o.merchant_id
        )
        SELECT i.merchant_id, s.name, m.joined_on, m.joined_from,
               CAST(m.joined_on + ($new_days - 1) AS DATE) AS new_until,
               coalesce(n.gmv_fen, 0) AS new_window_gmv_fen, s.shop_score,
               coalesce(t.activities, 0) AS activities_this_month,
               coalesce(g.gmv_fen, 0) AS gmv_this_month_fen
        FROM ids i LEFT JOIN merchants m USING (merchant_id) LEFT JOIN scores s USING (merchant_id)
        LEFT JOIN took_part t USING (merchant_id) LEFT JOIN gmv g USING (merchant_id)
        LEFT JOIN new_gmv n USING (merchant_id)
        ORDER BY i.merchant_id
        """,
        {"month_start": month_start, "month_end": month_end, "new_days": new_days},
    )


def activity_sales(
    con: duckdb.DuckDBPyConnection, activity_id: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An activity's sales: per window (GMV of its passed products' orders paid on the
    window's days, and the GMV its latest plan expected in them), and per passed product (GMV
    and units over all its windows). GMV is paid − refunded, invalid orders counting 0."""
    params = {"activity_id": activity_id}
    sold = f"""
        WITH passed AS (
            SELECT a.product_id FROM applications a
            JOIN ({LATEST_DECISIONS}) d USING (activity_id, product_id)
            WHERE a.activity_id = $activity_id AND d.status = 'passed'
        ), windows AS (
            SELECT position, name, kind, CAST(starts_at AS DATE) AS first_day,
                   CAST(ends_at AS DATE) AS last_day
            FROM activity_windows WHERE activity_id = $activity_id
        ), sold AS (
            SELECT w.position, o.product_id, coalesce(o.quantity, 1) AS units,
                   CASE WHEN o.status = 'invalid' THEN 0
                        ELSE greatest(o.paid_amount_fen - coalesce(o.refund_amount_fen, 0), 0)
                   END AS gmv_fen
            FROM orders o JOIN windows w ON o.paid_at BETWEEN w.first_day AND w.last_day
            WHERE o.product_id IN (SELECT product_id FROM passed)
        )"""
    by_window = frame(
        con,
        sold
        + """, latest_plan AS (
            SELECT max(plan_id) AS plan_id FROM plans
            WHERE json_extract_string(brief, '$.activity') = $activity_id
        ), planned AS (
            SELECT w.position, sum(i.expected_gmv_fen) AS planned_gmv_fen
            FROM plan_items i JOIN windows w ON i.session_date BETWEEN w.first_day AND w.last_day
            WHERE i.plan_id = (SELECT plan_id FROM latest_plan)
            GROUP BY w.position
        )
        SELECT w.name, w.kind, w.first_day, w.last_day,
               coalesce(sum(s.gmv_fen), 0) AS gmv_fen, coalesce(sum(s.units), 0) AS units,
               any_value(p.planned_gmv_fen) AS planned_gmv_fen
        FROM windows w LEFT JOIN sold s USING (position) LEFT JOIN planned p USING (position)
        GROUP BY w.position, w.name, w.kind, w.first_day, w.last_day ORDER BY w.position
        """,
        params,
    )
    by_product = frame(
        con,
        sold
        + """
        SELECT s.product_id, any_value(p.title) AS title, any_value(p.merchant_id) AS merchant_id,
               sum(s.units) AS units, sum(s.gmv_fen) AS gmv_fen
        FROM sold s LEFT JOIN products p USING (product_id)
        GROUP BY s.product_id ORDER BY gmv_fen DESC, s.product_id
        """,
        params,
    )
    return by_window, by_product
