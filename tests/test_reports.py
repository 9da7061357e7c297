"""The session review, merchant growth and grades reports against hand-computed figures."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import xml.etree.ElementTree as ET

import polars as pl
import pytest

from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, HaowuError, UsageError
from haowu_cli.i18n import current
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from haowu_cli.reports.grades import grades_report
from haowu_cli.reports.merchants import merchants_report
from haowu_cli.reports.page import render_page, write_page
from haowu_cli.reports.session import session_report
from haowu_cli.reports.settings import load_report_rules
from tests.conftest import write_csv

CONFIGS = packaged_path("configs")
ORDER_HEADER = [
    "订单编号",
    "商品ID",
    "达人ID",
    "专场ID",
    "购买数量",
    "实付金额",
    "支付时间",
    "订单状态",
    "退款金额",
    "收货时间",
    "佣金率",
    "团长服务费率",
]
AS_OF = dt.date(2027, 1, 31)


def order(
    oid, product, paid, *, quantity="1", status="已收货", refund="", anchor="A1", day="01", zc="ZC1"
):
    received = "" if status != "已收货" else f"2026-12-{int(day) + 2:02d}"
    return [
        oid,
        product,
        anchor,
        zc,
        quantity,
        paid,
        f"2026-12-{day} 20:{len(oid):02d}:00",
        status,
        refund,
        received,
        "20%",
        "5%",
    ]


def load_products(store, tmp_path, rows):
    header = ["商品ID", "商家ID", "商家名称", "商品名称", "一级类目", "直播价", "佣金率"]
    write_csv(tmp_path / "p.csv", [header, *rows])
    assert import_file(store, tmp_path / "p.csv", load_kind("products", CONFIGS), ImportOptions())


def load_orders(store, tmp_path, rows, name="o.csv", config_dir=CONFIGS):
    write_csv(tmp_path / name, [ORDER_HEADER, *rows])
    # The orders are of December 2026: import them as of its end, or the import's
    # future-date check refuses what is received after the machine's today.
    options = ImportOptions(today=dt.date(2026, 12, 31), config_dir=config_dir)
    report = import_file(store, tmp_path / name, load_kind("orders", CONFIGS), options)
    assert report.rejected == 0


def config_with(tmp_path, text: str):
    folder = tmp_path / "configs"
    folder.mkdir(exist_ok=True)
    shutil.copy(CONFIGS / "reports.yaml", folder / "reports.yaml")
    if text:
        (folder / "reports.yaml").write_text(text, encoding="utf-8")
    return folder


def save_plan(store, sessions: list[tuple[str, str, list[tuple]]]) -> int:
    """A saved plan: per session (anchor, date, items), each item (product, merchant,
    category, role, expected units, expected GMV in fen)."""
    rows, brief = [], {"objective": "gmv", "sessions": []}
    for number, (anchor, date, items) in enumerate(sessions, start=1):
        brief["sessions"].append({"anchor": anchor, "date": date, "start": "20:00", "minutes": 120})
        for position, (product, merchant, category, role, units, gmv) in enumerate(items, 1):
            rows.append(
                {
                    "session": number,
                    "anchor_id": anchor,
                    "session_date": dt.date.fromisoformat(date),
                    "position": position,
                    "start_minute": 10 * (position - 1),
                    "start": f"20:{10 * (position - 1):02d}",
                    "product_id": product,
                    "merchant_id": merchant,
                    "title": f"商品{product}",
                    "category_l1": category,
                    "role": role,
                    "live_price_fen": gmv // max(units, 1),
                    "mechanism": None,
                    "commission_rate": None,
                    "service_fee_rate": None,
                    "stock": 100,
                    "minutes": 10,
                    "expected_units": units,
                    "expected_gmv_fen": gmv,
                    "commission_fen": 0,
                    "team_income_fen": 0,
                    "objective_fen": gmv,
                    "note": None,
                }
            )
    record = {
        "created_at": dt.datetime(2026, 11, 30, 12, 0),
        "status": "optimal",
        "objective": "gmv",
        "objective_fen": 0,
        "bound_fen": 0,
        "brief": json.dumps(brief),
        "config_fingerprint": "test",
        "candidates": 0,
        "eligible": 0,
        "variables": 0,
    }
    items = pl.DataFrame(rows).with_columns(
        pl.col("commission_rate", "service_fee_rate").cast(pl.Decimal(9, 6)),
        pl.col("mechanism", "note").cast(pl.String),
    )
    return db.write_transaction(store, lambda con: db.save_plan(con, record, items))


# --- session review ----------------------------------------------------------------------------


@pytest.fixture
def session_world(store, tmp_path):
    """Plan 1 for anchor A1 on 2026-12-01: P2 (deal, ¥100 expected), P1 (hero, ¥500), P4
    (¥200, never sold). P3 sells without being planned. Orders of another anchor, and of A1
    the next day, are not the session's."""
    load_products(
        store,
        tmp_path,
        [
            ["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"],
            ["P2", "M2", "川味", "辣条", "食品", "10", "20%"],
            ["P3", "M3", "优品", "袜子", "日百", "10", "20%"],
            ["P4", "M1", "花漾", "口红", "美妆", "100", "20%"],
        ],
    )
    plan_id = save_plan(
        store,
        [
            (
                "A1",
                "2026-12-01",
                [
                    ("P2", "M2", "食品", "引流款", 10, 10_000),
                    ("P1", "M1", "美妆", "主推款", 5, 50_000),
                    ("P4", "M1", "美妆", "利润款", 2, 20_000),
                ],
            )
        ],
    )
    load_orders(
        store,
        tmp_path,
        [
            order("O1", "P1", "100.00"),
            order("O2", "P1", "100.00", refund="40.00"),
            order("O3", "P1", "300.00", quantity="3"),
            order("O4", "P1", "100.00", status="已失效"),
            order("O5", "P2", "10.00"),
            order("O6", "P2", "20.00", quantity="2"),
            order("O7", "P3", "10.00"),
            order("X1", "P1", "100.00", anchor="A2", zc="ZC-A2"),  # another anchor's session
            order("X2", "P1", "100.00", day="02", zc="ZC2"),  # A1's session the next day
        ],
    )
    assert plan_id == 1
    return store


def test_session_review_per_product(session_world, tmp_path):
    rules = load_report_rules(CONFIGS)
    report = session_report(session_world, rules, 1, as_of=AS_OF)
    rows = {r["product_id"]: r for r in report.table("products").frame.to_dicts()}
    assert list(rows) == ["P2", "P1", "P4", "P3"]  # run-sheet order, then the unplanned
    p1 = rows["P1"]
    # 4 orders, 1+1+3+1 units, ¥600 paid; refunds ¥40 and all of the cancelled ¥100.
    assert (p1["orders"], p1["units"], p1["gmv"], p1["refund"]) == (4, 6, "600.00", "140.00")
    assert (p1["expected_gmv"], p1["achievement"], p1["refund_rate"]) == ("500.00", "1.2", "0.2333")
    assert p1["verdict"] == "beat"  # 120% ≥ the 1.2 of reports.yaml
    p2 = rows["P2"]
    assert (p2["orders"], p2["units"], p2["gmv"], p2["achievement"]) == (2, 3, "30.00", "0.3")
    assert p2["verdict"] == "missed"
    p4 = rows["P4"]
    assert (p4["orders"], p4["gmv"], p4["achievement"], p4["verdict"]) == (0, "0.00", "0", "missed")
    assert p4["refund_rate"] is None  # nothing sold: no rate
    p3 = rows["P3"]
    assert (p3["position"], p3["expected_gmv"], p3["gmv"]) == (None, None, "10.00")
    assert p3["verdict"] == "not_planned" and p3["achievement"] is None
    # The default rule wants 20 orders: no regular here.
    assert report.table("regulars").frame.is_empty()


def test_session_review_groups_figures_and_income(session_world):
    report = session_report(session_world, load_report_rules(CONFIGS), 1, as_of=AS_OF)
    categories = {r["category_l1"]: r for r in report.table("categories").frame.to_dicts()}
    assert categories["美妆"] == {
        "category_l1": "美妆",
        "planned_products": 2,
        "expected_gmv": "700.00",
        "sold_products": 1,
        "orders": 4,
        "units": 6,
        "gmv": "600.00",
        "off_sheet_gmv": "0.00",
        "refund": "140.00",
        "refund_rate": "0.2333",
        "achievement": "0.8571",
    }
    # 日百 only sold P3, which was not planned: no expectation, nothing to measure.
    assert categories["日百"]["planned_products"] == 0
    assert categories["日百"]["expected_gmv"] is None
    assert (categories["日百"]["gmv"], categories["日百"]["off_sheet_gmv"]) == ("10.00", "10.00")
    assert categories["日百"]["achievement"] is None
    merchants = {r["merchant_id"]: r for r in report.table("merchants").frame.to_dicts()}
    assert merchants["M1"]["merchant_name"] == "花漾"
    assert (merchants["M2"]["gmv"], merchants["M3"]["gmv"]) == ("30.00", "10.00")
    figures = {f.key: f.value for f in report.figures}
    assert figures["gmv"] == "640.00" and figures["expected_gmv"] == "800.00"
    assert figures["achievement"] == "0.7875"  # the planned products' ¥630 against ¥800
    assert figures["off_sheet_gmv"] == "10.00"
    assert (figures["orders"], figures["units"]) == (7, 10)
    assert figures["refund_rate"] == "0.2188"  # 140 / 640 = 0.21875, half up
    assert figures["verdicts"] == {"beat": 1, "missed": 2, "on_plan": 0, "not_planned": 1}
    assert figures["products_sold"] == {"sold": 2, "planned": 3}
    # Every base 100 + 60 + 300 + 0 + 10 + 20 + 10 = ¥500 at 5%: fees ¥25.00, of which the
    # platform takes 10%: the team leader keeps ¥22.50.
    assert figures["leader_income"] == "22.50"
    income = {
        (r["party"], r["item"]): r["estimated"] for r in report.table("income").frame.to_dicts()
    }
    assert income[("base", "base")] == "500.00"
    assert any("add up" in note for note in report.notes)
    assert any("ZC1" in note for note in report.notes)  # the 专场ID the orders carry


def test_regulars_follow_the_configured_rule(session_world, tmp_path):
    folder = config_with(tmp_path, "")
    text = (folder / "reports.yaml").read_text(encoding="utf-8")
    text = text.replace("max_refund_rate: 0.15", "max_refund_rate: 0.25")
    (folder / "reports.yaml").write_text(text.replace("min_orders: 20", "min_orders: 4"))
    report = session_report(session_world, load_report_rules(folder), 1, as_of=AS_OF)
    assert report.table("regulars").frame["product_id"].to_list() == ["P1"]
    (folder / "reports.yaml").write_text(text.replace("min_orders: 20", "min_orders: 5"))
    report = session_report(session_world, load_report_rules(folder), 1, as_of=AS_OF)
    assert report.table("regulars").frame.is_empty()  # P1 has 4 orders


def test_beat_and_missed_thresholds_come_from_the_config(session_world, tmp_path):
    folder = config_with(tmp_path, "")
    text = (folder / "reports.yaml").read_text(encoding="utf-8")
    (folder / "reports.yaml").write_text(
        text.replace("beat: 1.2", "beat: 1.25").replace("missed: 0.8", "missed: 0.3")
    )
    report = session_report(session_world, load_report_rules(folder), 1, as_of=AS_OF)
    verdicts = dict(report.table("products").frame.select("product_id", "verdict").iter_rows())
    assert verdicts == {"P1": "on_plan", "P2": "on_plan", "P4": "missed", "P3": "not_planned"}


def test_orders_session_picks_orders_by_their_session_id(session_world, tmp_path):
    load_orders(session_world, tmp_path, [order("Z9", "P2", "50.00", anchor="A9")], "z.csv")
    with session_world.write() as con:
        con.execute("UPDATE orders SET session_id = 'ZC7' WHERE order_id = 'Z9'")
    report = session_report(
        session_world, load_report_rules(CONFIGS), 1, orders_session="ZC7", as_of=AS_OF
    )
    sold = report.table("products").frame.filter(pl.col("orders") > 0)
    assert sold.select("product_id", "gmv").rows() == [("P2", "50.00")]


def test_orders_of_several_sessions_in_the_window_are_not_guessed(session_world, tmp_path):
    rows = [order("Y1", "P1", "100.00"), order("Y2", "P2", "10.00"), order("Y3", "P2", "10.00")]
    load_orders(session_world, tmp_path, rows, "y.csv")
    with session_world.write() as con:  # a second session of A1 the same day; one bare order
        con.execute("UPDATE orders SET session_id = 'ZC9' WHERE order_id IN ('Y1', 'Y2')")
        con.execute("UPDATE orders SET session_id = NULL WHERE order_id = 'Y3'")
    rules = load_report_rules(CONFIGS)
    with pytest.raises(UsageError, match=r"belong to 2 sessions: ZC1 \(7 orders\), ZC9 \(2"):
        session_report(session_world, rules, 1, as_of=AS_OF)
    named = session_report(session_world, rules, 1, orders_session="ZC1", as_of=AS_OF)
    assert {f.key: f.value for f in named.figures}["orders"] == 7
    with session_world.write() as con:  # now only ZC1 and the bare order
        con.execute("DELETE FROM orders WHERE session_id = 'ZC9'")
    found = session_report(session_world, rules, 1, as_of=AS_OF)
    assert {f.key: f.value for f in found.figures}["orders"] == 7
    assert "matched: the orders of 专场 ZC1, the 专场 of A1's orders paid 2026-12-01" in found.notes
    assert "1 of A1's orders paid 2026-12-01 carry no 专场ID and are left out" in found.notes
    with pytest.raises(UsageError, match="needs a 专场ID"):
        session_report(session_world, rules, 1, orders_session=" ", as_of=AS_OF)


def test_sums_too_large_for_64_bits_keep_their_verdict(session_world, tmp_path):
    # Ten orders at the highest amount cap haowu allows (¥10,000,000,000 each, imports.yaml).
    configs = tmp_path / "big-configs"
    configs.mkdir()
    (configs / "imports.yaml").write_text(
        (CONFIGS / "imports.yaml")
        .read_text(encoding="utf-8")
        .replace("amount_max_yuan: 100000000 ", "amount_max_yuan: 10000000000 "),
        encoding="utf-8",
    )
    big = [order(f"BIG{i}", "P2", "10000000000.00") for i in range(10)]
    load_orders(session_world, tmp_path, big, "big.csv", config_dir=configs)
    report = session_report(session_world, load_report_rules(CONFIGS), 1, as_of=AS_OF)
    p2 = report.table("products").frame.row(0, named=True)
    assert p2["gmv"] == "100000000030.00" and p2["verdict"] == "beat"
    assert p2["achievement"] == "1000000000.3"  # ¥100,000,000,030 against ¥100


def test_a_multi_session_plan_asks_which_session(session_world):
    save_plan(
        session_world,
        [
            ("A1", "2026-12-01", [("P1", "M1", "美妆", "主推款", 5, 50_000)]),
            ("A2", "2026-12-01", [("P1", "M1", "美妆", "主推款", 1, 10_000)]),
        ],
    )
    rules = load_report_rules(CONFIGS)
    with pytest.raises(UsageError, match="2 sessions.*1: A1 on 2026-12-01; 2: A2"):
        session_report(session_world, rules, 2, as_of=AS_OF)
    first = session_report(session_world, rules, 2, session=1, as_of=AS_OF)
    assert first.title == "Session review 数据复盘: plan 2, session 1"
    second = session_report(session_world, rules, 2, session=2, as_of=AS_OF)
    p1 = second.table("products").frame.row(0, named=True)
    assert (p1["orders"], p1["gmv"], p1["verdict"]) == (1, "100.00", "on_plan")  # X1, of A2
    with pytest.raises(UsageError, match="no session 3"):
        session_report(session_world, rules, 2, session=3, as_of=AS_OF)
    with pytest.raises(HaowuError, match="no plan 9"):
        session_report(session_world, rules, 9, as_of=AS_OF)


def test_a_session_without_orders_says_how_to_bring_them(store, tmp_path):
    load_products(store, tmp_path, [["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"]])
    save_plan(store, [("A1", "2026-12-01", [("P1", "M1", "美妆", "主推款", 5, 50_000)])])
    report = session_report(store, load_report_rules(CONFIGS), 1, as_of=AS_OF, today=AS_OF)
    # Nothing to judge: no verdict, no achievement (not "missed", not 0%).
    products = report.table("products").frame
    assert products["verdict"].to_list() == [None] and products["achievement"].to_list() == [None]
    assert report.table("products").view["vs_plan"].to_list() == ["—"]
    assert report.table("categories").frame["achievement"].to_list() == [None]
    figures = report.as_json()["figures"]
    assert figures["refund_rate"] is None and figures["achievement"] is None
    assert figures["verdicts"] is None and figures["regulars"] is None and figures["orders"] == 0
    assert report.alert == (
        "no orders matched A1's orders paid 2026-12-01: nothing to measure. Import the "
        "session's orders (haowu import --kind orders FILE), or name its 专场ID with "
        "--orders-session"
    )
    assert report.as_json()["notes"][0] == report.alert
    assert {f.key: f.text for f in report.figures}["achievement"] == "no orders matched"


def test_a_named_session_without_orders_says_none_matched(session_world):
    rules = load_report_rules(CONFIGS)
    report = session_report(session_world, rules, 1, orders_session="NOPE", as_of=AS_OF)
    assert report.alert.startswith("no orders matched 专场 NOPE: nothing to measure")
    assert not any(n.startswith("matched:") for n in report.notes)  # nothing was matched
    assert report.as_json()["figures"]["achievement"] is None
    assert report.as_json()["notes"][0] == report.alert


@pytest.mark.parametrize(
    ("today", "said"),
    [
        (dt.date(2026, 11, 30), "no orders yet: the session is on 2026-12-01, after today"),
        (dt.date(2026, 12, 1), "no orders yet: the session is today (2026-12-01)"),
    ],
)
def test_a_session_yet_to_come_has_no_orders_yet(store, tmp_path, today, said):
    load_products(store, tmp_path, [["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"]])
    save_plan(store, [("A1", "2026-12-01", [("P1", "M1", "美妆", "主推款", 5, 50_000)])])
    report = session_report(store, load_report_rules(CONFIGS), 1, as_of=today, today=today)
    assert report.alert.startswith(said)
    assert {f.key: f.text for f in report.figures}["achievement"] == "no orders yet"
    assert report.as_json()["figures"]["achievement"] is None
    page = render_page(report)
    assert f'<p class="alert" role="status">{report.alert}</p>' in page


# --- merchant growth ---------------------------------------------------------------------------

MILESTONES = """
session:
  beat: 1.2
  missed: 0.8
  regulars: {min_achievement: 1.0, max_refund_rate: 0.15, min_orders: 20}
merchants:
  milestones:
    - {name: 1千, gmv: 1000}
    - {name: 5千, gmv: 5000}
  gmv: GMV
  closest: 10
"""


@pytest.fixture
def growth_world(store, tmp_path):
    """M1: ¥1,200 in October, ¥800 in November, ¥1,500 in December. M2: ¥500, then ¥5,200.
    M3: ¥900 in December only. M4: ¥2,000 in November, nothing in December."""
    load_products(
        store,
        tmp_path,
        [[f"P{n}", f"M{n}", f"商家{n}", f"商品{n}", "美妆", "10", "20%"] for n in (1, 2, 3, 4)],
    )

    def paid(oid, product, amount, month, refund=""):
        row = order(oid, product, amount, refund=refund)
        row[6] = f"2026-{month}-15 10:00:00"
        row[9] = f"2026-{month}-18"
        return row

    load_orders(
        store,
        tmp_path,
        [
            paid("A", "P1", "1200.00", "10"),
            paid("B", "P1", "800.00", "11"),
            paid("C", "P1", "1000.00", "12"),
            paid("D", "P1", "500.00", "12", refund="500.00"),
            paid("E", "P2", "500.00", "11"),
            paid("F", "P2", "5200.00", "12"),
            paid("G", "P3", "900.00", "12"),
            paid("H", "P4", "2000.00", "11"),
        ],
    )
    return store


def test_merchant_growth_in_a_month(growth_world, tmp_path):
    rules = load_report_rules(config_with(tmp_path, MILESTONES.replace("GMV", "paid")))
    report = merchants_report(growth_world, rules, None)  # the latest month: December
    merchants = {r["merchant_id"]: r for r in report.table("merchants").frame.to_dicts()}
    assert list(merchants) == ["M2", "M1", "M3", "M4"]  # by GMV
    assert merchants["M1"] == {
        "merchant_id": "M1",
        "merchant_name": "商家1",
        "orders": 2,
        "gmv": "1500.00",
        "previous_gmv": "800.00",
        "growth": "0.875",
        "reached": "1千",
        "next": "5千",
        "gap": "3500.00",
        "activities": 0,
        "discount_eligible": False,
    }
    assert (merchants["M2"]["reached"], merchants["M2"]["next"]) == ("5千", None)
    assert (merchants["M3"]["previous_gmv"], merchants["M3"]["growth"]) == ("0.00", None)
    assert (merchants["M4"]["gmv"], merchants["M4"]["growth"]) == ("0.00", "-1")
    crossed = report.table("crossed").frame.select("merchant_id", "milestone", "first_time")
    assert crossed.rows() == [("M2", "5千", True), ("M2", "1千", True), ("M1", "1千", False)]
    closest = report.table("closest").frame  # M4 sold nothing this month: not listed
    assert closest.select("merchant_id", "gap", "progress").rows() == [
        ("M3", "100.00", "0.9"),
        ("M1", "3500.00", "0.3"),
    ]
    figures = {f.key: f.value for f in report.figures}
    assert (figures["gmv"], figures["previous_gmv"]) == ("7600.00", "3300.00")
    assert figures["growth"] == "1.303"  # 4300 / 3300 = 1.30303…
    assert (figures["crossed"], figures["first_time"], figures["merchants"]) == (3, 2, 3)


def test_merchant_growth_net_of_refunds_and_an_earlier_month(growth_world, tmp_path):
    rules = load_report_rules(config_with(tmp_path, MILESTONES.replace("GMV", "net")))
    report = merchants_report(growth_world, rules, None)
    m1 = report.table("merchants").frame.filter(pl.col("merchant_id") == "M1").row(0, named=True)
    assert (m1["gmv"], m1["reached"]) == ("1000.00", "1千")
    november = merchants_report(growth_world, rules, dt.date(2026, 11, 1))
    crossed = november.table("crossed").frame.select("merchant_id", "milestone", "first_time")
    assert crossed.rows() == [("M4", "1千", True)]  # M1 reached 1千 in October, not since


def test_orders_without_a_merchant_are_counted_out_loud(growth_world, tmp_path):
    load_orders(growth_world, tmp_path, [order("N1", "P1", "70.00")], "n.csv")
    with growth_world.write() as con:  # imported before its product, its product gone since
        con.execute("UPDATE orders SET merchant_id = NULL WHERE order_id IN ('N1', 'C')")
        con.execute("UPDATE orders SET product_id = 'GONE' WHERE order_id = 'N1'")
    rules = load_report_rules(config_with(tmp_path, MILESTONES.replace("GMV", "paid")))
    report = merchants_report(growth_world, rules, None)
    m1 = report.table("merchants").frame.filter(pl.col("merchant_id") == "M1").row(0, named=True)
    assert m1["gmv"] == "1500.00"  # order C takes its product's merchant
    assert any(n.startswith("1 orders of 2026-12 name no merchant") for n in report.notes)
    with pytest.raises(UsageError, match="no month before 0001-01"):
        merchants_report(growth_world, rules, dt.date(1, 1, 1))


def test_the_default_month_is_not_in_the_future(growth_world, tmp_path):
    """Orders in October to December; on 20 November the default month is November, and
    December's orders are named as later, not reported as this month."""
    rules = load_report_rules(config_with(tmp_path, MILESTONES.replace("GMV", "paid")))
    report = merchants_report(growth_world, rules, None, today=dt.date(2026, 11, 20))
    assert report.as_json()["figures"]["month"] == "2026-11"
    assert report.notes == [
        "4 orders are dated after this month (to 2026-12): see them with --month YYYY-MM"
    ]
    december = merchants_report(growth_world, rules, None, today=dt.date(2026, 12, 1))
    assert december.as_json()["figures"]["month"] == "2026-12" and december.notes == []
    named = merchants_report(growth_world, rules, dt.date(2026, 12, 1), today=dt.date(2026, 11, 1))
    assert named.as_json()["figures"]["month"] == "2026-12"
    with pytest.raises(
        HaowuError,
        match="no orders paid in 2026-09 or before: every order is dated 2026-10 or later",
    ) as caught:
        merchants_report(growth_world, rules, None, today=dt.date(2026, 9, 30))
    assert caught.value.hint == "name the month with --month YYYY-MM"


def test_merchant_growth_needs_orders(store, tmp_path):
    load_products(store, tmp_path, [["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"]])
    with pytest.raises(HaowuError, match="no orders"):
        merchants_report(store, load_report_rules(CONFIGS), None)


def test_report_config_problems_name_file_line_and_key(tmp_path):
    folder = config_with(
        tmp_path,
        MILESTONES.replace("GMV", "gross").replace("gmv: 5000", "gmv: 500") + "  colour: red\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_report_rules(folder)
    problems = "\n".join(caught.value.problems)
    assert "reports.yaml:10 merchants.gmv: expected paid or net, got 'gross'" in problems
    assert "merchants.milestones: list the milestones from the lowest" in problems
    assert "merchants.colour: unknown key" in problems
    folder = config_with(tmp_path, MILESTONES.replace("GMV", "paid").replace("1.2", "abc"))
    with pytest.raises(ConfigError) as caught:
        load_report_rules(folder)
    assert len(caught.value.problems) == 1 and "session.beat" in caught.value.problems[0]


def test_a_milestone_without_a_name_is_named_by_its_amount(tmp_path):
    folder = config_with(tmp_path, MILESTONES.replace("GMV", "paid").replace("name: 5千, ", ""))
    rules = load_report_rules(folder)
    assert [(m.name, m.gmv_fen) for m in rules.milestones] == [
        ("1千", 100_000),
        ("¥5,000", 500_000),
    ]


# --- grades ------------------------------------------------------------------------------------


@pytest.fixture
def graded(store, tmp_path):
    """P1 L3 → L4, P2 L2 → L1, P3 L4 both days, P4 first graded on the second day."""
    load_products(
        store,
        tmp_path,
        [
            ["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"],
            ["P2", "M1", "花漾", "口红", "美妆", "100", "20%"],
            ["P3", "M2", "川味", "辣条", "食品", "10", "20%"],
            ["P4", "M2", "川味", "火锅", "食品", "10", "20%"],
        ],
    )
    rows = [
        ("2026-11-01", "P1", "L3"),
        ("2026-11-01", "P2", "L2"),
        ("2026-11-01", "P3", "L4"),
        ("2026-11-02", "P1", "L4"),
        ("2026-11-02", "P2", "L1"),
        ("2026-11-02", "P3", "L4"),
        ("2026-11-02", "P4", "L2"),
    ]
    with store.write() as con:
        for day, product, level in rows:
            con.execute(
                "INSERT INTO grades (as_of, product_id, run_id, total, level) "
                "VALUES (?, ?, 1, 50, ?)",
                [day, product, level],
            )
        db.rebuild_latest_grades(con)
    return store


def test_grades_report_distribution_categories_and_moves(graded):
    report = grades_report(graded, None)  # the latest grading date
    levels = dict(report.table("levels").frame.select("level", "products").iter_rows())
    assert levels == {"L5": 0, "L4": 2, "L3": 0, "L2": 1, "L1": 1, "L0": 0}
    shares = dict(report.table("levels").frame.select("level", "share").iter_rows())
    assert shares["L4"] == "0.5" and shares["L2"] == "0.25"
    categories = {r["category_l1"]: r for r in report.table("categories").frame.to_dicts()}
    assert categories["美妆"] == {
        "category_l1": "美妆",
        "L5": 0,
        "L4": 1,
        "L3": 0,
        "L2": 0,
        "L1": 1,
        "L0": 0,
        "products": 2,
        "l4_up_share": "0.5",
    }
    moves = report.table("moves").frame.select("product_id", "previous_level", "level", "direction")
    assert moves.rows() == [("P1", "L3", "L4", "up"), ("P2", "L2", "L1", "down")]
    figures = {f.key: f.value for f in report.figures}
    assert (figures["moved_up"], figures["moved_down"], figures["first_graded"]) == (1, 1, 1)
    assert figures["as_of"] == "2026-11-02" and figures["products"] == 4


def test_grades_report_shows_each_levels_benefits_and_any_category_level(graded):
    with graded.write() as con:
        con.execute(
            "UPDATE products SET category_l2 = '护肤', category_l3 = '面霜' WHERE product_id = 'P1'"
        )
        con.execute("UPDATE products SET category_l2 = '护肤' WHERE product_id = 'P2'")
    benefits = {"L5": ("流量加持", "达人优选"), "L4": ("流量加持",)}
    report = grades_report(graded, None, benefits=benefits, category_level=3)
    shown = dict(report.table("levels").frame.select("level", "benefits").iter_rows())
    assert shown == {
        "L5": "流量加持;达人优选",
        "L4": "流量加持",
        "L3": "",
        "L2": "",
        "L1": "",
        "L0": "",
    }
    third = report.table("categories").frame.select("category_l3", "products").rows()
    # P1 has all three levels; P2 stops at its second; 食品 has only the first
    assert sorted(third) == [("美妆>护肤", 1), ("美妆>护肤>面霜", 1), ("食品", 2)]
    second = grades_report(graded, None, category_level=2).table("categories").frame
    assert sorted(second.select("category_l2", "products").rows()) == [
        ("美妆>护肤", 2),
        ("食品", 2),
    ]


def test_grades_report_on_an_earlier_date_and_a_missing_one(graded):
    first = grades_report(graded, dt.date(2026, 11, 1))
    assert first.table("moves").frame.is_empty()
    assert {f.key: f.value for f in first.figures}["first_graded"] == 3
    with pytest.raises(HaowuError, match="no grades on 2026-10-31"):
        grades_report(graded, dt.date(2026, 10, 31))


def test_grades_report_needs_grades(store, tmp_path):
    load_products(store, tmp_path, [["P1", "M1", "花漾", "面霜", "美妆", "100", "20%"]])
    with pytest.raises(HaowuError, match="no grades yet"):
        grades_report(store, None)


# --- the page ----------------------------------------------------------------------------------

FETCHING = re.compile(
    r"https?://|\b(src|href|srcset|action)=|<(script|link|img|iframe|object|embed)\b|@import|url\("
)


def check_page(report) -> ET.Element:
    """The page is well-formed, fetches nothing, and carries every figure, table row and chart
    of its report."""
    text = render_page(report, now=dt.datetime(2026, 12, 2, 9, 0))
    assert text.startswith("<!DOCTYPE html>\n")
    root = ET.fromstring(text.removeprefix("<!DOCTYPE html>\n"))  # raises unless well-formed
    assert not FETCHING.search(text), FETCHING.search(text)
    assert (
        root.get("lang") == {"zh": "zh-CN", "en": "en"}[current()]
        and root.find("head/meta").get("charset") == "utf-8"
    )
    cards = {
        card.get("data-key"): "".join(card.itertext())
        for card in root.iter("div")
        if card.get("class") == "figure"
    }
    for figure in report.figures:
        assert cards[figure.key] == figure.label + figure.text
    for table in report.tables:
        section = root.find(f".//section[@id='table-{table.key}']")
        assert section.find("h2").text == table.title
        columns = [c for c in table.columns if c.name != "bar"]
        expected = [
            [c.cell(v) for c, v in zip(columns, row, strict=True)]  # a role in words
            for row in table.view.select([c.name for c in columns]).iter_rows()
        ]
        rows = [["".join(td.itertext()) for td in tr] for tr in section.iter("tr")][1:]
        assert rows == expected
        if not expected:
            assert section.find("p").text == table.empty
    words = "".join(root.itertext())
    for chart in report.charts:
        drawing = root.find(f".//figure[@id='chart-{chart.key}']/svg")
        bars = [r for r in drawing.iter("rect") if r.find("title") is not None]
        if chart.kind == "bars":
            assert len(bars) == len(chart.labels) * len(chart.series)
        for series in chart.series:
            for label, value_text in zip(chart.labels, series.texts, strict=True):
                if value_text and chart.kind == "bars":
                    assert f"{label}: {series.name} {value_text}" in words
    return root


def test_session_page(session_world):
    report = session_report(session_world, load_report_rules(CONFIGS), 1, as_of=AS_OF)
    root = check_page(report)
    assert "¥600.00" in ET.tostring(root, encoding="unicode")  # P1's GMV in its table


def test_merchants_and_grades_pages(growth_world, tmp_path):
    rules = load_report_rules(config_with(tmp_path, MILESTONES.replace("GMV", "paid")))
    check_page(merchants_report(growth_world, rules, None))
    check_page(merchants_report(growth_world, rules, dt.date(2026, 10, 1)))


def test_grades_page(graded):
    check_page(grades_report(graded, None))


def test_the_page_escapes_what_merchants_typed(store, tmp_path):
    title = '<script>alert("x")</script> & 毒'
    load_products(store, tmp_path, [["P1", "M1", "<b>花漾</b>", title, "美妆", "100", "20%"]])
    save_plan(store, [("A1", "2026-12-01", [("P1", "M1", "美妆", "主推款", 5, 50_000)])])
    with store.write() as con:  # the plan keeps the title it was made with
        con.execute("UPDATE plan_items SET title = ?", [title])
    load_orders(store, tmp_path, [order("O1", "P1", "100.00")])
    report = session_report(store, load_report_rules(CONFIGS), 1, as_of=AS_OF)
    root = check_page(report)
    assert not list(root.iter("script")) and not list(root.iter("b"))
    assert title in ET.tostring(root, encoding="unicode", method="text")


def test_writing_a_page_is_all_or_nothing(session_world, tmp_path, monkeypatch):
    report = session_report(session_world, load_report_rules(CONFIGS), 1, as_of=AS_OF)
    page = tmp_path / "review.html"
    page.write_text("the old page", encoding="utf-8")

    def fail(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("haowu_cli.outfiles.os.replace", fail)
    with pytest.raises(HaowuError, match="cannot write .*: No space left on device"):
        write_page(report, page)
    assert page.read_text(encoding="utf-8") == "the old page"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".review")] == []
    monkeypatch.undo()
    write_page(report, page)
    assert "数据复盘" in page.read_text(encoding="utf-8")
