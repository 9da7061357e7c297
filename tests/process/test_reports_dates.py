"""Dates in the future, through the installed `haowu`: a grading date after today is refused
(exit 2) unless `--allow-future`, and a grade dated ahead never becomes a product's latest
grade for listing, export, planning or reports until its day. Today is `HAOWU_TODAY`."""

from __future__ import annotations

import csv
import io
import json

import duckdb

from haowu_cli.store.grades import rebuild_latest_grades

TODAY = {"HAOWU_TODAY": "2026-12-02"}  # the demo grades as of 2026-11-22
FUTURE = "2027-01-01"


def grading_dates(databases, path) -> list[str]:
    rows = databases.rows(path, "SELECT DISTINCT as_of FROM grades ORDER BY 1")
    return [str(r[0]) for r in rows]


def test_grading_after_today_is_refused_unless_allowed(haowu, demo_copy, databases):
    ran = haowu("--db", demo_copy, "grade", "--as-of", FUTURE, env=TODAY)
    assert ran.code == 2, ran
    assert f"--as-of {FUTURE} is in the future (today is 2026-12-02)" in ran.err
    assert "--allow-future" in ran.err and ran.out == ""
    assert grading_dates(databases, demo_copy) == ["2026-11-22"]

    ran = haowu("--db", demo_copy, "grade", "--as-of", "2026-12-02", env=TODAY)
    assert ran.code == 0, ran
    ran = haowu("--db", demo_copy, "grade", "--as-of", FUTURE, "--allow-future", env=TODAY)
    assert ran.code == 0, ran
    assert grading_dates(databases, demo_copy) == ["2026-11-22", "2026-12-02", FUTURE]
    # On its day, the same date needs no flag.
    ran = haowu("--db", demo_copy, "grade", "--as-of", FUTURE, env={"HAOWU_TODAY": FUTURE})
    assert ran.code == 0, ran


def test_a_bad_haowu_today_is_a_usage_error(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "grade", env={"HAOWU_TODAY": "2026-13-01"})
    assert ran.code == 2, ran
    assert "HAOWU_TODAY='2026-13-01' is not a date" in ran.err
    assert "Traceback" not in ran.err


def test_future_grades_in_a_database_wait_for_their_day(haowu, demo_copy):
    """A database that already holds grades dated ahead (every product L0 on 2027-01-01):
    today's listing, export, plan and grades report go by the 2026-11-22 grades."""
    with duckdb.connect(str(demo_copy)) as con:
        con.execute(
            f"INSERT INTO grades SELECT DATE '{FUTURE}', product_id, run_id, brand, price, "
            "distribution, service, sales, 0, 'L0' FROM grades"
        )
        rebuild_latest_grades(con)  # as grading on that date would have left it
        today_levels = dict(
            con.execute(
                "SELECT product_id, level FROM grades WHERE as_of = '2026-11-22'"
            ).fetchall()
        )
    assert set(today_levels.values()) != {"L0"}

    listed = haowu("--db", demo_copy, "products", "--format", "json", env=TODAY)
    assert listed.code == 0, listed
    assert {p["product_id"]: p["level"] for p in json.loads(listed.out)} == today_levels

    exported = haowu("--db", demo_copy, "export", "products", env=TODAY)
    assert exported.code == 0, exported
    rows = list(csv.DictReader(io.StringIO(exported.out.lstrip("\ufeff"))))
    assert {r["product_id"]: r["level"] for r in rows} == today_levels

    # The plan needs L3 and better: with the future L0s as the latest, nothing would qualify.
    plan = ("plan-session", "--anchor", "A005", "--date", "2026-12-10", "--min-level", "L3")
    planned = haowu("--db", demo_copy, *plan, "--min-products", "5", "--dry-run", env=TODAY)
    assert planned.code == 0, planned
    assert "optimal" in planned.err

    report = haowu("--db", demo_copy, "report", "grades", "--format", "json", env=TODAY)
    assert report.code == 0, report
    assert json.loads(report.out)["figures"]["as_of"] == "2026-11-22"
    explained = haowu(
        "--db", demo_copy, "grade", "explain", next(iter(today_levels)), "-f", "json", env=TODAY
    )
    assert explained.code == 0, explained
    assert {row["as_of"] for row in json.loads(explained.out)} == {"2026-11-22"}

    # On the day, the grades dated then are the latest.
    on_the_day = {"HAOWU_TODAY": FUTURE}
    listed = haowu("--db", demo_copy, "products", "--format", "json", env=on_the_day)
    assert {p["level"] for p in json.loads(listed.out)} == {"L0"}
    report = haowu("--db", demo_copy, "report", "grades", "--format", "json", env=on_the_day)
    assert json.loads(report.out)["figures"]["as_of"] == FUTURE
