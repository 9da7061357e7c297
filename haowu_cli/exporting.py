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
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import polars as pl

from haowu_cli import outfiles
from haowu_cli.errors import HaowuError
from haowu_cli.formats import excel_safe
from haowu_cli.i18n import _

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet

    from haowu_cli.ingest.columns import Field

ColumnKinds = Mapping[str, str]
CellWriter = Callable[[int, int, Any], None]  # (row, column, value): writes one cell
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


def field_kinds(fields: Iterable[Field]) -> dict[str, str]:
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
    protect: Iterable[outfiles.Kept] = (),
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
    protect: Iterable[outfiles.Kept] = (),
) -> None:
    """Write `frame` as an Excel workbook of one sheet: IDs and text as string cells (never
    a formula, leading zeros kept), money as numbers shown `¥#,##0.00`, rates as
    percentages, dates as dates; a frozen header row with filters, and columns wide enough
    for their Chinese text. Rows go to disk as they are written (constant memory)."""
    check_table(frame, target)
    write_workbook(
        target,
        lambda book: book.add_table(frame, kinds=kinds, sheet=sheet),
        protect=protect,
        constant_memory=True,
    )


def check_table(frame: pl.DataFrame, target: Path, *, sheet: str | None = None) -> None:
    """Refuse, before anything is written, a table an Excel sheet cannot hold."""
    where = f"{target}" + (f" (sheet {sheet})" if sheet else "")
    if frame.height >= EXCEL_ROW_LIMIT:
        raise HaowuError(
            _(
                "cannot write {target}: {rows} rows, and an Excel sheet holds at most "
                "{limit} below its header"
            ).format(target=where, rows=f"{frame.height:,}", limit=f"{EXCEL_ROW_LIMIT - 1:,}"),
            hint=_("export it as CSV (--out FILE.csv) instead"),
        )
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            too_long = frame.select(pl.col(name).str.len_chars().arg_max()).item()
            if too_long is not None and len(frame[name][too_long]) > EXCEL_CELL_LIMIT:
                raise HaowuError(
                    _(
                        "cannot write {target}: column {column} of row {row} holds more than "
                        "{limit} characters, the most an Excel cell can hold"
                    ).format(
                        target=where,
                        column=name,
                        row=too_long + 2,
                        limit=f"{EXCEL_CELL_LIMIT:,}",
                    ),
                    hint=_("export it as CSV (--out FILE.csv) instead"),
                )


def write_workbook(
    target: Path,
    build: Callable[[BookWriter], None],
    *,
    protect: Iterable[outfiles.Kept] = (),
    option: str = "--out",
    constant_memory: bool = False,
) -> None:
    """Write a workbook through `outfiles`: the target checked first (never the database,
    an input, a link or a device), then `build(book)` fills a `BookWriter` and the file is
    written whole or not at all. `constant_memory`: every sheet's rows are written top to
    bottom, and go to disk as they are (a long export in little memory)."""
    outfiles.check_target(target, option=option, protect=protect)

    def write(stream: BinaryIO) -> None:
        book = BookWriter(stream, constant_memory=constant_memory)
        build(book)
        book.close()

    outfiles.write_file(target, write)


# Characters Excel refuses in a sheet name, and its longest name.
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_LIMIT = 31


def sheet_name(wanted: str, taken: Iterable[str] = ()) -> str:
    """A name Excel accepts for a sheet, unlike any of `taken` (Excel compares them without
    case): the forbidden characters []:*?/\\ replaced, no leading or trailing apostrophe,
    at most 31 characters, and a number added when the name is taken."""
    name = _SHEET_FORBIDDEN.sub("_", "".join(c for c in wanted if c.isprintable()))
    name = name.strip("'").strip() or "Sheet"
    if name.lower() == "history":  # Excel keeps this name for itself
        name = f"{name}_"
    name = name[:SHEET_NAME_LIMIT]
    used = {t.lower() for t in taken}
    number = 1
    candidate = name
    while candidate.lower() in used:
        number += 1
        suffix = f" ({number})"
        candidate = name[: SHEET_NAME_LIMIT - len(suffix)] + suffix
    return candidate


def fen_number(fen: int) -> float:
    """Integer fen as the number of a money cell, in yuan. Exact to the fen on the way: fen
    / 100 as a Decimal. The cell is a float because every number in a workbook is an IEEE
    double, and that is fine for display: a double holds any amount below 2^53 fen to well
    under half a fen, so Excel shows the exact yuan and fen in `¥#,##0.00`; the amounts to
    reckon with stay exact in the database, the ledger and the CSV exports."""
    return float(Decimal(fen) / 100)


class BookWriter:
    """A workbook being written with XlsxWriter, for people and for Excel.

    Every text cell is written with `write_string`, so a cell a merchant typed as `=1+2`
    stays the text `=1+2`: the workbook holds no formula. IDs are text (all their digits,
    their leading zeros); money is a number shown `¥#,##0.00`; rates are fractions shown as
    percentages; dates are dates. Sheet names are made safe and unique (`sheet_name`).
    """

    def __init__(self, stream: BinaryIO, *, constant_memory: bool = False) -> None:
        import xlsxwriter

        self.book = xlsxwriter.Workbook(
            stream,
            {
                "constant_memory": constant_memory,
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        self.names: list[str] = []
        self.header = self.book.add_format(
            {"bold": True, "bg_color": "#EEEEEE", "bottom": 1, "text_wrap": True}
        )
        self.formats = {
            "id": self.book.add_format({"num_format": "@"}),
            "text": self.book.add_format({"num_format": "@"}),
            "money": self.book.add_format({"num_format": "¥#,##0.00"}),
            "fen": self.book.add_format({"num_format": "¥#,##0.00"}),
            "rate": self.book.add_format({"num_format": "0.00%"}),
            "number": None,
            "date": self.book.add_format({"num_format": "yyyy-mm-dd"}),
            "datetime": self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        }

    def add_format(self, properties: dict) -> Format:
        return self.book.add_format(properties)

    def add_sheet(self, wanted: str) -> Worksheet:
        """A new worksheet named `wanted`, made safe and unique."""
        name = sheet_name(wanted, self.names)
        self.names.append(name)
        return self.book.add_worksheet(name)

    def add_table(
        self,
        frame: pl.DataFrame,
        *,
        kinds: ColumnKinds,
        sheet: str,
        headings: Mapping[str, str] | None = None,
    ) -> Worksheet:
        """A sheet holding `frame`: its header row (the column names, or `headings` for
        them) frozen, with filters, columns as wide as their text; returns the worksheet."""
        worksheet = self.add_sheet(sheet)
        self.write_table(worksheet, frame, kinds=kinds, headings=headings)
        return worksheet

    def write_table(
        self,
        worksheet: Worksheet,
        frame: pl.DataFrame,
        *,
        kinds: ColumnKinds,
        headings: Mapping[str, str] | None = None,
        first_row: int = 0,
        freeze: bool = True,
        autofilter: bool = True,
    ) -> int:
        """Write `frame` with its header at `first_row`; returns the row after the last."""
        columns = frame.columns
        titles = [(headings or {}).get(name, name) for name in columns]
        column_kinds = [kind_of(kinds, name, frame.schema[name]) for name in columns]
        for index, name in enumerate(columns):
            width = column_width(frame, name, column_kinds[index], heading=titles[index])
            worksheet.set_column(index, index, width)
        if freeze:
            worksheet.freeze_panes(first_row + 1, 0)
        if autofilter and columns:
            worksheet.autofilter(first_row, 0, first_row + max(frame.height, 1), len(columns) - 1)
        for index, title in enumerate(titles):
            worksheet.write_string(first_row, index, title, self.header)
        typed, writers = self._typed_columns(worksheet, frame, column_kinds)
        for row, values in enumerate(typed.iter_rows(), start=first_row + 1):
            for index, value in enumerate(values):
                if value is not None:
                    writers[index](row, index, value)
        return first_row + frame.height + 1

    def _typed_columns(
        self, worksheet: Worksheet, frame: pl.DataFrame, column_kinds: list[str]
    ) -> tuple[pl.DataFrame, list[CellWriter]]:
        """`frame` with each column parsed as its kind says, at once for the whole column
        (Polars), and how to write each column's cells. A column where a value does not
        parse keeps its values as they are and is written cell by cell (`cell_writer`): the
        value that does not parse becomes a string cell."""
        columns: list[pl.Series] = []
        writers: list[CellWriter] = []
        for name, kind in zip(frame.columns, column_kinds, strict=True):
            source = frame[name]
            parsed = _parsed(source, kind)
            cell_format = self.formats[kind]
            if parsed is None or (parsed.is_null() & source.is_not_null()).any():
                columns.append(source)
                writers.append(self.cell_writer(worksheet, kind))
            elif kind in ("date", "datetime"):
                columns.append(parsed)
                writers.append(_bound(worksheet.write_datetime, cell_format))
            elif kind in TEXT_KINDS:
                columns.append(parsed)
                writers.append(_bound(worksheet.write_string, cell_format))
            else:
                columns.append(parsed)
                writers.append(_bound(worksheet.write_number, cell_format))
        return pl.DataFrame(columns), writers

    def cell_writer(
        self, worksheet: Worksheet, kind: str, cell_format: Format | None = None
    ) -> CellWriter:
        """How to write one cell of a column of this kind. A value that does not parse as
        its kind says is written as a string, never as anything Excel would run."""
        cell_format = cell_format if cell_format is not None else self.formats[kind]
        return _cell_writer(worksheet, kind, cell_format)

    def close(self) -> None:
        self.book.close()


def kind_of(kinds: ColumnKinds, name: str, dtype: pl.DataType) -> str:
    """A column's kind: as `kinds` says, else a number for a numeric column, else text."""
    if name in kinds:
        return kinds[name]
    return "number" if dtype.is_numeric() else "text"


def _bound(write: Callable[..., object], cell_format: Format | None) -> CellWriter:
    def cell(row: int, col: int, value: Any) -> None:
        write(row, col, value, cell_format)

    return cell


def _parsed(column: pl.Series, kind: str) -> pl.Series | None:
    """`column` as the cells of its kind, parsed for the whole column: text as strings;
    numbers as Float64 (or whole numbers as they are); fen as yuan; dates and datetimes as
    such; null where a value does not parse. None: no fast way for this column."""
    dtype = column.dtype
    if kind in TEXT_KINDS:
        return column if dtype == pl.String else None
    if kind == "fen":
        # A whole number of fen below 2^53 is exact as a double, and dividing it by 100 gives
        # the double nearest fen / 100: the very number `fen_number` gives.
        return (column.cast(pl.Float64) / 100) if dtype.is_integer() else None
    if kind in ("money", "rate", "number"):
        if dtype.is_integer():
            return column
        if dtype == pl.String or dtype.is_float() or dtype.is_decimal():
            # Text "59.90" parses to the double nearest 59.90, as Python's float("59.90")
            # and float(Decimal("59.90")) do (see `fen_number` for why a double is fine).
            numbers = column.cast(pl.Float64, strict=False)
            return numbers.set(~numbers.is_finite().fill_null(True), None)
        return None
    if kind == "date":
        if dtype == pl.Date:
            return column
        if dtype == pl.String:
            return column.str.to_date("%Y-%m-%d", strict=False)
        return None
    if kind == "datetime":
        if isinstance(dtype, pl.Datetime):
            return column
        if dtype == pl.String:
            return column.str.to_datetime(strict=False)
        return None
    return None


def _cell_writer(worksheet: Worksheet, kind: str, cell_format: Format | None) -> CellWriter:
    def as_text(row: int, col: int, value: Any) -> None:
        if isinstance(value, bool):  # yes/no fields: Excel's TRUE and FALSE
            worksheet.write_boolean(row, col, value)
            return
        worksheet.write_string(row, col, str(value), cell_format if kind in TEXT_KINDS else None)

    if kind in TEXT_KINDS:
        return as_text
    parse = {
        "money": _number,
        "fen": lambda v: fen_number(int(v)),
        "rate": _number,
        "number": _number,
        "date": lambda v: dt.datetime.combine(
            v if isinstance(v, dt.date) else dt.date.fromisoformat(v), dt.time()
        ),
        "datetime": lambda v: v if isinstance(v, dt.datetime) else dt.datetime.fromisoformat(v),
    }[kind]
    write = worksheet.write_datetime if kind in ("date", "datetime") else worksheet.write_number

    def typed(row: int, col: int, value: Any) -> None:
        if isinstance(value, bool):
            as_text(row, col, value)
            return
        try:
            parsed = parse(value)
        except (TypeError, ValueError, ArithmeticError):
            as_text(row, col, value)
            return
        write(row, col, parsed, cell_format)

    return typed


def _number(value: Any) -> int | float:
    """A cell's number: whole numbers as they are, decimals (yuan text "59.90", a rate
    "0.2", a DECIMAL) read exactly as a Decimal, then made the double Excel stores (see
    `fen_number` for why that is fine for display)."""
    if isinstance(value, int | float):
        return value
    text = str(value)
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    number = Decimal(text)
    if not number.is_finite():
        raise ValueError(text)
    return float(number)


def column_width(frame: pl.DataFrame, name: str, kind: str, *, heading: str | None = None) -> float:
    """Wide enough for the header and the widest value, counting an East Asian wide
    character (汉字, full-width forms) as two; at most 60."""
    widths = [display_width(heading or name) + 3]  # the filter button
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
