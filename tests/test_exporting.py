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
