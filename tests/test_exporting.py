"""Exports as workbooks (`exporting.write_xlsx`): what Excel cannot hold is refused with a
message, before anything is written."""

from __future__ import annotations

import polars as pl
import pytest

from haowu_cli import exporting
from haowu_cli.errors import HaowuError


def test_a_cell_longer_than_excel_holds_is_refused_with_its_row_and_column(tmp_path):
    frame = pl.DataFrame({"product_id": ["P1", "P2"], "title": ["short", "长" * 40_000]})
    with pytest.raises(HaowuError, match="column title of row 3 holds more than 32,767"):
        exporting.write_xlsx(frame, tmp_path / "p.xlsx", kinds={"product_id": "id"}, sheet="p")
    assert list(tmp_path.iterdir()) == []


def test_more_rows_than_a_sheet_holds_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(exporting, "EXCEL_ROW_LIMIT", 3)
    frame = pl.DataFrame({"product_id": ["P1", "P2", "P3"]})
    with pytest.raises(HaowuError, match="an Excel sheet holds at most 2 below its header"):
        exporting.write_xlsx(frame, tmp_path / "p.xlsx", kinds={}, sheet="p")
    assert list(tmp_path.iterdir()) == []


def test_display_width_counts_east_asian_wide_characters_twice():
    assert exporting.display_width("面霜50g") == 2 + 2 + 3
    assert exporting.display_width("ＡＢ") == 4  # full-width forms


@pytest.mark.parametrize(
    ("wanted", "taken", "name"),
    [
        ("排品表 1", [], "排品表 1"),
        ("a[b]:c*d?e/f\\g", [], "a_b__c_d_e_f_g"),
        ("'quoted'", [], "quoted"),
        ("M1002 " + "川" * 40, [], "M1002 " + "川" * 25),
        ("Summary", ["summary"], "Summary (2)"),
        ("x" * 31, ["x" * 31, "x" * 27 + " (2)"], "x" * 27 + " (3)"),
        ("History", [], "History_"),
        ("", [], "Sheet"),
        ("tab\there", [], "tabhere"),
    ],
)
def test_sheet_names_are_made_safe_and_unique_for_excel(wanted, taken, name):
    made = exporting.sheet_name(wanted, taken)
    assert made == name
    assert len(made) <= 31 and made.lower() not in {t.lower() for t in taken}


def test_money_cells_are_the_exact_yuan_of_integer_fen():
    from decimal import Decimal

    for fen in (0, 1, 5, 99, 5990, 129_900, -316_80, 10**15 + 1, 2**53 - 1):
        number = exporting.fen_number(fen)
        assert Decimal(f"{number:.2f}") == Decimal(fen) / 100  # shown to the fen exactly


def test_a_workbook_keeps_ids_text_money_numbers_and_never_writes_a_formula(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pl.DataFrame(
        {
            "product_id": ["0012345", "3456789012345678901"],
            "title": ["=1+2", "@cmd"],
            "live_price": ["59.90", "-0.05"],
            "commission_rate": ["0.2", "0.125"],
            "listed_at": ["2026-11-01", None],
            "stock": [3, 0],
        }
    )
    kinds = {
        "product_id": "id",
        "live_price": "money",
        "commission_rate": "rate",
        "listed_at": "date",
    }
    exporting.write_xlsx(frame, tmp_path / "p.xlsx", kinds=kinds, sheet="商品[1]")
    book = openpyxl.load_workbook(tmp_path / "p.xlsx")
    assert book.sheetnames == ["商品_1_"]
    sheet = book.active
    rows = list(sheet.iter_rows(min_row=2))
    assert [r[0].value for r in rows] == ["0012345", "3456789012345678901"]
    assert all(r[0].data_type == "s" and r[0].number_format == "@" for r in rows)
    assert [r[1].value for r in rows] == ["=1+2", "@cmd"]
    assert all(r[1].data_type == "s" for r in rows)  # text, never a formula
    assert [r[2].value for r in rows] == [59.9, -0.05]
    assert rows[0][2].number_format == "¥#,##0.00"
    assert rows[0][3].value == 0.2 and rows[0][3].number_format == "0.00%"
    assert rows[0][4].is_date and rows[1][4].value is None
    assert [r[5].value for r in rows] == [3, 0]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:F3"


def test_a_value_that_is_not_its_kind_is_written_as_text(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    frame = pl.DataFrame({"live_price": ["59.90", "NaN", "=1+2"], "listed_at": ["x", "", None]})
    kinds = {"live_price": "money", "listed_at": "date"}
    exporting.write_xlsx(frame, tmp_path / "p.xlsx", kinds=kinds, sheet="p")
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    assert [c.value for c in sheet["A"][1:]] == [59.9, "NaN", "=1+2"]
    assert sheet["A4"].data_type == "s" and sheet["B2"].value == "x"
