"""Writing exports for finance and Excel: CSV, or a real `.xlsx` workbook.

An export is a frame of text and numbers plus `kinds`, what each column holds: `id`, `text`,
`money` (yuan), `rate` (a fraction), `number`, `date` or `datetime`; a column not named is
text. Every file is written through `outfiles`: checked first (never the database, an input,
a link or a device), then whole or not at all.

For Excel, every text cell is neutralised: in a CSV a text cell that Excel would run as a
formula gets a leading `'`; in a workbook every text cell is a string cell, which Excel never
runs, and IDs stay text with their leading zeros and all their digits.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import BinaryIO

import polars as pl

from haowu_cli import outfiles
from haowu_cli.errors import HaowuError
from haowu_cli.formats import excel_safe
from haowu_cli.i18n import _

ColumnKinds = Mapping[str, str]
TEXT_KINDS = {"id", "text"}
EXCEL_CELL_LIMIT = 32_767  # characters in one cell
EXCEL_ROW_LIMIT = 1_048_576  # rows in one sheet, the header's included
# An ID Excel turns into a number when it opens a CSV: a leading zero is dropped (0012345 ->
# 12345), digits past the 15th are lost, and from 12 digits it shows (and saves back as CSV)
# 1.00102E+12.
_MANGLED_ID = r"^(0[0-9]+|[0-9]{12,})$"


# What each field type of `ingest.columns` becomes in an export.
FIELD_KINDS = {
    "id": "id",
    "money": "money",
    "rate": "rate",
    "count": "number",
    "hours": "number",
    "score": "number",
    "date": "date",
}


def field_kinds(fields) -> dict[str, str]:
    """The kinds of an export whose columns are these fields (`ingest.columns.Field`)."""
    return {f.name: FIELD_KINDS.get(f.type.name, "text") for f in fields}


def excel_safe_frame(frame: pl.DataFrame, kinds: ColumnKinds = {}) -> pl.DataFrame:  # noqa: B006
    """Every text cell of `frame` neutralised for Excel: every string column, except that in
    a column `kinds` says holds numbers (money, rates) a plain negative number stays data."""
    return frame.with_columns(
        excel_safe(name, numbers=kinds.get(name, "text") not in TEXT_KINDS)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def write_csv(
    frame: pl.DataFrame,
    target: Path | None,
    *,
    excel: bool = False,
    kinds: ColumnKinds = {},  # noqa: B006
    protect: Iterable[tuple[Path, str]] = (),
) -> None:
    """Write `frame` as CSV to `target`, or to stdout when `target` is None.

    `excel`: a UTF-8 byte-order mark (Excel needs it to show Chinese) and every text cell
    Excel would run as a formula neutralised. `protect`: files the target must not be (the
    database, the inputs). A file is written whole or not at all.
    """
    if excel:
        frame = excel_safe_frame(frame, kinds)
    if target is None:
        data = frame.write_csv()
        stream = sys.stdout
        if excel:
            stream.write("\ufeff")
        stream.write(data)
        stream.flush()
        return
    outfiles.check_target(target, option="--out", protect=protect)
    outfiles.write_file(target, lambda stream: frame.write_csv(stream, include_bom=excel))


def ids_excel_would_mangle(frame: pl.DataFrame, kinds: ColumnKinds) -> list[str]:
    """The ID columns holding a value Excel turns into a number when it opens a CSV."""
    return [
        name
        for name, kind in kinds.items()
        if kind == "id"
        and name in frame.columns
        and frame.select(pl.col(name).cast(pl.String).str.contains(_MANGLED_ID).any()).item()
    ]


def is_xlsx(target: Path | None) -> bool:
    return target is not None and target.suffix.lower() == ".xlsx"


def write_xlsx(
    frame: pl.DataFrame,
    target: Path,
    *,
    kinds: ColumnKinds,
    sheet: str,
    protect: Iterable[tuple[Path, str]] = (),
) -> None:
    """Write `frame` as an Excel workbook of one sheet: IDs and text as string cells (never
    a formula, leading zeros kept), money as numbers shown `¥#,##0.00`, rates as
    percentages, dates as dates; a frozen header row with filters, and columns wide enough
    for their Chinese text."""
    outfiles.check_target(target, option="--out", protect=protect)
    if frame.height >= EXCEL_ROW_LIMIT:
        raise HaowuError(
            _(
                "cannot write {target}: {height:,} rows, and an Excel sheet holds at "
                "most {value:,} below its header"
            ).format(target=target, height=frame.height, value=EXCEL_ROW_LIMIT - 1),
            hint=_("export it as CSV (--out FILE.csv) instead"),
        )
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            too_long = frame.select(pl.col(name).str.len_chars().arg_max()).item()
            if too_long is not None and len(frame[name][too_long]) > EXCEL_CELL_LIMIT:
                raise HaowuError(
                    _(
                        "cannot write {target}: column {name} of row {value} holds more than "
                        "{EXCEL_CELL_LIMIT:,} characters, the most an Excel cell can hold"
                    ).format(
                        target=target,
                        name=name,
                        value=too_long + 2,
                        EXCEL_CELL_LIMIT=EXCEL_CELL_LIMIT,
                    ),
                    hint=_("export it as CSV (--out FILE.csv) instead"),
                )
    outfiles.write_file(target, lambda stream: _write_workbook(stream, frame, kinds, sheet))


def _write_workbook(stream: BinaryIO, frame: pl.DataFrame, kinds: ColumnKinds, sheet: str):
    import xlsxwriter

    book = xlsxwriter.Workbook(
        stream,
        {
            "constant_memory": True,  # rows go to disk as they are written
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    header = book.add_format({"bold": True, "bg_color": "#EEEEEE", "bottom": 1})
    formats = {
        "id": book.add_format({"num_format": "@"}),
        "text": book.add_format({"num_format": "@"}),
        "money": book.add_format({"num_format": "¥#,##0.00"}),
        "rate": book.add_format({"num_format": "0.00%"}),
        "number": None,
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
    }
    worksheet = book.add_worksheet(sheet)
    columns = frame.columns
    column_kinds = [kinds.get(name, "text") for name in columns]
    for index, name in enumerate(columns):
        worksheet.set_column(index, index, column_width(frame, name, column_kinds[index]))
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, max(frame.height, 1), len(columns) - 1)
    for index, name in enumerate(columns):
        worksheet.write_string(0, index, name, header)
    writers = [_cell_writer(worksheet, kind, formats[kind]) for kind in column_kinds]
    for row, values in enumerate(frame.iter_rows(), start=1):
        for index, value in enumerate(values):
            if value is not None:
                writers[index](row, index, value)
    book.close()


def _cell_writer(worksheet, kind: str, cell_format):
    """How to write one cell of a column of this kind. A value that does not parse as its
    kind says is written as a string, never as anything Excel would run."""

    def as_text(row, col, value):
        if isinstance(value, bool):  # yes/no fields: Excel's TRUE and FALSE
            worksheet.write_boolean(row, col, value)
            return
        worksheet.write_string(row, col, str(value), cell_format if kind in TEXT_KINDS else None)

    if kind in TEXT_KINDS:
        return as_text
    parse = {
        "money": _number,
        "rate": _number,
        "number": _number,
        "date": lambda v: dt.datetime.combine(
            v if isinstance(v, dt.date) else dt.date.fromisoformat(v), dt.time()
        ),
        "datetime": lambda v: v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v),
    }[kind]
    write = worksheet.write_datetime if kind in ("date", "datetime") else worksheet.write_number

    def typed(row, col, value):
        try:
            parsed = parse(value)
        except (TypeError, ValueError):
            as_text(row, col, value)
            return
        write(row, col, parsed, cell_format)

    return typed


def _number(value) -> int | float:
    if isinstance(value, int | float):
        return value
    text = str(value)
    return int(text) if re.fullmatch(r"-?[0-9]+", text) else float(text)


def column_width(frame: pl.DataFrame, name: str, kind: str) -> float:
    """Wide enough for the header and the widest value, counting an East Asian wide
    character (汉字, full-width forms) as two; at most 60."""
    widths = [display_width(name) + 3]  # the filter button
    if frame.height:
        values = frame.select(pl.col(name).cast(pl.String).drop_nulls().unique().alias("v"))
        # The longest values in bytes (a 汉字 is three, an ASCII character one) hold the
        # widest one: measure those exactly, not every value of a long column.
        longest = values.sort(pl.col("v").str.len_bytes(), descending=True).head(20)["v"]
        widths += [display_width(value) for value in longest]
    extra = {"money": 3, "rate": 2}.get(kind, 0)  # ¥ and grouping, %
    return min(max(widths) + 1 + extra, 60)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
