"""Real workbooks, through the real process, read back with openpyxl: the run sheet workbook
for the host and the merchants, reports as workbooks, and `--xlsx` on the exports.

Every run asks for English (`HAOWU_LANG=en`), so that the headings checked here are the
message ids whatever the default language is."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from haowu_cli.roles import ROLE_WORDS
from tests.process.conftest import file_only

openpyxl = pytest.importorskip("openpyxl")

EN = {"HAOWU_LANG": "en"}
HOST_HEADINGS = [
    "No.",
    "Start time",
    "Slot (minutes)",
    "Product name",
    "Live price",
    "List price",
    "Mechanism",
    "Selling points",
    "Stock",
    "Role",
    "Notes",
]
MONEY = "¥#,##0.00"


@pytest.fixture(scope="module")
def run_sheet(request, demo_db, tmp_path_factory):
    """The demo plan's run sheet workbook, and its CSV export (what the plan holds), from the
    demo database on the test's engine."""
    from tests.process.conftest import shared_haowu

    folder = tmp_path_factory.mktemp("workbook")
    home = folder / "home"
    home.mkdir()
    shutil.copyfile(demo_db, folder / "demo.duckdb")  # the module's own, on either engine
    haowu = shared_haowu(request, folder, home, **EN)

    def run(*args):
        ran = haowu("--db", "demo.duckdb", *args)
        assert ran.code == 0, ran
        return ran

    ran = run("export", "run-sheet", "1", "--out", "排品表.xlsx")
    assert "wrote the run sheet workbook of plan 1 (24 products, 6 merchants) to 排品表.xlsx" in (
        ran.err
    )
    run("export", "run-sheet", "1", "--out", "rs.csv")
    rows = list(csv.DictReader(io.StringIO((folder / "rs.csv").read_text("utf-8"))))
    return folder / "排品表.xlsx", rows


def values(sheet, row: int) -> list:
    return [cell.value for cell in sheet[row]]


def yuan(text: str) -> float:
    return float(Decimal(text))


def test_the_run_sheet_workbook_has_a_host_sheet_a_summary_and_a_sheet_per_merchant(run_sheet):
    path, rows = run_sheet
    book = openpyxl.load_workbook(path)
    merchants = sorted({row["merchant_id"] for row in rows})
    assert book.sheetnames[:2] == ["Run sheet", "Summary"]
    assert [name.split(" ")[0] for name in book.sheetnames[2:]] == merchants
    assert "M1002 川味坊食品" in book.sheetnames
    with zipfile.ZipFile(path) as archive:
        xml = "".join(
            archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/")
        )
    assert "<f>" not in xml and "<f " not in xml  # sums are numbers, never formulas


def test_the_host_sheet_heads_with_the_session_and_lists_the_products_in_order(run_sheet):
    path, rows = run_sheet
    host = openpyxl.load_workbook(path)["Run sheet"]
    assert values(host, 2)[:2] == ["Anchor", "A005 宝妈团购站"]
    assert values(host, 3)[0] == "Date" and host["B3"].value == dt.datetime(2026, 12, 1)
    assert host["B3"].number_format == "yyyy-mm-dd"
    assert values(host, 4)[:2] == ["Start time", "20:00"]
    assert values(host, 5)[:2] == ["Length", "180 minutes"]
    gmv = sum(Decimal(row["expected_gmv"]) for row in rows)
    assert host["B6"].value == float(gmv) and host["B6"].number_format == MONEY
    assert values(host, 8) == HOST_HEADINGS
    table = list(host.iter_rows(min_row=9, max_row=8 + len(rows)))
    assert host.cell(9 + len(rows), 1).value is None  # nothing after the last product
    for cells, row in zip(table, rows, strict=True):
        number, start, minutes, title, live, _list, _mech, _points, stock, role, _note = cells
        assert number.value == int(row["position"])
        assert start.value == dt.datetime.combine(
            dt.date(2026, 12, 1), dt.time.fromisoformat(row["start"])
        )
        assert start.number_format == "hh:mm"
        assert minutes.value == int(row["minutes"]) and stock.value == int(row["stock"])
        assert title.value == row["title"] and title.data_type == "s"
        assert live.value == yuan(row["live_price"]) and live.number_format == MONEY
        assert role.value == ROLE_WORDS[row["role"]]  # in English, as the notes
    assert table[0][-1].value == "opening" and table[-1][-1].value == "closing"
    # List prices from the product sheets; the food merchant's 卖点 column on its products.
    assert all(
        isinstance(cells[5].value, int | float) and cells[5].number_format == MONEY
        for cells in table
    )
    points = {cells[3].value: cells[7].value for cells in table}
    assert points["经典辣条大礼包"] == "童年味道，20包混合口味"
    food = {row["title"] for row in rows if row["merchant_id"] == "M1002"}
    assert all(points[title] for title in food)
    assert not any(points[row["title"]] for row in rows if row["merchant_id"] != "M1002")


def test_the_host_sheet_prints_a4_landscape_a_page_per_hour_headings_repeated(run_sheet):
    path, rows = run_sheet
    host = openpyxl.load_workbook(path)["Run sheet"]
    assert host.page_setup.paperSize == 9 and host.page_setup.orientation == "landscape"
    assert 10 <= host.page_setup.scale <= 100
    assert host.print_title_rows == "$8:$8"
    assert host.freeze_panes == "A9" and host.auto_filter.ref.startswith("A8:")
    assert host.oddFooter.center.text == "Page &P of &N"
    # A break above the first product of each new hour of the session.
    hours = [int(row["start_minute"]) // 60 for row in rows]
    expected = [9 + i for i in range(1, len(rows)) if hours[i] != hours[i - 1]]
    assert expected and [brk.id for brk in host.row_breaks.brk] == [r - 1 for r in expected]


def test_each_merchant_sheet_lists_its_products_stock_to_prepare_and_samples(run_sheet):
    path, rows = run_sheet
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames[2:]:
        sheet = book[name]
        merchant = name.split(" ")[0]
        mine = [row for row in rows if row["merchant_id"] == merchant]
        assert values(sheet, 7) == [
            "Session",
            "Start time",
            "Slot (minutes)",
            "Product ID",
            "Product name",
            "Live price",
            "Mechanism",
            "Stock",
            "Stock to prepare",
            "Sample",
        ]
        table = list(sheet.iter_rows(min_row=8, max_row=7 + len(mine)))
        ids = [cells[3] for cells in table]
        assert [c.value for c in ids] == [row["product_id"] for row in mine]
        assert all(c.data_type == "s" and c.number_format == "@" for c in ids)  # IDs as text
        assert [c[8].value for c in table] == [int(row["expected_units"]) for row in mine]
        assert {c[9].value for c in table} <= {"sample ready", "no sample", "sample not stated"}
        total = values(sheet, 8 + len(mine))
        assert total[0] == "Total" and total[8] == sum(int(r["expected_units"]) for r in mine)
        assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$7:$7"


def test_the_summary_adds_up_by_session_category_and_merchant_to_the_fen(run_sheet):
    path, rows = run_sheet
    summary = openpyxl.load_workbook(path)["Summary"]
    found = {}
    heading = None
    for line in summary.iter_rows(values_only=True):
        if line[0] in ("By session", "By category", "By merchant"):
            heading = line[0]
        elif heading and line[0] == "Total":
            found[heading] = line[1:6]
    fen = {
        key: sum(int(Decimal(row[key]) * 100) for row in rows)
        for key in ("expected_gmv", "expected_commission", "expected_team_income")
    }
    units = sum(int(row["expected_units"]) for row in rows)
    for heading in ("By session", "By category", "By merchant"):
        products, total_units, gmv, commission, income = found[heading]
        assert (products, total_units) == (len(rows), units)
        assert [round(v * 100) for v in (gmv, commission, income)] == list(fen.values())
    assert summary["B2"].value == fen["expected_gmv"] / 100
    assert summary["B2"].number_format == MONEY


def test_a_report_writes_a_workbook_of_its_figures_and_tables(haowu, demo_copy):
    ran = haowu(
        "--db", demo_copy, "report", "session", "1", "--as-of", "2026-12-31",
        "--out", "review.xlsx", env=EN,
    )  # fmt: skip
    assert ran.code == 0, ran
    assert "wrote the session report workbook to review.xlsx" in ran.err
    book = openpyxl.load_workbook(demo_copy.parent / "review.xlsx")
    assert book.sheetnames == ["Headline", "products", "categories", "merchants", "regulars",
                               "income"]  # fmt: skip
    products = book["products"]
    header = values(products, 1)
    first = dict(zip(header, values(products, 2), strict=True))
    assert isinstance(first["product_id"], str)
    assert products.cell(2, header.index("product_id") + 1).data_type == "s"
    assert isinstance(first["gmv"], int | float)
    assert products.cell(2, header.index("gmv") + 1).number_format == MONEY
    assert products.cell(2, header.index("refund_rate") + 1).number_format == "0.00%"
    assert products.freeze_panes == "A2" and products.auto_filter.ref
    figures = {row[0]: row[1] for row in book["Headline"].iter_rows(values_only=True) if row[0]}
    assert figures["GMV"] == 237053.8


def test_a_report_writes_the_csv_of_a_table_to_another_name(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "report", "grades", "--out", "g.csv", "--table", "levels")
    assert ran.code == 0, ran
    assert (demo_copy.parent / "g.csv").read_text("utf-8").startswith("level,products,share")


@pytest.mark.parametrize("what", ["products", "ledger", "orders", "run-sheet 1"])
def test_xlsx_writes_a_workbook_whatever_the_name(haowu, demo_copy, what):
    ran = haowu("--db", demo_copy, "export", *what.split(), "--xlsx", "--out", "out.dat")
    assert ran.code == 0, ran
    assert zipfile.is_zipfile(demo_copy.parent / "out.dat")


@pytest.mark.parametrize(
    "args",
    [["export", "products", "--xlsx"], ["report", "grades", "--xlsx"]],
    ids=["export", "report"],
)
def test_xlsx_without_a_file_is_a_usage_error(haowu, demo_copy, args):
    ran = haowu("--db", demo_copy, *args)
    assert ran.code == 2 and "--out FILE.xlsx" in ran.err and ran.out == ""


def test_the_run_sheet_workbook_follows_no_link(haowu, demo_copy):
    victim = demo_copy.parent / "victim.txt"
    victim.write_text("keep me", encoding="utf-8")
    link = demo_copy.parent / "rs.xlsx"
    link.symlink_to(victim)
    ran = haowu("--db", demo_copy, "export", "run-sheet", "1", "--out", link)
    assert ran.code == 2 and "symbolic link" in ran.err
    assert victim.read_text(encoding="utf-8") == "keep me" and link.is_symlink()


@file_only("a workbook aimed at the database file")
def test_the_run_sheet_workbook_spares_the_database(haowu, demo_copy):
    before = demo_copy.read_bytes()
    ran = haowu("--db", demo_copy, "export", "run-sheet", "1", "--xlsx", "--out", demo_copy)
    assert ran.code == 2 and "the database" in ran.err
    assert demo_copy.read_bytes() == before


def test_writing_a_workbook_to_a_missing_folder_fails_cleanly(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "export", "run-sheet", "1", "--out", Path("no/rs.xlsx"))
    assert ran.code == 2 and "does not exist" in ran.err and "Traceback" not in ran.err
