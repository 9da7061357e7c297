"""The run sheet workbook (`planner.workbook`) of a plan built here: sessions, sheets,
selling points, page breaks, the print scale."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

from haowu_cli import exporting
from haowu_cli.planner.rules import RunSheetSettings
from haowu_cli.planner.workbook import RunSheetPlan, fit_width_scale, write_run_sheet

openpyxl = pytest.importorskip("openpyxl")


def item(session: int, position: int, start_minute: int, merchant: str, **extra) -> dict:
    start = dt.datetime(2026, 12, 1, 19, 0) + dt.timedelta(minutes=start_minute)
    return {
        "session": session,
        "anchor_id": "A1",
        "session_date": dt.date(2026, 12, session),
        "position": position,
        "start_minute": start_minute,
        "start": start.strftime("%H:%M"),
        "product_id": f"00{session}{position}",
        "merchant_id": merchant,
        "title": f"商品{session}-{position}",
        "category_l1": "食品",
        "role": "利润款",
        "live_price_fen": 5990,
        "mechanism": None,
        "commission_rate": 0.2,
        "service_fee_rate": 0.05,
        "stock": 100,
        "minutes": 30,
        "expected_units": 10,
        "expected_gmv_fen": 59900,
        "commission_fen": 11980,
        "team_income_fen": 2995,
        "objective_fen": 2995,
        "note": None,
    } | extra


def plan(extra: str | None) -> RunSheetPlan:
    items = pl.DataFrame(
        [item(1, p, (p - 1) * 30, "M1" if p % 2 else "M2") for p in range(1, 6)]
        + [item(2, 1, 0, "M1", note="开场")]
    )
    details = pl.DataFrame(
        {
            "session": items["session"],
            "product_id": items["product_id"],
            "list_price_fen": [9900] * items.height,
            "sample": [True, False, None, True, True, False],
            "merchant_name": ["甲", "乙", "甲", "乙", "甲", "甲"],
            "extra": [extra] * items.height,
            "anchor_name": ["主播"] * items.height,
        }
    )
    sessions = [
        {"anchor": "A1", "date": f"2026-12-0{n}", "start": "19:00", "minutes": 150} for n in (1, 2)
    ]
    return RunSheetPlan(7, items, {"sessions": sessions}, details)


def written(tmp_path, the_plan, settings) -> object:
    target = tmp_path / "rs.xlsx"
    exporting.write_workbook(target, lambda book: write_run_sheet(book, the_plan, settings))
    return openpyxl.load_workbook(target)


def test_several_sessions_get_a_host_sheet_each_and_merchants_a_sheet_each(tmp_path):
    book = written(tmp_path, plan(None), RunSheetSettings(("卖点",)))
    assert book.sheetnames == [
        "Run sheet session 1",
        "Run sheet session 2",
        "Summary",
        "M1 甲",
        "M2 乙",
    ]
    first = book["Run sheet session 1"]
    assert "Selling points" not in [c.value for c in first[8]]  # no product has one
    # 30-minute slots from 19:00: a page break above 20:00 (row 11) and 21:00 (row 13).
    assert [b.id for b in first.row_breaks.brk] == [10, 12]
    assert [c.value for c in book["M1 甲"]["J"][7:10]] == [
        "sample ready",
        "sample not stated",
        "sample ready",
    ]
    assert book["Run sheet session 2"]["J9"].value == "opening"


def test_selling_points_come_from_the_configured_column(tmp_path):
    extra = json.dumps({"核心卖点": "好吃不贵", "备注": "x"}, ensure_ascii=False)
    book = written(tmp_path, plan(extra), RunSheetSettings(("卖点", "核心卖点")))
    host = book["Run sheet session 1"]
    headings = [c.value for c in host[8]]
    column = headings.index("Selling points")
    assert host.cell(9, column + 1).value == "好吃不贵"
    book = written(tmp_path, plan(extra), RunSheetSettings(()))
    assert "Selling points" not in [c.value for c in book["Run sheet session 1"][8]]


def test_the_print_scale_fits_the_columns_on_an_a4_landscape_page():
    assert fit_width_scale([10] * 5) == 100
    wide = fit_width_scale([40] * 12)
    assert 10 <= wide < 100
    assert sum(w * 7 + 5 for w in [40] * 12) * wide / 100 <= (29.7 / 2.54 - 0.8) * 96
    assert fit_width_scale([60] * 100) == 10
