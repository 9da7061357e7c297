"""What L0 counts from, through the installed haowu: the grade run's JSON counts the products
by their date (join, listing, none) and names the flagged ones; `grade explain` warns when the
listing date stands in and flags a product with neither date; the run log says both."""

from __future__ import annotations

import json

import duckdb


def test_the_grade_run_and_explain_say_what_l0_counted_from(haowu, demo_copy, home):
    with duckdb.connect(str(demo_copy)) as con:  # one product loses both of its dates
        con.execute(
            "UPDATE products SET listed_at = NULL, joined_at = NULL "
            "WHERE product_id = '1001020000493'"
        )
        dated = dict(
            con.execute(
                "SELECT joined_at IS NOT NULL, count(*) FROM products GROUP BY ALL"
            ).fetchall()
        )
    ran = haowu("--db", demo_copy, "grade", "--as-of", "2026-11-22", "--format", "json")
    assert ran.code == 0, ran
    run = json.loads(ran.out)
    # the daily-goods and home sheet gives 加入快分销时间; the others fall back, one has none
    assert run["l0_basis"] == {"joined_at": dated[True], "listed_at": dated[False] - 1, "none": 1}
    assert run["undated_products"] == ["1001020000493"]
    [line] = next(home.rglob("haowu.log")).read_text("utf-8").splitlines()  # one line a run
    assert f"L0 from joined_at={dated[True]} listed_at={dated[False] - 1} none=1" in line
    assert "(flagged: 1001020000493)" in line

    flagged = haowu("--db", demo_copy, "grade", "explain", "1001020000493")
    assert flagged.code == 0, flagged
    assert "warning: flagged: neither a 加入快分销 date nor a listing date" in flagged.err
    listed = haowu("--db", demo_copy, "grade", "explain", "1002020000421", "-f", "json")
    assert {row["l0_basis"] for row in json.loads(listed.out)} == {"listed_at"}
    joined = haowu("--db", demo_copy, "grade", "explain", "1003020259384")
    assert joined.code == 0 and "L0 counts from the 加入快分销 date 2026-11-18" in joined.out
    assert "level rule: L0: joined 快分销 within the last 14 days" in joined.out
    assert "硅藻泥吸水地垫 (日百>清洁用品>地垫): L0" in joined.out  # all three category levels
