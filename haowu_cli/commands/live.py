"""`haowu live PLAN_ID --orders SOURCE --once`: a session against its plan at one moment."""

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.commands.common import AppContext, FormatOption, app_context
from haowu_cli.errors import ExitCode, HaowuError, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat, ScreenTable

if TYPE_CHECKING:
    from datetime import datetime

    from haowu_cli.ingest.pipeline import FileReport
    from haowu_cli.live import SessionSheet
    from haowu_cli.planner.rules import SessionRules

PRODUCT_COLUMNS = [
    Column("position", "#", "right"),
    Column("start", N_("start")),
    Column("product_id", N_("product")),
    Column("title", N_("title"), max_width=20),
    Column("units", N_("units"), "right"),
    Column("planned_units", N_("planned units"), "right"),
    Column("gmv", N_("GMV"), "right"),
    Column("planned_gmv", N_("planned GMV"), "right"),
    Column("stock", N_("stock"), "right"),
    Column("sell_through", N_("sold of stock"), "right"),
    Column("flag", N_("note")),
]
OFF_SHEET_COLUMNS = [
    Column("product_id", N_("product")),
    Column("title", N_("title"), max_width=20),
    Column("units", N_("units"), "right"),
    Column("gmv", N_("GMV"), "right"),
    Column("orders", N_("orders"), "right"),
]


def live_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    orders: Annotated[
        list[Path],
        typer.Option(
            "--orders",
            help=N_("An orders export, or a folder where export files land (repeatable)."),
        ),
    ],
    once: Annotated[
        bool, typer.Option("--once", help=N_("Import, print one snapshot and exit."))
    ] = False,
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="HH:MM", help=N_("The moment, Beijing time [default: now].")),
    ] = None,
    session: Annotated[
        int, typer.Option("--session", min=1, help=N_("Which session of the plan."))
    ] = 1,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", min=0.2, help=N_("Seconds between looks at the sources (live view).")
        ),
    ] = 1.0,
    fmt: FormatOption = OutputFormat.table,
) -> int:
    """Follow a live session against its plan (跟播, 场控): import the orders exports, then
    show the clock against the run sheet, each product's sales against its plan and stock,
    the pace, orders per minute, refunds and the team income so far (estimated).

    In a terminal the view refreshes in place, reading each export file again when it
    changes (Ctrl-C to stop); --once prints one snapshot (--format json for scripts).
    """
    from haowu_cli.live import export_files, moment, session_sheet

    app = app_context(ctx)
    if not once and not app.out.terminal:
        raise UsageError(
            _("the live view needs a terminal"),
            hint=_("give --once for one snapshot (with --format json for scripts)"),
        )
    if fmt is OutputFormat.csv:
        raise UsageError(_("haowu live prints a table or JSON (--format table|json)"))
    if not once and fmt is not OutputFormat.table:
        raise UsageError(_("--format {fmt} needs --once").format(fmt=fmt.value))
    if at is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise UsageError(_("--at takes a time as HH:MM, got {value!r}").format(value=at))
    from haowu_cli import store as db
    from haowu_cli.planner.rules import load_rules

    rules = load_rules(app.config_dir)
    with app.store().read() as con:
        record = db.plan_record(con, plan_id)
        if record is None:
            raise HaowuError(
                _("no plan {plan_id}").format(plan_id=plan_id),
                hint=_("haowu sessions lists the saved plans"),
            )
        items = db.plan_items(con, plan_id)
    sheet = session_sheet(plan_id, items, session)
    if sheet is None:
        raise UsageError(
            _("plan {plan_id} has no session {session}").format(plan_id=plan_id, session=session)
        )

    def when() -> "datetime":
        if at is not None:
            return moment(sheet, at)
        from haowu_cli.activities import beijing_now

        return beijing_now().replace(microsecond=0)

    if not once:
        return _follow(app, sheet, rules, orders, when, interval)
    files, missing = export_files(orders)
    if missing:
        raise UsageError(_("{path}: no such file or folder").format(path=missing[0]))
    reports = import_sources(app, files)
    figures = figures_at(app, sheet, rules, when())
    if fmt is OutputFormat.json:
        app.out.write_json(figures | {"imports": [_import_json(r) for r in reports]})
    else:
        lines, warnings, tables = snapshot_screen(figures)
        for line in lines:
            app.out.print_line(line)
        for warning in warnings:
            app.out.warn(warning)
        for frame, columns, title in tables:
            app.out.emit(frame, fmt, columns, title=title)
    if any(r.status == "failed" for r in reports):
        return ExitCode.FAILED
    if any(r.rejected for r in reports):
        return ExitCode.REJECTED_ROWS
    return ExitCode.OK


def figures_at(
    app: AppContext, sheet: "SessionSheet", rules: "SessionRules", when: "datetime"
) -> dict:
    """The snapshot of `sheet` at `when`, from what the database holds."""
    from datetime import timedelta

    from haowu_cli import store as db
    from haowu_cli.live import snapshot

    with app.store().read() as con:
        sold = db.live_orders(
            con,
            anchor_id=sheet.anchor_id,
            session_date=sheet.session_date,
            start=sheet.start,
            at=when,
            recent_from=when - timedelta(minutes=rules.live.pace_window_minutes),
        )
    return snapshot(
        sheet,
        sold,
        when,
        stock_warning=rules.live.stock_warning,
        window_minutes=rules.live.pace_window_minutes,
        cut_ppm=rules.service_fee_cut_ppm,
    )


def _follow(
    app: AppContext,
    sheet: "SessionSheet",
    rules: "SessionRules",
    sources: list[Path],
    when: Callable[[], "datetime"],
    interval: float,
) -> int:
    """The view that refreshes in place until Ctrl-C: each export file is imported when it
    has stopped changing (a file the back office is still saving waits, and one that fails
    is tried again when it changes); Ctrl-C leaves the database as after the last complete
    file (the file in progress is rolled back) and exits 130 (`cli.run`)."""
    import time

    from haowu_cli.live import SourceWatcher

    watcher = SourceWatcher(sources)
    news: list[str] = []
    with app.out.screen() as show:
        while True:
            ready, missing = watcher.poll()
            notes = [_("{path}: not there; watching for it").format(path=p) for p in missing]
            if ready:
                for report in import_sources(app, ready, quiet=True):
                    watcher.done(report.path)
                    news = (news + [_import_line(report)])[-3:]
            lines, warnings, tables = snapshot_screen(figures_at(app, sheet, rules, when()))
            show([*lines, *warnings, *news, *notes], tables)
            time.sleep(interval)


def _import_line(report: "FileReport") -> str:
    if report.status == "failed":
        assert report.error is not None  # a failed file has its error
        return _("{file}: not read ({error}); tried again when it changes").format(
            file=report.path.name, error=report.error.message
        )
    return _("{file}: {inserted} new, {updated} updated, {rejected} rejected").format(
        file=report.path.name,
        inserted=report.inserted,
        updated=report.updated,
        rejected=report.rejected,
    )


def import_sources(
    app: AppContext, files: list[Path], *, quiet: bool = False
) -> list["FileReport"]:
    """Every file through the normal import of orders (each one transaction, rejects
    written, idempotent), with its summary on stderr unless `quiet`."""
    from haowu_cli import dates
    from haowu_cli.commands.importing import print_report
    from haowu_cli.commission import load_rules as load_commission_rules
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_files
    from haowu_cli.ingest.platform import load_sources
    from haowu_cli.ingest.rules import load_import_rules

    if not files:
        return []
    sources = load_sources(app.config_dir)
    load_import_rules(app.config_dir)
    load_commission_rules(app.config_dir)
    kinds = {name: load_kind(name, app.config_dir) for name in ("products", "orders")}
    options = ImportOptions(
        config_dir=app.config_dir,
        today=dates.today(),
        sources=sources,
        kinds=kinds,
        kind_given=True,
    )
    reports = import_files(app.store(), files, kinds["orders"], options)
    if not quiet:
        for report in reports:
            print_report(app.out, report, traceback=app.traceback)
    return reports


def _import_json(report: "FileReport") -> dict:
    return {
        "file": str(report.path),
        "status": report.status,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }


def snapshot_screen(figures: dict) -> tuple[list[str], list[str], list[ScreenTable]]:
    """The snapshot for people: (lines, warnings, tables) — the clock, the session's
    figures, the products on the run sheet and those sold off it."""
    import polars as pl

    from haowu_cli.formats import money

    lines: list[str] = []
    warnings: list[str] = []
    tables: list[ScreenTable] = []
    clock = figures["clock"]
    lines.append(
        _(
            "plan {plan_id}, session {session}, anchor {anchor_id}: {at}, minute {minute} of "
            "{minutes}"
        ).format(
            plan_id=figures["plan_id"],
            session=figures["session"],
            anchor_id=figures["anchor_id"],
            at=figures["at"].replace("T", " "),
            minute=figures["minute"],
            minutes=figures["minutes"],
        )
    )
    if clock["now"] is not None:
        lines.append(
            _("on now: {product} {title}, {left} min left in the slot").format(
                product=clock["now"], title=clock["now_title"] or "", left=clock["minutes_left"]
            )
        )
    if clock["next"] is not None:
        lines.append(
            _("next: {product} {title} at {start}").format(
                product=clock["next"], title=clock["next_title"] or "", start=clock["next_start"]
            )
        )
    if clock["late_minutes"] is not None:
        late, selling = clock["late_minutes"], clock["selling"]
        if late > 0:
            text = _("{product} selling {minutes} min late").format(product=selling, minutes=late)
        elif late < 0:
            text = _("{product} selling {minutes} min early").format(product=selling, minutes=-late)
        else:
            text = _("{product} selling on time").format(product=selling)
        lines.append(text)
    pace = figures["pace"]
    lines.append(
        _("GMV {gmv} against {expected} expected by now ({pace}); plan {planned}").format(
            gmv=money(figures["gmv_fen"]),
            expected=money(figures["expected_gmv_by_now_fen"]),
            pace="—" if pace is None else f"{pace:.0%}",
            planned=money(figures["planned_gmv_fen"]),
        )
    )
    per_minute = figures["orders_per_minute"]
    recent = figures["recent_orders_per_minute"]
    lines.append(
        _(
            "{orders} orders, {per_minute} a minute ({recent} lately); {refunds} refunds "
            "({refund}); team income so far {income} (estimated; plan {planned})"
        ).format(
            orders=figures["orders"],
            per_minute="—" if per_minute is None else per_minute,
            recent="—" if recent is None else recent,
            refunds=figures["refunds"],
            refund=money(figures["refund_fen"]),
            income=money(figures["team_income_fen"]),
            planned=money(figures["planned_team_income_fen"]),
        )
    )
    if figures["untimed_orders"]:
        warnings.append(
            _(
                "{count} orders know only their day of payment (no 支付时间 time): counted as "
                "paid by now, left out of orders per minute"
            ).format(count=figures["untimed_orders"])
        )
    for product in figures["products"]:
        if product["stock_warning"]:
            warnings.append(
                _("{product}: {share} of the stock sold ({units} of {stock})").format(
                    product=product["product_id"],
                    share=f"{product['sell_through']:.0%}",
                    units=product["units"],
                    stock=product["stock"],
                )
            )
    rows = [
        {
            "position": p["position"],
            "start": p["start"],
            "product_id": p["product_id"],
            "title": p["title"],
            "units": p["units"],
            "planned_units": p["planned_units"],
            "gmv": money(p["gmv_fen"]),
            "planned_gmv": money(p["planned_gmv_fen"]),
            "stock": p["stock"],
            "sell_through": "" if p["sell_through"] is None else f"{p['sell_through']:.0%}",
            "flag": _("sold out")
            if p["sold_out"]
            else (_("stock low") if p["stock_warning"] else ""),
        }
        for p in figures["products"]
    ]
    tables.append((pl.DataFrame(rows), PRODUCT_COLUMNS, _("products on the run sheet")))
    if figures["off_sheet"]:
        off = [
            {
                "product_id": p["product_id"],
                "title": p["title"] or "",
                "units": p["units"],
                "gmv": money(p["gmv_fen"]),
                "orders": p["orders"],
            }
            for p in figures["off_sheet"]
        ]
        tables.append((pl.DataFrame(off), OFF_SHEET_COLUMNS, _("sold, not on the run sheet")))
    return lines, warnings, tables
