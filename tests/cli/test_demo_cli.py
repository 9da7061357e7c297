"""`haowu demo`: every step on the bundled sample data, in a fresh database."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb


def test_demo_runs_every_step_into_a_fresh_database(cli, tmp_path):
    # The global --db (before the command name) is the demo's database too; `demo --db FILE`
    # is how the process tests' demo database is made (tests/process/conftest.py, `demo_db`),
    # and a demo with $HAOWU_DB set leaves that database alone (tests/process/test_cli_output.py).
    result = cli("--db", tmp_path / "demo.duckdb", "demo")
    assert result.code == 0, result.err
    steps = (
        "1. import",
        "2. grade",
        "3. explain",
        "4. list",
        "5. export",
        "6. plan",
        "7. commission",
        "8. report",
    )
    for step in steps:
        assert step in result.err
    assert "m1001_beauty_gbk.csv (gb18030): 10 rows: 10 new" in result.err
    assert "m1002_food_utf8bom.csv (utf-8-sig): 10 rows: 10 new" in result.err
    assert "m1006_jewelry.xlsx (xlsx): 6 rows: 6 new" in result.err
    assert "anchors.csv (utf-8-sig): 5 rows: 5 new" in result.err
    assert "Excel turned this ID into a number" in result.err  # the messy sheet's mistakes
    assert "graded 49 products as of 2026-11-22" in result.out
    # 14 products of the sample sheets give their 加入快分销 date; the others' listing date
    # stands in, and the run says so
    assert "35 products have no 加入快分销 date: L0 counted from their listing date" in result.err
    assert "level rule: L" in result.out and "to reach L" in result.out
    assert "plan 1, session 1: anchor A005 on 2026-12-01 from 20:00" in result.out
    assert "objective team income: ¥" in result.out and "(optimal)" in result.out
    assert "orders_a005.csv (utf-8-sig): 3,306 rows: 3,306 new" in result.err
    assert "check: estimated: parts ¥219,667.50 add up to the base ¥219,667.50" in result.out
    # It ends with the session review: its headline, and the page's path.
    assert "planned products' GMV vs plan" in result.out and "106%" in result.out
    page = Path(re.search(r"session review page: (.+)", result.out).group(1))
    text = page.read_text(encoding="utf-8")
    assert "Session review 数据复盘: plan 1" in text and "¥23.71万" in text
    # and the run sheet workbook for the host and the merchants, where it says.
    workbook = Path(re.search(r"run sheet workbook: (.+)", result.out).group(1))
    assert workbook.name == "排品表.xlsx" and str(workbook) in result.err
    assert workbook.read_bytes()[:2] == b"PK"  # a zip: a real workbook
    con = duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True)
    assert con.execute("SELECT count(DISTINCT merchant_id) FROM products").fetchone()[0] == 7
    # 跟播 and 场控 run on a copy: the demo database keeps its one plan
    assert con.execute("SELECT count(*) FROM plans").fetchone()[0] == 1
    con.close()
    assert "12. 跟播 and 场控: plan 2 for A005 on 2026-12-08" in result.err
    assert "plan 2, session 1: re-planned at 21:10 (minute 70)" in result.out
    assert "expected gain ¥" in result.out
    assert "plan 3, session 1, anchor A005: 2026-12-08 21:40:00" in result.out  # the version


def test_demo_refuses_an_existing_database(cli, tmp_path):
    (tmp_path / "mine.duckdb").write_bytes(b"")
    result = cli("demo", "--db", tmp_path / "mine.duckdb")
    assert result.code == 2 and "fresh database" in result.err
