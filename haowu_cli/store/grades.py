"""Grades: saving a grading run, a product's grade, and how levels moved.

Each product's latest grade that is not in the future (`LATEST_GRADES`) is what listing,
export, planning and reports go by.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from haowu_cli.store.lake import next_value
from haowu_cli.store.sql import Query, frame, insert_record, one_record, run, scalar

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = [
    "best_graded_product",
    "grade_detail",
    "LATEST_GRADES",
    "grade_floor",
    "l0_bases",
    "latest_grades_params",
    "latest_grades_sql",
    "latest_on",
    "rebuild_latest_grades",
    "level_changes",
    "next_grade_run_id",
    "product_grade",
    "record_grade_run",
    "save_grades",
    "update_latest_grades",
]


def grade_floor(day: str, *, before: bool = False) -> str:
    """SQL for the earliest date a search for each product's latest grade on or before `day`
    (strictly before, with `before`) needs to look at: history older than it cannot hold
    anyone's latest grade, so the search does not grow with the nights of history.

    That date is the latest full grading (every product, not one merchant's) in range that no
    later-run grading dated before it followed: such a run graded every product that had been
    graded before it (products are never deleted), so each of them has a grade on that date or
    after. A backfill (`grade --as-of` an earlier date, run later) moves the floor below it.
    `day` is a SQL expression; DATE '0001-01-01' (look at everything) when there is none."""
    compare = "<" if before else "<="
    return (
        "coalesce((SELECT max(r.as_of) FROM grade_runs r "
        f"WHERE r.merchant_id IS NULL AND r.as_of {compare} {day} "
        "AND NOT EXISTS (SELECT 1 FROM grade_runs later "
        "WHERE later.run_id > r.run_id AND later.as_of < r.as_of)), DATE '0001-01-01')"
    )


def latest_grades_sql(day: str) -> str:
    """SQL for each product's latest grade not after `day` (an SQL expression): its row of
    `latest_grades` (kept with every grading run: no search of the history), and for the few
    products whose latest grade is dated after `day` (`haowu grade --as-of` a later day with
    --allow-future), a search of their grades that looks back only to `grade_floor`."""
    return (
        "SELECT product_id, level, total AS total_score FROM latest_grades "
        f"WHERE as_of <= {day} UNION ALL "
        "SELECT product_id, arg_max(level, as_of), arg_max(total, as_of) FROM grades "
        f"WHERE as_of <= {day} AND as_of >= {grade_floor(day)} AND product_id IN "
        f"(SELECT product_id FROM latest_grades WHERE as_of > {day}) GROUP BY product_id"
    )


# Each product's latest grade that is not in the future (every `?`: today, as
# `latest_grades_params` gives them). A grade dated ahead waits for its day, so a database
# that holds one lists, exports, plans and reports by today's grades all the same. (Today is
# given each time, not joined in once: DuckDB filters by constants before it reads.)
LATEST_GRADES = latest_grades_sql("?")


def latest_grades_params(today: date | None) -> list[date]:
    """The parameters of `LATEST_GRADES`: today (default `dates.today()`), once per `?`."""
    return [grade_day(today)] * LATEST_GRADES.count("?")


def grade_day(today: date | None) -> date:
    from haowu_cli import dates

    return today if today is not None else dates.today()


def next_grade_run_id(con: duckdb.DuckDBPyConnection) -> int:
    run_id = next_value(con, "grade_run_seq")
    return run_id


def save_grades(
    con: duckdb.DuckDBPyConnection,
    grading: Query,
    as_of: date,
    run_id: int,
    merchant: str | None,
) -> tuple[dict[str, int], int, int, date | None]:
    """Grade every product (a merchant's only, when given: their percentiles are still taken
    among all products) by the model's query `grading` and put the grades in place of that
    date's earlier ones. Returns the count per level, how many moved up and down since the
    previous date, and that date."""
    params = {**grading.params, "grade_as_of": as_of, "run_id": run_id}
    insert = (
        "INSERT INTO grades SELECT $grade_as_of, product_id, $run_id, brand, price, "
        f"distribution, service, sales, total, level FROM ({grading.sql})"
    )
    if merchant is None:
        run(con, "DELETE FROM grades WHERE as_of = ?", [as_of])
        run(con, insert, params)
    else:
        run(
            con,
            "DELETE FROM grades WHERE as_of = ? AND product_id IN "
            "(SELECT product_id FROM products WHERE merchant_id = ?)",
            [as_of, merchant],
        )
        run(con, insert + " WHERE merchant_id = $merchant", {**params, "merchant": merchant})
    update_latest_grades(con, as_of, run_id)
    counts = dict(
        con.execute(
            "SELECT level, count(*) FROM grades WHERE run_id = ? GROUP BY level", [run_id]
        ).fetchall()
    )
    # Each product against its own previous grade (a merchant-only run may have graded some
    # products on a date and not others).
    # (Every date with grades has its run: the runs are far fewer to look through.)
    previous = scalar(con, "SELECT max(as_of) FROM grade_runs WHERE as_of < ?", [as_of])
    newest = scalar(
        con, "SELECT count(*) FROM latest_grades WHERE run_id = ? AND as_of = ?", [run_id, as_of]
    )
    if newest == sum(counts.values()):  # the date is every graded product's latest
        up, down = con.execute(
            "SELECT count(*) FILTER (WHERE level > previous_level), "
            "count(*) FILTER (WHERE level < previous_level) FROM latest_grades WHERE run_id = ?",
            [run_id],
        ).fetchall()[0]
        return counts, up, down, previous
    up, down = con.execute(  # a backfill: some have later grades
        "SELECT count(*) FILTER (WHERE g.level > p.level), "
        "count(*) FILTER (WHERE g.level < p.level) "
        "FROM grades g JOIN (SELECT product_id, arg_max(level, as_of) AS level FROM grades "
        f"WHERE as_of < $day AND as_of >= {grade_floor('$day', before=True)} "
        "GROUP BY product_id) p USING (product_id) WHERE g.run_id = $run_id",
        {"day": as_of, "run_id": run_id},
    ).fetchall()[0]
    return counts, up, down, previous


def update_latest_grades(con: duckdb.DuckDBPyConnection, as_of: date, run_id: int) -> None:
    """Bring `latest_grades` up to date with the grades that run `run_id` has just written
    on `as_of`, in place of each of those products' earlier grades on that date: the date is
    a product's latest when none is later, else its previous when it falls between. Reads
    only this run's grades and the products' rows: no history. A run dated after every
    date there (each new night) takes a shorter way (`_update_latest_after`); a re-run of a
    date, a backfill or a date behind a grade ahead take the general one below.

    (Not a MERGE that updates the rows in place: it cost less on the first night, but with
    it the 32nd night's grading took 17 × the second night's at 100,000 products
    (bench_grade_history.py); the cause was not pinned down.)"""
    kept, newest = con.execute("SELECT count(*), max(as_of) FROM latest_grades").fetchall()[0]
    if newest is None or as_of > newest:
        _update_latest_after(con, run_id, kept)
        return
    new = "$day >= l.as_of OR l.as_of IS NULL"  # the run's grade is the product's latest
    between = "l.previous_as_of IS NULL OR l.previous_as_of <= $day"  # or its previous one
    run(
        con,
        f"""
        INSERT INTO latest_grades
        SELECT n.product_id,
               CASE WHEN {new} THEN n.as_of ELSE l.as_of END,
               CASE WHEN {new} THEN n.level ELSE l.level END,
               CASE WHEN {new} THEN n.total ELSE l.total END,
               CASE WHEN l.as_of IS NULL THEN NULL WHEN $day > l.as_of THEN l.as_of
                    WHEN $day = l.as_of OR NOT ({between}) THEN l.previous_as_of
                    ELSE n.as_of END,
               CASE WHEN l.as_of IS NULL THEN NULL WHEN $day > l.as_of THEN l.level
                    WHEN $day = l.as_of OR NOT ({between}) THEN l.previous_level
                    ELSE n.level END,
               $run_id
        FROM grades n LEFT JOIN latest_grades l USING (product_id)
        WHERE n.run_id = $run_id
        """,
        {"day": as_of, "run_id": run_id},
    )
    _delete_replaced_latest(con, run_id)


def _update_latest_after(con: duckdb.DuckDBPyConnection, run_id: int, kept: int) -> None:
    """`update_latest_grades` when the run's date is after every date in `latest_grades`
    (`kept` rows), as on every new night: each graded product's new row is the run's grade,
    and its previous one the product's row until now (three of its columns read, not six).
    When every row until now belongs to a product the run graded (a full run grades every
    product, and products are not deleted), they all go by their run, with no second join
    against the run's products (at 1,000,000 products that join took about 0.2 of the 1.1
    CPU seconds the next night spent on `latest_grades`). Otherwise (one merchant's
    products) the replaced rows go by product, as on the general path."""
    run(
        con,
        """
        INSERT INTO latest_grades
        SELECT n.product_id, n.as_of, n.level, n.total, l.as_of, l.level, $run_id
        FROM grades n LEFT JOIN latest_grades l USING (product_id)
        WHERE n.run_id = $run_id
        """,
        {"run_id": run_id},
    )
    # A product with an earlier row now has a previous date (the run's date is after all):
    # how many earlier rows the run's products replace (a run grades each product once).
    replaced = scalar(
        con, "SELECT count(previous_as_of) FROM latest_grades WHERE run_id = ?", [run_id]
    )
    if replaced == kept:
        if kept:
            run(con, "DELETE FROM latest_grades WHERE run_id <> ?", [run_id])
        return
    _delete_replaced_latest(con, run_id)


def _delete_replaced_latest(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    """The rows of `latest_grades` that run `run_id`'s new rows replace: its products' others."""
    run(
        con,
        "DELETE FROM latest_grades WHERE run_id <> $run_id AND product_id IN "
        "(SELECT product_id FROM grades WHERE run_id = $run_id)",
        {"run_id": run_id},
    )


def rebuild_latest_grades(con: duckdb.DuckDBPyConnection) -> None:
    """`latest_grades` worked out again from the whole history, as the migration that added
    it did: for grades written by hand (tests, repairs)."""
    run(con, "DELETE FROM latest_grades")
    run(
        con,
        """
        INSERT INTO latest_grades
        SELECT product_id, as_of, level, total, previous_as_of, previous_level, run_id FROM (
            SELECT product_id, as_of, level, total, run_id,
                   lag(as_of) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_as_of,
                   lag(level) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_level,
                   row_number() OVER (PARTITION BY product_id ORDER BY as_of DESC) AS newest
            FROM grades
        ) WHERE newest = 1
        """,
    )


def latest_on(con: duckdb.DuckDBPyConnection, as_of: date) -> bool:
    """Whether `as_of` is the latest grading date of every product graded on it, so that
    `latest_grades` holds each one's grade that day and the one before."""
    graded = scalar(con, "SELECT count(*) FROM grades WHERE as_of = ?", [as_of])
    latest = scalar(con, "SELECT count(*) FROM latest_grades WHERE as_of = ?", [as_of])
    return bool(graded == latest)


def l0_bases(
    con: duckdb.DuckDBPyConnection, merchant: str | None, basis: str, *, sample: int = 20
) -> tuple[dict[str, int], list[str]]:
    """The products a grading run grades (every product, or one merchant's: as `save_grades`
    takes them), counted by the date their L0 rule counts from (`basis`: the model's SQL over
    `products p`, giving joined_at, listed_at or none), and the first `sample` IDs of those
    with no date at all. It reads the products alone: no join with the grades."""
    where, params = ("p.merchant_id = ?", [merchant]) if merchant is not None else ("TRUE", [])
    counts = dict(
        con.execute(
            f"SELECT {basis} AS basis, count(*) FROM products p WHERE {where} GROUP BY basis",
            params,
        ).fetchall()
    )
    undated = [
        r[0]
        for r in con.execute(
            f"SELECT p.product_id FROM products p WHERE {where} AND {basis} = 'none' "
            "ORDER BY p.product_id LIMIT ?",
            [*params, sample],
        ).fetchall()
    ]
    return counts, undated


def record_grade_run(con: duckdb.DuckDBPyConnection, record: Mapping[str, Any]) -> None:
    insert_record(con, "grade_runs", record)


def product_grade(
    con: duckdb.DuckDBPyConnection,
    product_id: str,
    as_of: date | None = None,
    *,
    today: date | None = None,
) -> dict[str, Any] | None:
    """A product's stored grade on `as_of` (default: its latest not after `today`), with its
    title and category."""
    sql = (
        "SELECT g.*, p.title, p.merchant_id, p.category_l1, p.category_l2, p.category_l3 "
        "FROM grades g "
        "LEFT JOIN products p USING (product_id) WHERE g.product_id = ? "
    )
    params: list[Any] = [product_id]
    if as_of is None:  # its latest, when that is not in the future
        found = con.execute(
            "SELECT as_of FROM latest_grades WHERE product_id = ? AND as_of <= ?",
            [product_id, grade_day(today)],
        ).fetchall()
        as_of = found[0][0] if found else None
    if as_of is not None:
        sql += "AND g.as_of = ? "
        params.append(as_of)
    else:
        sql += "AND g.as_of <= ? "
        params.append(grade_day(today))
    return one_record(con, sql + "ORDER BY g.as_of DESC LIMIT 1", params)


def level_changes(con: duckdb.DuckDBPyConnection, since: date | None = None) -> pl.DataFrame:
    """Products whose level changed from one grading date to the next, since `since`."""
    return frame(
        con,
        """
        SELECT c.product_id, p.merchant_id, p.title, c.previous_as_of, c.previous_level,
               c.as_of, c.level,
               CASE WHEN c.level > c.previous_level THEN 'up' ELSE 'down' END AS direction
        FROM (
            SELECT product_id, as_of, level,
                   lag(as_of) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_as_of,
                   lag(level) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_level
            FROM grades
        ) c LEFT JOIN products p USING (product_id)
        WHERE c.previous_level IS NOT NULL AND c.previous_level <> c.level
          AND (? IS NULL OR c.as_of >= ?)
        ORDER BY c.as_of, c.product_id
        """,
        [since, since],
    )


def grade_detail(
    con: duckdb.DuckDBPyConnection, grading: Query, product_id: str
) -> dict[str, Any] | None:
    """One product's row of the model's detailed query (`grading_query(..., detail=True)`):
    every input's value and score as today's product data give them; None when the product
    is gone."""
    return one_record(
        con,
        f"SELECT * FROM ({grading.sql}) WHERE product_id = $product_id",
        {**grading.params, "product_id": product_id},
    )


def best_graded_product(con: duckdb.DuckDBPyConnection, level: str) -> str | None:
    """The product with the best total among those graded `level` (else the best overall)."""
    rows = con.execute(
        "SELECT product_id FROM grades ORDER BY level = ? DESC, total DESC, product_id LIMIT 1",
        [level],
    ).fetchall()
    return rows[0][0] if rows else None
