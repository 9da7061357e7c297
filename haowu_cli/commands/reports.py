"""`haowu report session|merchants|grades`: reports to review and share, in the terminal, as
CSV or JSON, and as one self-contained HTML page (`--html FILE`)."""

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.commands.common import (
    DATE_FORMAT,
    AppContext,
    FormatOption,
    HeadersOption,
    XlsxOption,
    app_context,
)
from haowu_cli.errors import UsageError
from haowu_cli.i18n import N_, Language, _, current, language
from haowu_cli.render import Column, Output, OutputFormat

if TYPE_CHECKING:
    from haowu_cli.reports.document import Report

report_app = typer.Typer(
    help=N_("Reports to review and share: a session against its plan, merchant growth, grades."),
    no_args_is_help=True,
)

HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help=N_("Also write the report as one self-contained page (charts, tables) to this file."),
    ),
]
ReportOutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help=N_(
            "Also write the report to this file: FILE.xlsx (or --xlsx) for a workbook of "
            "its figures and every table, any other name for the CSV of --table."
        ),
    ),
]
TableOption = Annotated[
    str | None,
    typer.Option("--table", help=N_("With --format csv: which of the report's tables to print.")),
]


@report_app.command("session")
def session_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    session: Annotated[
        int | None, typer.Option("--session", help=N_("Which session of a multi-session plan."))
    ] = None,
    orders_session: Annotated[
        str | None,
        typer.Option(
            "--orders-session",
            help=N_(
                "The session's 专场ID in the orders [default: the anchor's orders paid on "
                "the session's date]."
            ),
        ),
    ] = None,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", help=N_("The ledger as of this day [default: today]."), **DATE_FORMAT
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    table: TableOption = None,
    html: HtmlOption = None,
    out: ReportOutOption = None,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> None:
    """数据复盘: a planned session against its orders, per product, category and merchant;
    what beat or missed the plan; regulars worth keeping (常播款); each party's income."""
    from haowu_cli import dates
    from haowu_cli.reports.session import session_report
    from haowu_cli.reports.settings import load_report_rules

    app = app_context(ctx)
    day = as_of.date() if as_of else dates.today()

    def build() -> "Report":
        return session_report(
            app.store(),
            load_report_rules(app.config_dir),
            plan_id,
            session=session,
            orders_session=orders_session,
            as_of=day,
        )

    show_report(app, build, fmt, table, html, headers, out=out, xlsx=xlsx)


@report_app.command("merchants")
def merchants_command(
    ctx: typer.Context,
    month: Annotated[
        dt.datetime | None,
        typer.Option(
            "--month",
            formats=["%Y-%m"],
            metavar="YYYY-MM",
            help=N_("The month [default: the latest month with orders, not after today's]."),
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    table: TableOption = None,
    html: HtmlOption = None,
    out: ReportOutOption = None,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> None:
    """跃迁: each merchant's GMV this month against the last, the milestones crossed, and the
    merchants closest to their next one, with the gap."""
    from haowu_cli.reports.merchants import merchants_report
    from haowu_cli.reports.settings import load_report_rules

    app = app_context(ctx)

    def build() -> "Report":
        return merchants_report(
            app.store(),
            load_report_rules(app.config_dir),
            month.date() if month else None,
            config_dir=app.config_dir,
        )

    show_report(app, build, fmt, table, html, headers, out=out, xlsx=xlsx)


@report_app.command("grades")
def grades_command(
    ctx: typer.Context,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            "--as-of", help=N_("The grading date [default: the latest graded]."), **DATE_FORMAT
        ),
    ] = None,
    category_level: Annotated[
        int,
        typer.Option(
            "--category-level",
            min=1,
            max=3,
            help=N_("Levels by category at 一级 (1), 二级 (2) or 三级 (3) 类目."),
        ),
    ] = 1,
    fmt: FormatOption = OutputFormat.table,
    table: TableOption = None,
    html: HtmlOption = None,
    out: ReportOutOption = None,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> None:
    """Level distribution with each level's 权益, overall and by category, and the moves
    since each product's previous grade."""
    from haowu_cli.grading import load_model
    from haowu_cli.reports.grades import grades_report

    app = app_context(ctx)

    def build() -> "Report":
        return grades_report(
            app.store(),
            as_of.date() if as_of else None,
            benefits=load_model(app.config_dir).benefits,
            category_level=category_level,
        )

    show_report(app, build, fmt, table, html, headers, out=out, xlsx=xlsx)


@report_app.command("activity")
def activity_command(
    ctx: typer.Context,
    activity_id: Annotated[str, typer.Argument(help=N_("The activity's ID."), show_default=False)],
    fmt: FormatOption = OutputFormat.table,
    table: TableOption = None,
    html: HtmlOption = None,
    out: ReportOutOption = None,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> None:
    """招商活动: applications by status and by rejecting rule, the pass rate by category and
    merchant, GMV by window against the plan, top products."""
    from haowu_cli.reports.activity import activity_report

    app = app_context(ctx)

    def build() -> "Report":
        return activity_report(app.store(), activity_id)

    show_report(app, build, fmt, table, html, headers, out=out, xlsx=xlsx)


def show_report(
    app: AppContext,
    build: Callable[[], "Report"],
    fmt: OutputFormat,
    table: str | None,
    html: Path | None,
    headers: Language | None,
    *,
    out: Path | None = None,
    xlsx: bool = False,
) -> None:
    """Print the report `build` makes as `fmt` says, and write its page and its file when
    asked: in the language `--headers` names (default: the language in use), built again in
    that language when it is another."""
    report = build()
    keys = [t.key for t in report.tables]
    if table is not None and table not in keys:
        raise UsageError(
            _("the {kind} report has no table {table!r}; it has {join}").format(
                kind=report.kind, table=table, join=", ".join(keys)
            )
        )
    if table is not None and fmt is not OutputFormat.csv and out is None:
        raise UsageError(_("--table picks the table --format csv prints; add --format csv"))
    if out is not None and str(out) == "-":
        raise UsageError(
            _("--out names the file the report is also written to"),
            hint=_("--format csv prints a table on stdout"),
        )
    for_people = report
    wanted = headers is not None and headers.value != current()
    if wanted and (html is not None or out is not None or xlsx):
        assert headers is not None  # `wanted` says so
        with language(headers.value):
            for_people = build()
    if html is not None:
        with language(headers.value if headers else current()):
            write_page(app, for_people, html)
        app.out.info(_("wrote the page to {path}").format(path=html))
    if out is not None or xlsx:
        with language(headers.value if headers else current()):
            write_file(app, for_people, out, xlsx=xlsx, table=table or keys[0])
    if fmt is OutputFormat.csv:
        app.out.emit(report.table(table or keys[0]).frame, fmt)
    elif fmt is OutputFormat.json:
        app.out.write_json(report.as_json())
    else:
        print_report(app.out, report)


def print_report(out: Output, report: "Report") -> None:
    """The report for people: title, headline figures, each table, notes."""
    out.print_line(report.title)
    out.print_line(report.subtitle)
    if report.alert:
        out.print_line(report.alert)
    print_figures(out, report)
    for table in report.tables:
        if table.view.is_empty():
            out.print_line(f"{table.title}: {table.empty}")
        else:
            out.emit(table.view, OutputFormat.table, table.columns, title=table.title)
    for note in report.notes:
        out.print_line(note)


def print_figures(out: Output, report: "Report") -> None:
    """The headline figures as a two-column table."""
    import polars as pl

    figures = pl.DataFrame(
        {"label": [f.label for f in report.figures], "text": [f.text for f in report.figures]}
    )
    out.emit(
        figures, OutputFormat.table, [Column("label", N_("headline")), Column("text", "", "right")]
    )


def write_file(
    app: AppContext, report: "Report", out: Path | None, *, xlsx: bool, table: str
) -> None:
    """The report as a workbook (`reports.workbook`) or one of its tables as CSV."""
    from haowu_cli import exporting
    from haowu_cli.commands.common import workbook_target

    book = workbook_target(out, xlsx=xlsx)
    if book is not None:
        from haowu_cli.reports.workbook import write_report

        exporting.write_workbook(
            book, lambda writer: write_report(writer, report), protect=app.protected()
        )
        app.out.info(
            _("wrote the {kind} report workbook to {target}").format(kind=report.kind, target=book)
        )
        return
    assert out is not None  # workbook_target refuses --xlsx without --out
    exporting.write_csv(report.table(table).frame, out, protect=app.protected())
    app.out.info(
        _("wrote the {kind} report's {table} table to {target}").format(
            kind=report.kind, table=table, target=out
        )
    )


def write_page(app: AppContext, report: "Report", path: Path) -> None:
    from haowu_cli.reports.page import write_page as write

    write(report, path, protect=app.protected())
