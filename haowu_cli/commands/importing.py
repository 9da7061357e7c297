"""`haowu import`: sheets into the database, with a summary per file."""

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.commands.common import HeadersOption, app_context
from haowu_cli.errors import ExitCode, UsageError
from haowu_cli.i18n import N_, _, ngettext
from haowu_cli.render import Output

if TYPE_CHECKING:
    from haowu_cli.ingest.pipeline import FileReport, ImportRun

SHOWN_REJECTIONS = 5


class ImportFormat(StrEnum):
    text = "text"
    json = "json"


def import_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path] | None,
        typer.Argument(help=N_("CSV or XLSX sheets, or the platform's JSON."), show_default=False),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help=N_("What the sheets hold [default: products, or what a platform file holds]."),
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help=N_(
                "Read the files as this platform source (haowu import --sources lists "
                "them) [default: recognised by header or JSON shape]."
            ),
        ),
    ] = None,
    list_sources: Annotated[
        bool,
        typer.Option("--sources", help=N_("List the platform files haowu recognises, and exit.")),
    ] = False,
    merchant: Annotated[
        str | None,
        typer.Option(
            "--merchant",
            help=N_(
                "Import for this merchant only: rows of other merchants are rejected, "
                "and a sheet without a merchant column is taken as this merchant's."
            ),
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help=N_("CSV encoding (utf-8, gb18030 …) [default: detected].")),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help=N_("Excel sheet name [default: the first sheet]."))
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help=N_("Import nothing from a file with any rejected row."))
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Check and report; write nothing to the database."))
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help=N_(
                "Where to write rejected rows (CSV for Excel) [default: FILE.rejects.csv "
                "next to each input; with several inputs, a folder]."
            ),
        ),
    ] = None,
    headers: HeadersOption = None,
    fmt: Annotated[
        ImportFormat, typer.Option("--format", "-f", help=N_("text for people; json for machines."))
    ] = ImportFormat.text,
    activity: Annotated[
        str | None,
        typer.Option(
            "--activity",
            help=N_(
                "applications: the activity (招商活动) they apply to, where the sheet has no "
                "活动ID column.",
            ),
        ),
    ] = None,
) -> int:
    """Import merchant sheets (CSV in UTF-8, UTF-8 with BOM or GBK; XLSX) into the database.

    Each file is one transaction: it is either fully in or fully out. Bad rows are rejected
    with file, row, column, value and reason, and the rest of the file is imported.
    """
    from haowu_cli import dates
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, ImportRun, import_files
    from haowu_cli.ingest.platform import load_sources
    from haowu_cli.ingest.rules import load_import_rules

    app = app_context(ctx)
    sources = load_sources(app.config_dir)  # a broken sources.yaml stops it before any file
    if list_sources:
        for name, listed in sources.sources.items():
            app.out.print_line(f"{name}\t{listed.kind}\t{listed.label}")
        return ExitCode.OK
    if not files:
        raise UsageError(_("give the files to import (or --sources to list platform files)"))
    if source is not None and source not in sources.sources:
        raise UsageError(
            _("unknown source {name!r}; known: {known}").format(
                name=source, known=", ".join(sources.sources)
            )
        )
    if source is not None and sources.sources[source].kind == "settlements":
        raise UsageError(
            _("{name} is a settlement file: run haowu reconcile on it").format(name=source)
        )
    kind_given = kind is not None
    kind = kind or (sources.sources[source].kind if source is not None else "products")
    if rejects is not None and len(files) > 1 and not rejects.is_dir():
        raise UsageError(
            _("--rejects must name an existing folder when importing several files"),
            hint=_("mkdir {rejects}, or import the files one at a time").format(rejects=rejects),
        )
    spec = load_kind(kind, app.config_dir)
    kinds = {name: load_kind(name, app.config_dir) for name in ("products", "orders")}
    load_import_rules(app.config_dir)  # a broken imports.yaml, too, stops it before any file
    if spec.name == "orders" or not kind_given:  # a broken commission.yaml stops the
        # command before any file (a platform file of orders may come without --kind)
        from haowu_cli.commission import load_rules

        load_rules(app.config_dir)
    if spec.name == "applications":  # each row is checked against its activity
        from dataclasses import replace

        from haowu_cli.activities import application_hooks, beijing_now, require_activity

        if activity is not None:  # a typo in --activity must not reject every row
            require_activity(app.store(), activity)
        spec = replace(spec, hooks=application_hooks(activity, beijing_now()))
    elif activity is not None:
        raise UsageError(_("--activity applies to applications, not {kind}").format(kind=kind))
    if merchant is not None and spec.owner is None:
        raise UsageError(_("--merchant applies to products, not {kind}").format(kind=kind))
    options = ImportOptions(
        merchant=merchant,
        encoding=encoding,
        sheet=sheet,
        strict=strict,
        dry_run=dry_run,
        rejects_path=rejects,
        rejects_headers=headers.value if headers else None,
        config_dir=app.config_dir,
        today=dates.today(),
        sources=sources,
        source=source,
        kinds=kinds,
        kind_given=kind_given,
    )
    run = ImportRun()
    try:
        with app.out.progress(len(files), _("importing")) as on_stage:
            reports = import_files(
                app.store(), files, spec, options, lambda p, s: on_stage(str(p), s), run
            )
    except KeyboardInterrupt as stop:
        # One Ctrl-C can arrive twice (Polars raises it, then Python's own handler): say
        # what happened undisturbed.
        with _interrupts_held_off():
            for report in run.reports:
                print_report(app.out, report, traceback=app.traceback)
            if run.path is not None:
                app.out.warn(interrupted_message(run))
        raise typer.Exit(ExitCode.INTERRUPTED) from stop  # and `cli.run` says: interrupted
    if fmt is ImportFormat.json:
        app.out.write_json([_report_json(r) for r in reports])
    else:
        for report in reports:
            print_report(app.out, report, traceback=app.traceback)
    if any(r.status == "failed" for r in reports):
        if len(reports) > 1:
            failed = sum(r.status == "failed" for r in reports)
            app.out.warn(
                _(
                    "{failed} of {count} files failed and nothing from them was written; "
                    "the others were imported"
                ).format(failed=failed, count=len(reports))
            )
        return ExitCode.FAILED
    if any(r.rejected for r in reports):
        return ExitCode.REJECTED_ROWS
    return ExitCode.OK


@contextmanager
def _interrupts_held_off() -> Iterator[None]:
    """SIGINT ignored for a while (a pending second one is dropped), then as it was: the
    process may be a test runner's, whose children inherit an ignored SIGINT."""
    import signal

    while True:
        try:
            before = signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:
            continue
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def interrupted_message(stop: "ImportRun") -> str:
    """What Ctrl-C left behind: the file rolled back, the files in, the ones not started."""
    if stop.committed:
        message = _("Ctrl-C after {path} was imported").format(path=stop.path)
    else:
        message = _("Ctrl-C while {stage} {path}: it was rolled back, none of it is in").format(
            stage=_(stop.stage), path=stop.path
        )
    before = [r for r in stop.reports if r.status == "imported"]
    if before:
        message += _("; {count} files before it are imported").format(count=len(before))
    if stop.left:
        message += _("; {left} files after it were not started").format(left=stop.left)
    return message


def _skipped_text(report: "FileReport") -> str:
    """`2 skipped (blank or repeated header)`, with a totals row counted and named apart."""
    own = len(getattr(report, "self_operated", []) or [])
    if own:
        rest = report.skipped - own
        return _("{skipped} skipped ({own} 自营, {rest} blank or repeated header)").format(
            skipped=f"{report.skipped:,}", own=f"{own:,}", rest=f"{rest:,}"
        )
    if not report.totals:
        return _("{skipped:,} skipped (blank or repeated header)").format(skipped=report.skipped)
    named = _(", ").join(
        _("row {row}: {label}").format(row=row, label=label) for row, label in report.totals
    )
    rows = "row" if len(report.totals) == 1 else "rows"
    others = report.skipped - len(report.totals)
    blank = _("{others:,} blank or repeated header, ").format(others=others) if others else ""
    return f"{report.skipped:,} skipped ({blank}{len(report.totals)} totals {rows}: {named})"


def print_report(out: Output, report: "FileReport", *, traceback: bool = False) -> None:
    name = str(report.path)
    if report.status == "failed":
        assert report.error is not None  # a failed file has its error
        if traceback and report.error.__cause__ is not None:
            out.traceback(report.error.__cause__)
        out.error(report.error.message, report.error.hint)
        return
    if report.source:
        out.info(_("{file}: read as: {source}").format(file=name, source=report.source))
    dry = _("dry run, nothing written: ") if report.status == "dry-run" else ""
    out.info(
        _(
            "{name} ({encoding}): {dry}{rows_read:,} rows: {inserted:,} new, "
            "{updated:,} updated, {unchanged:,} unchanged, {rejected:,} rejected, "
            "{skipped_text}, {seconds:.2f} s"
        ).format(
            name=name,
            encoding=report.encoding,
            dry=dry,
            rows_read=report.rows_read,
            inserted=report.inserted,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=report.rejected,
            skipped_text=_skipped_text(report),
            seconds=report.seconds,
        )
    )
    if report.status == "imported" and not report.changed and report.unchanged:
        out.info(
            _("{name}: no changes: everything in it is already in the database").format(name=name)
        )
    if report.unknown_columns:
        out.info(
            _("{name}: columns kept aside with each row (not haowu fields): ").format(name=name)
            + ", ".join(report.unknown_columns)
        )
    if report.personal_columns:
        out.info(
            _("{file}: personal data not read: {columns}").format(
                file=name, columns=", ".join(report.personal_columns)
            )
        )
    if report.self_operated:
        rows = report.self_operated
        shown = ", ".join(str(r) for r in rows[:SHOWN_REJECTIONS]) + (
            " …" if len(rows) > SHOWN_REJECTIONS else ""
        )
        out.info(
            ngettext(
                "{file}: {count} 自营 row (the shop's own sale, no distribution) left out of "
                "the split: row {rows}",
                "{file}: {count} 自营 rows (the shop's own sales, no distribution) left out of "
                "the split: rows {rows}",
                len(rows),
            ).format(file=name, count=len(rows), rows=shown)
        )
    if report.not_read:
        out.info(
            _("{file}: columns haowu does not use, not read: {columns}").format(
                file=name, columns=", ".join(report.not_read)
            )
        )
    for note in report.info:
        out.info(_("{name}: {note}").format(name=name, note=note))
    for note in report.notes:
        out.warn(_("{name}: {note}").format(name=name, note=note))
    if report.ledger and report.ledger[0]:
        posted, reversed_ = report.ledger
        verb = _("would post") if report.status == "dry-run" else _("posted")
        out.info(
            _("{name}: ledger: {verb} the split of {posted:,} orders").format(
                name=name, verb=verb, posted=posted
            )
            + (
                _(", {reversed_:,} of them reversing earlier entries").format(reversed_=reversed_)
                if reversed_
                else ""
            )
        )
    if report.rejected:
        assert report.rejections is not None  # rows rejected: their reasons
        where = (
            _("; all of them in {rejects_file}").format(rejects_file=report.rejects_file)
            if report.rejects_file
            else ""
        )
        out.warn(
            _("{name}: {rejected} rows rejected{where}").format(
                name=name, rejected=report.rejected, where=where
            )
        )
        for row in report.rejections.head(SHOWN_REJECTIONS).iter_rows(named=True):
            out.note(
                _("  row {row}, {column} {value!r}: {reason}").format(
                    row=row["row"], column=row["column"], value=row["value"], reason=row["reason"]
                )
            )
        more = report.rejections.height - SHOWN_REJECTIONS
        if more > 0:
            out.note(_("  … and {more} more problems").format(more=more))


def _report_json(report: "FileReport") -> dict:
    return {
        "file": str(report.path),
        "status": report.status,
        "encoding": report.encoding,
        **report.counts(),
        "unknown_columns": report.unknown_columns,
        "rejects_file": str(report.rejects_file) if report.rejects_file else None,
        "import_id": report.import_id,
        "seconds": round(report.seconds, 3),
        "error": report.error.message if report.error else None,
        "ledger_posted": report.ledger[0] if report.ledger else None,
        "ledger_reversed": report.ledger[1] if report.ledger else None,
        "source": report.source,
        "personal_columns_dropped": report.personal_columns,
        "self_operated_rows": report.self_operated,
    }
