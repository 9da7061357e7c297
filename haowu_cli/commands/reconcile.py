"""`haowu reconcile`: 对账, the platform's settlement files against haowu's ledger."""

from pathlib import Path
from typing import Annotated

import typer

from haowu_cli.commands.common import FormatOption, HeadersOption, XlsxOption, app_context
from haowu_cli.commands.reports import HtmlOption, ReportOutOption, TableOption, show_report
from haowu_cli.errors import ExitCode, UsageError
from haowu_cli.i18n import N_, _, ngettext
from haowu_cli.render import OutputFormat

SHOWN_REJECTIONS = 5


def reconcile_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help=N_("The 结算明细 export (CSV or XLSX) or settled order JSON."),
            show_default=False,
        ),
    ],
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help=N_("Read the files as this source [default: recognised by header]."),
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help=N_("CSV encoding (utf-8, gb18030 …) [default: detected].")),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
    table: TableOption = None,
    html: HtmlOption = None,
    out: ReportOutOption = None,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> int:
    """对账: compare each settled line and each party (merchant, anchor, team leader,
    technical fee, others the file names) with haowu's ledger: matched, differs, only on
    the platform, only in haowu. Exit 0 when all match, 4 when there are differences."""
    from haowu_cli.ingest.platform import load_sources
    from haowu_cli.reconcile import reconcile
    from haowu_cli.reports.reconcile import reconcile_report

    app = app_context(ctx)
    sources = load_sources(app.config_dir)
    if source is not None and source not in sources.sources:
        raise UsageError(
            _("unknown source {name!r}; known: {known}").format(
                name=source, known=", ".join(sources.sources)
            )
        )
    result = reconcile(
        app.store(),
        files,
        sources,
        source=source,
        encoding=encoding,
        # the table for people shows only the rows that differ; the rest stay in DuckDB
        detail=fmt is not OutputFormat.table or out is not None or xlsx,
    )
    for path, label in result.files:
        app.out.info(_("{file}: read as: {source}").format(file=path, source=label))
    if result.dated:
        app.out.info(
            ngettext(
                "{count} order takes its settlement date from the platform (实际结算时间)",
                "{count} orders take their settlement date from the platform (实际结算时间)",
                result.dated,
            ).format(count=result.dated)
        )
    if result.rejections.height:
        app.out.warn(
            _("{count} cells could not be read; their lines were left out:").format(
                count=result.rejections.height
            )
        )
        for row in result.rejections.head(SHOWN_REJECTIONS).iter_rows(named=True):
            app.out.note(
                _("  {file}: row {row}, {column} {value!r}: {reason}").format(
                    file=row["file"],
                    row=row["row"],
                    column=row["column"],
                    value=row["value"],
                    reason=row["reason"],
                )
            )
    show_report(
        app, lambda: reconcile_report(result), fmt, table, html, headers, out=out, xlsx=xlsx
    )
    if result.differences:
        return ExitCode.DIFFERENCES
    if result.rejections.height:
        return ExitCode.REJECTED_ROWS
    return ExitCode.OK
