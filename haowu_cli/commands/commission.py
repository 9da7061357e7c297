"""`haowu commission`: who gets what, from the ledger; `haowu export ledger|orders`."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

import typer

from haowu_cli.commands.common import (
    DATE_FORMAT,
    ExcelOption,
    FormatOption,
    OutOption,
    XlsxOption,
    app_context,
    write_export,
)
from haowu_cli.errors import ExitCode, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat


class By(StrEnum):
    party = "party"
    merchant = "merchant"
    anchor = "anchor"
    session = "session"
    day = "day"


def commission_command(
    ctx: typer.Context,
    session: Annotated[str | None, typer.Option("--session", help=N_("Only this 专场ID."))] = None,
    anchor: Annotated[str | None, typer.Option("--anchor", help=N_("Only this anchor."))] = None,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("Only this merchant."))
    ] = None,
    start: Annotated[
        dt.datetime | None,
        typer.Option(
            "--paid-from",
            "--from",
            help=N_("Orders paid (支付时间) on or after this date, whenever imported."),
            **DATE_FORMAT,
        ),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option(
            "--paid-to",
            "--to",
            help=N_("Orders paid (支付时间) on or before this date, whenever imported."),
            **DATE_FORMAT,
        ),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of",
            help=N_(
                "The ledger as it stood at the end of this day: only what was imported by "
                "then, settled by then [default: today]."
            ),
            **DATE_FORMAT,
        ),
    ] = None,
    by: Annotated[By, typer.Option("--by", help=N_("Totals per party, or per group."))] = By.party,
    fmt: FormatOption = OutputFormat.table,
) -> int:
    """Who gets what: the ledger's totals per party (estimated: every valid order; settled:
    orders past their settlement date), with a check that the parts add up to the base.

    --paid-from/--paid-to pick orders by the day they were paid (the business date);
    --as-of shows the ledger as it stood at the end of a day (what had been imported by
    then): see the README.
    """
    from haowu_cli import dates
    from haowu_cli.reports.commission import GROUP_HEADINGS, commission_report

    app = app_context(ctx)
    if start and end and start > end:
        raise UsageError(
            _("--paid-from {date} is after --paid-to {date2}").format(
                date=start.date(), date2=end.date()
            )
        )
    day = as_of.date() if as_of else dates.today()
    report = commission_report(
        app.store(),
        by=by.value,
        as_of=day,
        filters={
            "session": session,
            "anchor": anchor,
            "merchant": merchant,
            "start": start.date() if start else None,
            "end": end.date() if end else None,
        },
    )
    if fmt is OutputFormat.table:
        columns = [
            Column(c, GROUP_HEADINGS.get(c, c.replace("_", " ")), "left" if i == 0 else "right")
            for i, c in enumerate(report.table.columns)
        ]
        app.out.emit(report.table, fmt, columns, title=report.title)
    else:
        app.out.emit(report.frame, fmt)
    app.out.info(report.check)
    later = report.later_note(day)
    if later:
        app.out.info(later)
    return ExitCode.OK if report.balanced else ExitCode.FAILED


def export_ledger_command(
    ctx: typer.Context,
    out: OutOption = None,
    excel: ExcelOption = False,
    xlsx: XlsxOption = False,
) -> None:
    """Every ledger entry, in posting order: amounts in yuan, reversals negative."""
    from haowu_cli.reports.commission import LEDGER_KINDS, ledger_export

    app = app_context(ctx)
    frame = ledger_export(app.store())
    write_export(
        app,
        frame,
        out,
        excel=excel,
        xlsx=xlsx,
        kinds=LEDGER_KINDS,
        what=_("{height} ledger entries").format(height=frame.height),
        sheet="ledger",
    )


def export_orders_command(
    ctx: typer.Context,
    out: OutOption = None,
    excel: ExcelOption = False,
    xlsx: XlsxOption = False,
) -> None:
    """Every order as imported: money in yuan, rates as fractions."""
    from haowu_cli.reports.commission import order_kinds, orders_export

    app = app_context(ctx)
    frame = orders_export(app.store())
    write_export(
        app,
        frame,
        out,
        excel=excel,
        xlsx=xlsx,
        kinds=order_kinds(),
        what=_("{height} orders").format(height=frame.height),
        sheet="orders",
    )
