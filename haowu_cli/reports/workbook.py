"""A report as a workbook (`haowu report … --out x.xlsx`): a sheet of headline figures, then a
sheet per table with the machine columns (`Table.frame`) typed for Excel: IDs as text, money
as numbers shown `¥#,##0.00`, rates and ratios as percentages, counts as numbers."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from haowu_cli.exporting import BookWriter
from haowu_cli.i18n import _
from haowu_cli.reports.document import Report

# What the reports' columns and figures hold, by name (the same name means the same thing in
# every report); a column not named is a number when its values are, else text.
MONEY = {
    "gmv",
    "expected_gmv",
    "off_sheet_gmv",
    "refund",
    "estimated",
    "settled",
    "previous_gmv",
    "gap",
    "next_gmv",
    "leader_income",
}
RATES = {"refund_rate", "achievement", "share", "growth", "progress", "l4_up_share"}
IDS = {"product_id", "merchant_id", "anchor_id", "order_id"}
DATES = {"as_of"}


def column_kinds(columns: Iterable[str]) -> dict[str, str]:
    kinds = {}
    for name in columns:
        if name in MONEY:
            kinds[name] = "money"
        elif name in RATES:
            kinds[name] = "rate"
        elif name in IDS:
            kinds[name] = "id"
        elif name in DATES:
            kinds[name] = "date"
    return kinds


def write_report(book: BookWriter, report: Report) -> None:
    """Fill `book` with `report`: its figures, then each of its tables."""
    figures = book.add_sheet(_("Headline"))
    figures.write_string(0, 0, report.title, book.add_format({"bold": True, "font_size": 14}))
    figures.write_string(1, 0, report.subtitle)
    first = 3
    if report.alert:
        figures.write_string(2, 0, report.alert)
        first = 4
    kinds = column_kinds(f.key for f in report.figures)
    writers = {kind: book.cell_writer(figures, kind) for kind in set(kinds.values()) | {"number"}}
    widths = [10.0, 14.0]
    for row, figure in enumerate(report.figures, start=first):
        figures.write_string(row, 0, figure.label, book.header)
        widths[0] = max(widths[0], _width(figure.label))
        value, kind = figure.value, kinds.get(figure.key)
        if kind is not None and value is not None:
            writers[kind](row, 1, value)
        elif isinstance(value, int) and not isinstance(value, bool):
            writers["number"](row, 1, value)
        else:
            figures.write_string(row, 1, figure.text)
            widths[1] = max(widths[1], _width(figure.text))
    figures.set_column(0, 0, widths[0])
    figures.set_column(1, 1, widths[1])
    for note_row, note in enumerate(report.notes, start=first + len(report.figures) + 1):
        figures.write_string(note_row, 0, note)
    for table in report.tables:
        # The documented columns of `--format csv --table KEY`, as headings too.
        frame = _plain(table.frame)
        book.add_table(frame, kinds=column_kinds(frame.columns), sheet=table.key)


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested values (a list, a struct) as their JSON text: a cell holds one value."""
    nested = [n for n, t in frame.schema.items() if isinstance(t, pl.List | pl.Struct)]
    return frame.with_columns(pl.col(n).map_elements(str, return_dtype=pl.String) for n in nested)


def _width(text: str) -> float:
    from haowu_cli.exporting import display_width

    return min(display_width(text) + 2, 60)
