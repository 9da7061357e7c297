"""Files meant for Excel, through the real process: no cell of any of them runs as a formula,
whatever users typed into any text field, and IDs survive Excel (a real `.xlsx` keeps them as
text; the `--excel` CSV keeps them plain and says how to open it)."""

from __future__ import annotations

import csv
import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.conftest import write_csv
from tests.process.conftest import shared_haowu

# Typed into every text field a user can fill. `-5` is text in a text column (a title), so it
# is neutralised too; only haowu's own numbers (money, rates) may start with a minus.
HOSTILE = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("x")', "-5"]
PRODUCT_TEXT = ["merchant_name", "title", "brand", "category_l1", "category_l2", "mechanism"]
LONG_ID, ZERO_ID, ORDER_ID = "3456789012345678901", "0012345", "0098765432109876543"
BRIEF = """anchor: A005
date: 2026-12-01
start: "20:00"
minutes: 120
products: {min: 5, max: 12}
min_level: L1
objective: gmv
"""
REJECTED_SHEET = '=HYPERLINK("x")+1.csv'

# The columns where haowu writes numbers (money, rates, counts): a cell there may be a plain
# negative number; everywhere else a leading `-` is text someone typed.
NUMBERS = {
    "products": {"list_price", "live_price", "gmv_30d", "commission_rate", "service_fee_rate"},
    "ledger": {"amount"},
    "orders": {"paid_amount", "refund_amount", "commission_rate", "service_fee_rate"},
    "run-sheet": {"live_price", "expected_gmv", "expected_commission", "expected_team_income"},
}
PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


@pytest.fixture(scope="module")
def hostile(request, demo_db, tmp_path_factory):
    """The demo database after users typed formulas into every text field: products (and
    products with IDs Excel mangles), an anchor and its MCN, orders (posted, then refunded:
    negative ledger entries), a plan (run sheet 2) and a sheet whose rejects are written.
    On the test's engine: on a lake run, a lake the module's tests share."""
    folder = tmp_path_factory.mktemp("hostile")
    home = folder / "home"
    home.mkdir()
    shutil.copyfile(demo_db, folder / "h.duckdb")
    haowu = shared_haowu(request, folder, home)

    def run(*args, ok=(0,)):
        ran = haowu("--db", "h.duckdb", *args)
        assert ran.code in ok, ran
        return ran

    run("export", "products", "--out", "clean.csv")
    products = list(csv.DictReader(io.StringIO((folder / "clean.csv").read_text("utf-8"))))
    for i, row in enumerate(products):
        for field in PRODUCT_TEXT:
            row[field] = f"{HOSTILE[i % len(HOSTILE)]}{field}"
        del row["level"], row["total_score"], row["extra"]
    template = dict(products[0])
    for product_id, merchant_id in [(LONG_ID, "0012"), (ZERO_ID, "0012"), ("=P9", "@M9")]:
        products.append(template | {"product_id": product_id, "merchant_id": merchant_id})
    header = list(products[0])
    write_csv(folder / "hp.csv", [header] + [[r[k] for k in header] for r in products])
    run("import", "hp.csv")

    write_csv(
        folder / "a.csv",
        [
            ["达人ID", "达人昵称", "客单价", "机构", "机构分成比例"],
            ["+A9", "=cmd", "100", "=MCN", "30%"],
        ],
    )
    run("import", "--kind", "anchors", "a.csv")
    order_header = ["订单号", "商品ID", "达人ID", "专场ID", "实付金额", "订单状态", "支付时间"]
    order_header += ["二级团长ID", "二级团长服务费率"]
    for status in ("已收货", "已退款"):  # the refund posts negative entries
        orders = [
            [order_id, products[0]["product_id"], "+A9", "=S1", "99.00", status, "2026-12-01"]
            + ["-L1", "1%"]
            for order_id in ("=O1", "@O2", ORDER_ID)
        ]
        write_csv(folder / "o.csv", [order_header, *orders])
        run("import", "--kind", "orders", "o.csv")

    (folder / "b.yaml").write_text(BRIEF, encoding="utf-8")
    run("plan-session", "--brief", "b.yaml")

    write_csv(
        folder / REJECTED_SHEET,
        [
            ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率"],
            ["P1", "M1", "=1+2", "=cmd", "=1+2", "20%"],
        ],
    )
    run("import", REJECTED_SHEET, ok=(3,))
    return folder, run


def cells(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def live_formulas(rows: list[dict[str, str]], numbers: set[str]) -> list[tuple[str, str]]:
    """Cells Excel would run: starting with = + - @ tab or CR, except a plain number in a
    column of numbers."""
    return [
        (column, value)
        for row in rows
        for column, value in row.items()
        if value[:1] in ("=", "+", "-", "@", "\t", "\r")
        and not (column in numbers and PLAIN_NUMBER.fullmatch(value))
    ]


EXPORTS = {
    "products": (["export", "products"], ("title", "'=1+2title")),
    "ledger": (["export", "ledger"], ("party_id", "'=MCN")),
    "orders": (["export", "orders"], ("session_id", "'=S1")),
    "run-sheet": (["export", "run-sheet", "2"], ("category_l1", "'=1+2category_l1")),
}


@pytest.mark.parametrize("what", list(EXPORTS))
def test_no_cell_of_an_excel_csv_runs_as_a_formula(hostile, what):
    folder, run = hostile
    args, (column, neutralised) = EXPORTS[what]
    run(*args, "--excel", "--out", f"{what}.csv")
    rows = cells(folder / f"{what}.csv")
    assert not live_formulas(rows, NUMBERS[what])
    assert neutralised in {row[column] for row in rows}  # what was typed is kept, as text


def test_every_text_field_reaches_the_exports_neutralised(hostile):
    folder, run = hostile
    for what, (args, _) in EXPORTS.items():
        run(*args, "--excel", "--out", f"{what}.csv")
    products = cells(folder / "products.csv")
    for field in PRODUCT_TEXT:
        assert {f"'{h}{field}" for h in HOSTILE} <= {row[field] for row in products}, field
    assert {"'=P9", "'@M9"} <= {row["product_id"] for row in products} | {
        row["merchant_id"] for row in products
    }
    orders = cells(folder / "orders.csv")
    assert {"'=O1", "'@O2"} <= {row["order_id"] for row in orders}
    assert {"'+A9"} == {row["anchor_id"] for row in orders if row["session_id"] == "'=S1"}
    assert {"'-L1"} == {row["second_leader_id"] for row in orders if row["session_id"] == "'=S1"}
    run_sheet = cells(folder / "run-sheet.csv")
    for field in ("title", "category_l1", "mechanism"):
        assert any(row[field].startswith("'") for row in run_sheet), field


def test_negative_money_stays_a_number_and_the_scan_tells_it_from_text(hostile):
    folder, run = hostile
    run("export", "ledger", "--excel", "--out", "ledger.csv")
    rows = cells(folder / "ledger.csv")
    negative = [row["amount"] for row in rows if row["amount"].startswith("-")]
    assert negative and all(PLAIN_NUMBER.fullmatch(a) for a in negative)  # refunds: data
    # The same value in a text column would be a typed `-`: the scan does not let it pass.
    assert live_formulas([{"party_id": negative[0]}], NUMBERS["ledger"])


def test_the_rejects_file_neutralises_every_cell_its_file_name_too(hostile):
    folder, _ = hostile
    rows = cells(folder / '=HYPERLINK("x")+1.rejects.csv')
    assert rows and not live_formulas(rows, set())
    assert {row["file"] for row in rows} == {"'" + REJECTED_SHEET}
    assert "'=1+2" in {row["value"] for row in rows}


WORKBOOKS = {
    "products": (["export", "products"], "product_id", "live_price", "listed_at"),
    "ledger": (["export", "ledger"], "order_id", "amount", "paid_on"),
    "orders": (["export", "orders"], "order_id", "paid_amount", "paid_at"),
}


def read_workbook(path: Path) -> list[dict]:
    from python_calamine import CalamineWorkbook

    header, *rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.parametrize("what", list(WORKBOOKS))
def test_an_xlsx_export_holds_text_as_text_numbers_as_numbers_and_no_formula(hostile, what):
    import datetime as dt

    folder, run = hostile
    args, id_column, money_column, date_column = WORKBOOKS[what]
    ran = run(*args, "--out", f"{what}.xlsx")
    assert f"to {what}.xlsx" in ran.err
    with zipfile.ZipFile(folder / f"{what}.xlsx") as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        xml = "".join(book.read(n).decode() for n in sheets)
        styles = book.read("xl/styles.xml").decode()
    assert "<f>" not in xml and "<f " not in xml  # not one formula
    assert 'state="frozen"' in xml and "<autoFilter" in xml
    assert "¥#,##0.00" in styles
    rows = read_workbook(folder / f"{what}.xlsx")
    assert all(isinstance(row[id_column], str) for row in rows)
    assert all(isinstance(row[money_column], float) for row in rows if row[money_column] != "")
    assert all(isinstance(row[date_column], dt.date) for row in rows if row[date_column] != "")
    text = {value for row in rows for value in row.values() if isinstance(value, str)}
    assert text & {"=1+2title", "=MCN", "=S1", "=1+2category_l1"}  # as typed, never run


def test_an_xlsx_export_keeps_long_ids_and_leading_zeros(hostile):
    folder, run = hostile
    run("export", "products", "--out", "p.xlsx")
    run("export", "orders", "--out", "o.xlsx")
    products = read_workbook(folder / "p.xlsx")
    assert {LONG_ID, ZERO_ID} <= {row["product_id"] for row in products}
    assert "0012" in {row["merchant_id"] for row in products}
    assert ORDER_ID in {row["order_id"] for row in read_workbook(folder / "o.xlsx")}
    rates = [row["commission_rate"] for row in products]
    assert all(isinstance(r, float) and 0 < r < 1 for r in rates)  # fractions, shown as %


def test_an_xlsx_export_fits_its_columns_to_chinese_text(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "export", "products", "--out", "p.xlsx")
    assert ran.code == 0, ran
    with zipfile.ZipFile(demo_copy.parent / "p.xlsx") as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    found = re.findall(r'<col min="(\d+)" max="\d+" width="([\d.]+)"', xml)
    widths = {int(column): float(width) for column, width in found}
    rows = read_workbook(demo_copy.parent / "p.xlsx")
    title_column = list(rows[0]).index("title") + 1
    longest = max(len(row["title"]) for row in rows)  # the demo's titles: 汉字 and digits
    assert widths[title_column] >= longest * 2 - 4  # 汉字 count twice
    assert widths[title_column] <= 62


def test_an_excel_csv_keeps_ids_plain_and_says_how_to_open_it(hostile):
    folder, run = hostile
    ran = run("export", "products", "--excel", "--out", "p.csv")
    ids = {row["product_id"] for row in cells(folder / "p.csv")}
    assert {LONG_ID, ZERO_ID} <= ids  # plain text: not ="0012345", not a number
    assert not [i for i in ids if i.startswith(("=", "'0", "'3"))]
    assert "product_id" in ran.err and "From Text/CSV" in ran.err and ".xlsx" in ran.err


def test_the_note_on_ids_comes_only_when_an_id_is_at_risk(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "export", "ledger", "--excel", "--out", "l.csv")
    assert ran.code == 0 and "From Text/CSV" not in ran.err  # KS…, M1002, A005: safe


def test_the_run_sheet_workbook_holds_what_was_typed_as_text_never_a_formula(hostile):
    import openpyxl

    folder, run = hostile
    run("export", "run-sheet", "2", "--out", "rs2.xlsx")
    with zipfile.ZipFile(folder / "rs2.xlsx") as book:
        xml = "".join(
            book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")
        )
    assert "<f>" not in xml and "<f " not in xml
    book = openpyxl.load_workbook(folder / "rs2.xlsx")
    typed = [
        cell
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@")
    ]
    assert {c.value for c in typed} & {"=1+2title", "+SUM(A1)title", "@cmdmechanism"}
    assert all(cell.data_type == "s" for cell in typed)  # strings, as typed
    # A merchant's name typed as a formula still names its sheet, made safe for Excel.
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in book.sheetnames)
