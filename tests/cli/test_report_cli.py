"""`haowu report session|merchants|grades` as a team leader and a script use them: the
terminal, the documented CSV and JSON shapes, the page, and mistakes."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from haowu_cli.cli import run

SESSION_PRODUCT_COLUMNS = (
    "position,start,product_id,merchant_id,title,category_l1,role,minutes,expected_units,"
    "plan_version,expected_gmv,orders,units,gmv,refund,refund_rate,achievement,verdict,regular"
)
GROUP_COLUMNS = (
    "planned_products,expected_gmv,sold_products,orders,units,gmv,off_sheet_gmv,refund,"
    "refund_rate,achievement"
)
MERCHANT_COLUMNS = (
    "merchant_id,merchant_name,orders,gmv,previous_gmv,growth,reached,next,gap,activities,"
    "discount_eligible"
)

CROSSED_COLUMNS = "merchant_id,merchant_name,milestone,gmv,previous_gmv,first_time"
CLOSEST_COLUMNS = "merchant_id,merchant_name,gmv,next,next_gmv,gap,progress"
GRADE_COLUMNS = {
    "levels": "level,products,share,benefits",
    "categories": "category_l1,L5,L4,L3,L2,L1,L0,products,l4_up_share",
    "moves": "product_id,merchant_id,title,category_l1,previous_as_of,previous_level,level,"
    "direction",
}


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The demo's database: 49 products graded, plan 1 for A005 and its 3,306 orders."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    assert run(["--quiet", "demo", "--db", str(path)]) == 0
    return path


def test_session_report_in_the_terminal(cli, demo_db):
    result = cli("--db", demo_db, "report", "session", "1", "--as-of", "2026-12-31")
    assert result.code == 0, result.err
    for text in (
        "Session review 数据复盘: plan 1",
        "A005 宝妈团购站 on 2026-12-01 from 20:00, 180 minutes",
        "GMV vs plan",
        "per product",
        "by category",
        "by merchant",
        "常播款",
        "each party's income, from the ledger as of 2026-12-31",
        "matched: the orders of 专场 ZC20261201A005, the 专场 of A005's orders paid 2026-12-01",
        "add up to the base",
        "not planned",
    ):
        assert text in result.out, text


def test_session_report_csv_tables_and_json(cli, demo_db):
    result = cli("--db", demo_db, "report", "session", "1", "--format", "csv")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == SESSION_PRODUCT_COLUMNS
    assert len(lines) == 1 + 25  # 24 planned, 1 sold off the sheet
    categories = cli(
        "--db", demo_db, "report", "session", "1", "-f", "csv", "--table", "categories"
    )
    assert categories.out.splitlines()[0] == "category_l1," + GROUP_COLUMNS
    merchants = cli("--db", demo_db, "report", "session", "1", "-f", "csv", "--table", "merchants")
    assert merchants.out.splitlines()[0] == "merchant_id,merchant_name," + GROUP_COLUMNS
    data = json.loads(cli("--db", demo_db, "report", "session", "1", "-f", "json").out)
    assert set(data) == {"report", "title", "subtitle", "figures", "tables", "notes"}
    assert data["report"] == "session"
    assert list(data["tables"]) == ["products", "categories", "merchants", "regulars", "income"]
    assert data["figures"]["gmv"] == "237053.80"  # the sum of the sheet's 实付金额
    assert data["figures"]["orders"] == 3306
    first = data["tables"]["products"][0]
    assert first["product_id"] == "1002020148105" and first["position"] == 1
    assert re.fullmatch(r"\d+\.\d\d", first["gmv"])  # money as yuan text


def test_merchants_and_grades_reports_shapes(cli, demo_db):
    merchants = cli("--db", demo_db, "report", "merchants", "--format", "csv")
    assert merchants.code == 0, merchants.err
    assert merchants.out.splitlines()[0] == MERCHANT_COLUMNS
    for table, header in (("crossed", CROSSED_COLUMNS), ("closest", CLOSEST_COLUMNS)):
        result = cli("--db", demo_db, "report", "merchants", "-f", "csv", "--table", table)
        assert result.out.splitlines()[0] == header
    data = json.loads(cli("--db", demo_db, "report", "merchants", "-f", "json").out)
    assert data["figures"]["month"] == "2026-12" and data["figures"]["merchants"] == 6
    for table, header in GRADE_COLUMNS.items():
        result = cli("--db", demo_db, "report", "grades", "-f", "csv", "--table", table)
        assert result.code == 0, result.err
        assert result.out.splitlines()[0] == header
    text = cli("--db", demo_db, "report", "grades")
    assert "Grades: 49 products as of 2026-11-22" in text.out and "levels by category" in text.out
    assert "流量加持、专属标识、官方补贴、达人优选" in text.out  # L5's 权益, as grading.yaml says
    third = cli(
        "--db",
        demo_db,
        "report",
        "grades",
        "-f",
        "csv",
        "--table",
        "categories",
        "--category-level",
        "3",
    )
    assert third.code == 0, third.err
    rows = list(csv.DictReader(io.StringIO(third.out)))
    assert "日百>收纳整理>收纳盒" in {r["category_l3"] for r in rows}  # the sample's 三级类目
    assert "美妆>护肤" in {r["category_l3"] for r in rows}  # a sheet without them: down to 二级
    bad = cli("--db", demo_db, "report", "grades", "--category-level", "4")
    assert bad.code == 2


def test_each_report_writes_its_page(cli, demo_db, tmp_path):
    for args in (("session", "1"), ("merchants",), ("grades",)):
        page = tmp_path / f"{args[0]}.html"
        result = cli("--db", demo_db, "report", *args, "--html", page)
        assert result.code == 0, result.err
        assert f"wrote the page to {page}" in result.err
        root = ET.fromstring(page.read_text(encoding="utf-8").removeprefix("<!DOCTYPE html>\n"))
        assert root.tag == "html" and root.find("body/main/header/h1") is not None


def test_report_mistakes_get_clear_messages(cli, demo_db, tmp_path):
    result = cli("--db", demo_db, "report", "session", "1", "-f", "csv", "--table", "nope")
    assert result.code == 2
    assert "has no table 'nope'; it has products, categories, merchants" in result.err
    result = cli("--db", demo_db, "report", "session", "1", "--table", "categories")
    assert result.code == 2 and "add --format csv" in result.err
    result = cli("--db", demo_db, "report", "session", "7")
    assert result.code == 1 and "no plan 7" in result.err
    result = cli("--db", demo_db, "report", "merchants", "--month", "2026-13")
    assert result.code == 2 and "2026-13" in result.err
    result = cli("--db", demo_db, "report", "grades", "--as-of", "2026-10-01")
    assert result.code == 1 and "no grades on 2026-10-01" in result.err
    result = cli("--db", demo_db, "report", "grades", "--html", tmp_path / "no" / "g.html")
    assert result.code == 2 and "does not exist" in result.err  # refused: nothing done
    assert "Traceback" not in result.err
    result = cli("--db", tmp_path / "none.duckdb", "report", "grades")
    assert result.code != 0 and "no haowu database" in result.err
