"""The run sheet workbook (排品表.xlsx): what the host and the merchants need on the night.

- one sheet per session for the host (主播/场控): the session's header (达人, 日期, 开始时间,
  时长, 预计GMV), then 序号, 开始时间, 讲解时长, 商品名称, 直播价, 划线价, 机制, 卖点 (when a
  product sheet has one), 库存, 角色, 备注 (开场/高峰/收尾); printed on A4 landscape, one
  page wide, a page per hour of session, the headings repeated on every page;
- a summary sheet (汇总): expected GMV, commission and team income by session, category and
  merchant, each with its total;
- one sheet per merchant: their products in the plan, the slot times, the stock to prepare
  and whether a sample is ready.

Money is summed in integer fen and written as numbers (`exporting.fen_number`); every text
cell is a string cell (`exporting.BookWriter`), so nothing a merchant typed runs as a formula.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from haowu_cli.exporting import BookWriter, display_width, fen_number
from haowu_cli.i18n import N_, _
from haowu_cli.planner.rules import RunSheetSettings
from haowu_cli.roles import NOTE_WORDS, role_labels

if TYPE_CHECKING:
    from xlsxwriter.worksheet import Worksheet

A4 = 9  # XlsxWriter's paper code for A4
FOOTER = N_("Page &P of &N")  # Excel fills &P (this page) and &N (the pages)
NOTES = NOTE_WORDS


@dataclass(frozen=True)
class RunSheetPlan:
    """A saved plan as the workbook reads it: its run sheet (`store.plan_items`), its
    resolved brief, and `details` (`store.plan_item_details`): list price, sample, merchant
    name, the sheet's other columns and the anchor's name, by session and product."""

    plan_id: int
    items: pl.DataFrame
    brief: dict
    details: pl.DataFrame


def host_columns(selling_points: bool) -> list[tuple[str, str, str]]:
    """The host sheet's columns: (column of the frame, heading, kind)."""
    columns = [
        ("position", _("No."), "number"),
        ("start_time", _("Start time"), "time"),
        ("minutes", _("Slot (minutes)"), "number"),
        ("title", _("Product name"), "text"),
        ("live_price_fen", _("Live price"), "fen"),
        ("list_price_fen", _("List price"), "fen"),
        ("mechanism", _("Mechanism"), "text"),
        ("selling_points", _("Selling points"), "wrap"),
        ("stock", _("Stock"), "number"),
        ("role", _("Role"), "text"),
        ("note", _("Notes"), "text"),
    ]
    return [c for c in columns if selling_points or c[0] != "selling_points"]


def merchant_columns() -> list[tuple[str, str, str]]:
    return [
        ("session", _("Session"), "number"),
        ("start_time", _("Start time"), "time"),
        ("minutes", _("Slot (minutes)"), "number"),
        ("product_id", _("Product ID"), "id"),
        ("title", _("Product name"), "text"),
        ("live_price_fen", _("Live price"), "fen"),
        ("mechanism", _("Mechanism"), "text"),
        ("stock", _("Stock"), "number"),
        ("expected_units", _("Stock to prepare"), "number"),
        ("sample_text", _("Sample"), "text"),
    ]


def summary_columns(first: str, heading: str) -> list[tuple[str, str, str]]:
    return [
        (first, heading, "id" if first.endswith("_id") else "text"),
        ("products", _("Products"), "number"),
        ("expected_units", _("Expected units"), "number"),
        ("expected_gmv_fen", _("Expected GMV"), "fen"),
        ("commission_fen", _("Anchor commission"), "fen"),
        ("team_income_fen", _("Team income"), "fen"),
    ]


def run_sheet_frame(plan: RunSheetPlan, settings: RunSheetSettings) -> pl.DataFrame:
    """The plan's items with what the workbook adds: the start as a clock time, the list
    price, the sample, the merchant's name, the anchor's name and the selling points."""
    details = plan.details.with_columns(
        pl.col("extra")
        .map_elements(lambda e: _selling_points(e, settings), return_dtype=pl.String)
        .alias("selling_points")
    ).drop("extra")
    items = plan.items.join(details, on=["session", "product_id"], how="left")
    starts = [
        dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=_clock_minutes(start))
        for day, start in zip(items["session_date"], items["start"], strict=True)
    ]
    return items.with_columns(
        pl.Series("start_time", starts, dtype=pl.Datetime("us")),
        pl.col("sample")
        .replace_strict(
            {True: _("sample ready"), False: _("no sample")},
            default=_("sample not stated"),
            return_dtype=pl.String,
        )
        .alias("sample_text"),
        pl.col("note").replace_strict(
            {key: _(text) for key, text in NOTES.items()}, default=pl.col("note")
        ),
        pl.col("role").replace_strict(role_labels(), default=pl.col("role")),
    ).sort("session", "position")


def _selling_points(extra: str | None, settings: RunSheetSettings) -> str | None:
    """The first selling-points column (`run_sheet.selling_points`) a product's sheet had."""
    if not extra or not settings.selling_points:
        return None
    try:
        columns = json.loads(extra)
    except ValueError:
        return None
    for header in settings.selling_points:
        value = columns.get(header) if isinstance(columns, dict) else None
        if value not in (None, ""):
            return str(value)
    return None


def _clock_minutes(start: str) -> int:
    hours, minutes = start.split(":")
    return int(hours) * 60 + int(minutes)


def write_run_sheet(book: BookWriter, plan: RunSheetPlan, settings: RunSheetSettings) -> None:
    """Fill `book` with the run sheet workbook of `plan` (see the module's docstring)."""
    frame = run_sheet_frame(plan, settings)
    styles = _Styles(book)
    sessions = plan.brief["sessions"]
    for number, session in enumerate(sessions, start=1):
        part = frame.filter(pl.col("session") == number)
        name = _("Run sheet")
        if len(sessions) > 1:
            name = _("{name} session {number}").format(name=name, number=number)
        _host_sheet(book, styles, name, session, part)
    _summary_sheet(book, styles, plan, frame)
    merchants = frame.group_by("merchant_id", maintain_order=True).agg(
        pl.col("merchant_name").drop_nulls().first()
    )
    for merchant_id, merchant_name in merchants.sort("merchant_id").iter_rows():
        part = frame.filter(pl.col("merchant_id") == merchant_id)
        _merchant_sheet(book, styles, merchant_id, merchant_name, part)


class _Styles:
    def __init__(self, book: BookWriter) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.label = book.add_format({"bold": True, "align": "right"})
        self.value = book.add_format({"num_format": "@", "align": "left"})
        self.money = book.add_format({"num_format": "¥#,##0.00", "align": "left"})
        self.date = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.number = book.add_format({"align": "left"})
        self.heading = book.header
        self.total = book.add_format({"bold": True, "top": 1, "num_format": "@"})
        self.total_fen = book.add_format({"bold": True, "top": 1, "num_format": "¥#,##0.00"})
        self.total_number = book.add_format({"bold": True, "top": 1})
        self.cell = {
            "number": None,
            "text": book.formats["text"],
            "id": book.formats["id"],
            "fen": book.formats["fen"],
            "time": book.add_format({"num_format": "hh:mm"}),
            "wrap": book.add_format({"num_format": "@", "text_wrap": True, "valign": "top"}),
        }


def _write_rows(
    book: BookWriter,
    styles: _Styles,
    sheet: Worksheet,
    columns: Sequence[tuple[str, str, str]],
    frame: pl.DataFrame,
    first_row: int,
) -> int:
    """The headings at `first_row` and `frame`'s rows under them; returns the next row."""
    for index, (_column, heading, _kind) in enumerate(columns):
        sheet.write_string(first_row, index, heading, styles.heading)
    writers = [
        book.cell_writer(
            sheet,
            {"time": "datetime", "wrap": "text"}.get(kind, kind),
            styles.cell[kind],
        )
        for _column, _heading, kind in columns
    ]
    names = [column for column, _heading, _kind in columns]
    for row, values in enumerate(frame.select(names).iter_rows(), start=first_row + 1):
        for index, value in enumerate(values):
            if value is not None:
                writers[index](row, index, value)
    return first_row + frame.height + 1


def _width(frame: pl.DataFrame, column: str, heading: str, kind: str) -> float:
    """Wide enough for the heading and the widest value (汉字 count twice); selling points
    wrap at 40."""
    widths = [display_width(heading) + 3]
    if kind == "fen":
        # (fen: an integer column, whose max polars types as any scalar)
        widths.append(len(f"¥{fen_number(int(frame[column].max() or 0)):,.2f}") + 1)  # type: ignore[arg-type]
    elif kind == "time":
        widths.append(6)
    elif frame.height:
        widths += [display_width(str(v)) for v in frame[column].drop_nulls().to_list()]
    return min(max(widths) + 1, 40 if kind == "wrap" else 60)


def _header_block(
    sheet: Worksheet, styles: _Styles, title: str, pairs: list[tuple[str, Any, str]]
) -> int:
    """The title on row 0, then a row per label and value (the value across three columns,
    room for a long name or a large sum); returns the row for the headings below it."""
    sheet.write_string(0, 0, title, styles.title)
    for row, (label, value, kind) in enumerate(pairs, start=1):
        sheet.write_string(row, 0, label, styles.label)
        if kind == "fen":
            sheet.merge_range(row, 1, row, 3, "", styles.money)
            sheet.write_number(row, 1, fen_number(int(value)), styles.money)
        elif kind == "number":
            sheet.merge_range(row, 1, row, 3, "", styles.number)
            sheet.write_number(row, 1, int(value), styles.number)
        elif kind == "date":
            sheet.merge_range(row, 1, row, 3, "", styles.date)
            sheet.write_datetime(row, 1, dt.datetime.combine(value, dt.time()), styles.date)
        else:
            sheet.merge_range(row, 1, row, 3, "", styles.value)
            sheet.write_string(row, 1, str(value), styles.value)
    return len(pairs) + 2


# The printable width of an A4 landscape page within the margins below, in pixels at 96 dpi
# (29.7 cm less 2 × 0.4 in), and how wide Excel draws a column of width w (default font).
PAGE_WIDTH_PX = (29.7 / 2.54 - 0.8) * 96


def column_pixels(width: float) -> float:
    return width * 7 + 5


def fit_width_scale(widths: list[float]) -> int:
    """The print scale (10–100%) that fits these columns on the page's width. A scale, not
    Excel's "fit to 1 page wide": Excel ignores manual page breaks under "fit to", and the
    host's sheet breaks the page at every hour of the session."""
    total = sum(column_pixels(w) for w in widths) or 1
    return max(10, min(100, int(PAGE_WIDTH_PX * 100 // total)))


def _print_setup(sheet: Worksheet, widths: list[float], repeat: tuple[int, int] | None) -> None:
    """A4 landscape, one page wide, `repeat` rows (first, last) on every page, numbered."""
    sheet.set_paper(A4)
    sheet.set_landscape()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_print_scale(fit_width_scale(widths))
    if repeat is not None:
        sheet.repeat_rows(*repeat)
    sheet.set_footer("&C" + _(FOOTER))


def _set_widths(
    sheet: Worksheet,
    frame: pl.DataFrame,
    columns: Sequence[tuple[str, str, str]],
    least_first: float = 10,
) -> list[float]:
    """Each column as wide as `_width` says (the first one at least `least_first`, for the
    header block's labels); returns the widths."""
    widths = [_width(frame, name, heading, kind) for name, heading, kind in columns]
    widths[0] = max(widths[0], least_first)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    return widths


def _table_setup(
    sheet: Worksheet, frame: pl.DataFrame, columns: Sequence[tuple[str, str, str]], heading_row: int
) -> None:
    """Widths, printing, the headings frozen and filters on the table."""
    widths = _set_widths(sheet, frame, columns)
    _print_setup(sheet, widths, (heading_row, heading_row))
    sheet.freeze_panes(heading_row + 1, 0)
    sheet.autofilter(heading_row, 0, heading_row + max(frame.height, 1), len(columns) - 1)


def _host_sheet(
    book: BookWriter, styles: _Styles, name: str, session: dict, part: pl.DataFrame
) -> None:
    sheet = book.add_sheet(name)
    # (a text column: polars types its first value as any scalar)
    anchor_name: str | None = part["anchor_name"].drop_nulls().first() if part.height else None  # type: ignore[assignment]
    anchor = session["anchor"] + (f" {anchor_name}" if anchor_name else "")
    minutes = int(session["minutes"])
    heading_row = _header_block(
        sheet,
        styles,
        _("Run sheet: {anchor}, {date} {start}").format(
            anchor=anchor, date=session["date"], start=session["start"]
        ),
        [
            (_("Anchor"), anchor, "text"),
            (_("Date"), dt.date.fromisoformat(session["date"]), "date"),
            (_("Start time"), session["start"], "text"),
            (_("Length"), _("{minutes} minutes").format(minutes=minutes), "text"),
            (_("Expected GMV"), int(part["expected_gmv_fen"].sum()), "fen"),
        ],
    )
    points = part.height > 0 and part["selling_points"].drop_nulls().len() > 0
    columns = host_columns(points)
    _write_rows(book, styles, sheet, columns, part, heading_row)
    _table_setup(sheet, part, columns, heading_row)
    # A page per hour of session: a break above the first product starting in each new hour.
    breaks, hour = [], 1
    for row, start in enumerate(part["start_minute"], start=heading_row + 1):
        if start >= hour * 60 and row > heading_row + 1:
            breaks.append(row)
            hour = start // 60 + 1
    sheet.set_h_pagebreaks(breaks)


def _totals_row(
    sheet: Worksheet,
    styles: _Styles,
    row: int,
    columns: Sequence[tuple[str, str, str]],
    frame: pl.DataFrame,
) -> None:
    sheet.write_string(row, 0, _("Total"), styles.total)
    for index, (column, _heading, kind) in enumerate(columns[1:], start=1):
        total = int(frame[column].sum())
        if kind == "fen":
            sheet.write_number(row, index, fen_number(total), styles.total_fen)
        else:
            sheet.write_number(row, index, total, styles.total_number)


def _summary_sheet(
    book: BookWriter, styles: _Styles, plan: RunSheetPlan, frame: pl.DataFrame
) -> None:
    sheet = book.add_sheet(_("Summary"))
    row = _header_block(
        sheet,
        styles,
        _("Plan {plan_id}: summary").format(plan_id=plan.plan_id),
        [
            (_("Expected GMV"), int(frame["expected_gmv_fen"].sum()), "fen"),
            (_("Anchor commission"), int(frame["commission_fen"].sum()), "fen"),
            (_("Team income"), int(frame["team_income_fen"].sum()), "fen"),
        ],
    )
    sums = [
        pl.len().alias("products"),
        pl.col("expected_units").sum(),
        pl.col("expected_gmv_fen").sum(),
        pl.col("commission_fen").sum(),
        pl.col("team_income_fen").sum(),
    ]
    by_session = frame.group_by("session").agg(sums).sort("session")
    by_session = by_session.with_columns(
        pl.Series(
            "session_text",
            [_session_label(plan.brief["sessions"][n - 1], n) for n in by_session["session"]],
            dtype=pl.String,
        )
    )
    by_category = (
        frame.with_columns(pl.col("category_l1").fill_null(""))
        .group_by("category_l1")
        .agg(sums)
        .sort(["expected_gmv_fen", "category_l1"], descending=[True, False])
    )
    by_merchant = (
        frame.group_by("merchant_id")
        .agg(pl.col("merchant_name").drop_nulls().first(), *sums)
        .sort(["expected_gmv_fen", "merchant_id"], descending=[True, False])
        .with_columns(
            pl.concat_str(
                [pl.col("merchant_id"), pl.col("merchant_name").fill_null("")], separator=" "
            )
            .str.strip_chars()
            .alias("merchant")
        )
    )
    widths: dict[int, float] = {}
    for title, table, column, heading in (
        (_("By session"), by_session, "session_text", _("Session")),
        (_("By category"), by_category, "category_l1", _("Category")),
        (_("By merchant"), by_merchant, "merchant", _("Merchant")),
    ):
        sheet.write_string(row, 0, title, styles.title)
        columns = summary_columns(column, heading)
        row = _write_rows(book, styles, sheet, columns, table, row + 1)
        _totals_row(sheet, styles, row, columns, table)
        for index, (name, head, kind) in enumerate(columns):
            widths[index] = max(widths.get(index, 0), _width(table, name, head, kind))
        row += 2
    for index, width in widths.items():  # one width for the three tables' columns
        sheet.set_column(index, index, max(width, 12))
    _print_setup(sheet, [max(w, 12) for w in widths.values()], None)


def _session_label(session: dict, number: int) -> str:
    return _("{number}: {anchor} {date} {start}").format(
        number=number, anchor=session["anchor"], date=session["date"], start=session["start"]
    )


def _merchant_sheet(
    book: BookWriter,
    styles: _Styles,
    merchant_id: str,
    merchant_name: str | None,
    part: pl.DataFrame,
) -> None:
    shown = f"{merchant_id} {merchant_name}" if merchant_name else merchant_id
    sheet = book.add_sheet(shown)
    heading_row = _header_block(
        sheet,
        styles,
        _("Run sheet for {merchant}").format(merchant=shown),
        [
            (_("Merchant"), shown, "text"),
            (_("Products"), part.height, "number"),
            (_("Stock to prepare"), int(part["expected_units"].sum()), "number"),
            (_("Expected GMV"), int(part["expected_gmv_fen"].sum()), "fen"),
        ],
    )
    columns = merchant_columns()
    row = _write_rows(book, styles, sheet, columns, part, heading_row)
    sheet.write_string(row, 0, _("Total"), styles.total)
    units = [name for name, _heading, _kind in columns].index("expected_units")
    sheet.write_number(row, units, int(part["expected_units"].sum()), styles.total_number)
    _table_setup(sheet, part, columns, heading_row)
