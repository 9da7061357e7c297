"""`haowu live PLAN_ID --orders SOURCE [--once]`: a session against its plan (跟播), and
`haowu live replan PLAN_ID --at HH:MM`: the rest of the night planned again (场控).

`live` is a group whose default command is `follow`: `haowu live 1 --orders x.csv` reads as
`haowu live follow 1 --orders x.csv`, so the first form keeps working beside `replan`."""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from haowu_cli.commands.common import FormatOption, OutOption, app_context
from haowu_cli.errors import ExitCode, HaowuError, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat, ScreenTable
from haowu_cli.roles import role_label

if TYPE_CHECKING:
    from datetime import datetime

    from haowu_cli.ingest.pipeline import FileReport


class LiveGroup(TyperGroup):
    """A group whose first argument, when it names no command (a plan ID, say), goes to
    `follow`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["follow", *args]
        return super().parse_args(ctx, args)


live_app = typer.Typer(
    cls=LiveGroup,
    help=N_(
        "Follow a live session against its plan (haowu live PLAN_ID --orders SOURCE), or "
        "re-plan the rest of it (haowu live replan PLAN_ID --at HH:MM)."
    ),
    no_args_is_help=True,
)

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


@live_app.command("follow")
def live_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    orders: Annotated[
        list[Path],
        typer.Option(
            "--orders",
            help=N_(
                "An orders export, a folder where export files land, or - for JSON lines on "
                "stdin (repeatable)."
            ),
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
    `--orders -` reads orders as JSON lines on stdin: the open platform's order responses
    (or single orders) as an API poller prints them, or haowu's orders columns as keys.
    """
    from haowu_cli.live import export_files, moment, session_sheet

    app = app_context(ctx)
    if not once and not app.out.terminal:
        raise UsageError(
            _("the live view needs a terminal"),
            hint=_("give --once for one snapshot (with --format json for scripts)"),
        )
    if not once:
        _check_foreground(app)
    if fmt is OutputFormat.csv:
        raise UsageError(_("haowu live prints a table or JSON (--format table|json)"))
    if not once and fmt is not OutputFormat.table:
        raise UsageError(_("--format {fmt} needs --once").format(fmt=fmt.value))
    _check_at(at)
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

    stdin = any(str(source) == "-" for source in orders)
    orders = [source for source in orders if str(source) != "-"]

    def figures(moment_: Any) -> dict:  # by the version of the plan in force then
        return figures_at(app.store(), sheet, rules, moment_, follow_versions=True)

    if not once:

        def replan_now(moment_: "datetime") -> tuple[list[str], list[ScreenTable]]:
            return replan_from_view(app, plan_id, session, moment_)

        return _follow(app, figures, orders, when, interval, stdin=stdin, replan=replan_now)
    files, missing = export_files(orders)
    if missing:
        raise UsageError(_("{path}: no such file or folder").format(path=missing[0]))
    reports = import_sources(app, files)
    if stdin:
        reports += _import_stdin(app)
    shown = figures(when())
    if fmt is OutputFormat.json:
        app.out.write_json(shown | {"imports": [_import_json(r) for r in reports]})
    else:
        lines, warnings, tables = snapshot_screen(shown)
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


def _check_foreground(app: Any) -> None:
    """The live view refuses to start in the background (`haowu live … &`): it would stop
    on its first look at the terminal (job control's SIGTTOU) and wait there unseen. The
    refusal is written even so (SIGTTOU ignored from here: the process is ending)."""
    import signal
    import sys

    from haowu_cli.keys import in_background

    if in_background(app.out.stdout) or in_background(sys.stdin):
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        raise UsageError(
            _("the live view needs the terminal in the foreground, not in the background"),
            hint=_("run it in the foreground (fg), or give --once for one snapshot"),
        )


def figures_at(
    store: Any, sheet: Any, rules: Any, when: Any, *, follow_versions: bool = False
) -> dict:
    """The snapshot of `sheet` at `when`, from what the database `store` holds; with
    `follow_versions`, of the version of `sheet`'s plan in force at `when` (one read)."""
    from datetime import timedelta

    from haowu_cli import store as db
    from haowu_cli.live import sheet_in_force_on, snapshot

    with store.read() as con:
        if follow_versions:
            sheet = sheet_in_force_on(con, sheet.plan_id, sheet.session, when, sheet) or sheet
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


def _check_at(at: str | None) -> None:
    if at is not None and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", at):
        raise UsageError(_("--at takes a time as HH:MM, got {value!r}").format(value=at))


def _import_stdin(app: Any, lines: list[str] | None = None, *, quiet: bool = False) -> list[Any]:
    """The JSON lines on stdin (or `lines`) through the normal import of orders, as files
    (`live.orders_files_from_json_lines`: the open-platform shapes as that platform file,
    haowu's own orders columns as a CSV) in a private temporary folder."""
    import sys
    import tempfile

    from haowu_cli.ingest.platform import load_sources
    from haowu_cli.live import orders_files_from_json_lines

    if lines is None:
        lines = sys.stdin.read().splitlines()
    sources = load_sources(app.config_dir)
    detects = [
        s.detect for s in sources.sources.values() if s.format == "json" and s.kind == "orders"
    ]
    with tempfile.TemporaryDirectory(prefix="haowu-live-") as folder:
        paths = orders_files_from_json_lines(lines, Path(folder), detects)
        return import_sources(app, paths, quiet=quiet)


def _follow(
    app: Any,
    figures: Any,
    sources: list[Path],
    when: Any,
    interval: float,
    *,
    stdin: bool = False,
    replan: Any = None,
) -> int:
    """The view that refreshes in place until Ctrl-C: each export file is imported when it
    has stopped changing (a file the back office is still saving waits, and one that fails
    is tried again when it changes); Ctrl-C leaves the database as after the last complete
    file (the file in progress is rolled back) and exits 130 (`cli.run`).

    With `replan(moment) -> (lines, tables)` and stdin a terminal that does not carry the
    orders, the key `r` re-plans the rest of the night from the moment shown; what changed
    stays on the view, which follows the new version (`figures` takes the version in
    force). The terminal is read in cbreak mode and restored on the way out (`keys`)."""
    import sys
    import tempfile
    import time
    from contextlib import ExitStack

    from haowu_cli.keys import in_background, job_control_ignored, key_reader, keys_available
    from haowu_cli.live import SourceWatcher

    watcher = SourceWatcher(sources)
    news: list[str] = []
    arriving = _stdin_lines() if stdin else None
    replanned: tuple[list[str], list[ScreenTable]] = ([], [])
    with ExitStack() as stack:
        # Sent to the background (Ctrl-Z, bg), the view goes on importing without drawing
        # or reading keys, and draws again once back in the foreground (fg).
        stack.enter_context(job_control_ignored())
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="haowu-live-"))
        wait = None
        if replan is not None and not stdin and keys_available(sys.stdin):
            wait = stack.enter_context(key_reader(sys.stdin))
            hint = _("press r to re-plan the rest of the night from now; Ctrl-C to stop")
        elif replan is None:
            hint = ""
        elif stdin:
            hint = _(
                "the r key (re-plan) is unavailable: stdin carries the orders; use haowu live "
                "replan in another terminal"
            )
        else:
            hint = _(
                "the r key (re-plan) is unavailable: stdin is not a terminal; use haowu live "
                "replan in another terminal"
            )
        show = stack.enter_context(app.out.screen())
        while True:
            if arriving:
                batch = [arriving.pop(0) for _line in range(len(arriving))]
                for report in _import_stdin(app, batch, quiet=True):
                    news = (news + [_import_line(report)])[-3:]
            ready, missing = watcher.poll()
            notes = [_("{path}: not there; watching for it").format(path=p) for p in missing]
            for path in ready:
                report = _read_ready(app, watcher, path, Path(scratch))
                news = (news + [_import_line(report)])[-3:]
            if in_background(app.out.stdout):
                time.sleep(interval)
                continue
            now = when()
            lines, warnings, tables = snapshot_screen(figures(now))
            hints = [hint] if hint else []
            shown = [*lines, *warnings, *news, *notes, *replanned[0], *hints]
            show(shown, [*tables, *replanned[1]])
            if wait is None:
                time.sleep(interval)
                continue
            if "r" in wait(interval).lower():
                show(
                    [*shown, _("re-planning from {at} …").format(at=now.strftime("%H:%M"))],
                    [*tables, *replanned[1]],
                )
                replanned = replan(now)


def _read_ready(app: Any, watcher: Any, path: Path, scratch: Path) -> "FileReport":
    """A file ready to read (`live.SourceWatcher`) through the import of orders: only the
    rows added at its end when that is all that changed (`SourceWatcher.appended`; their
    rejected rows, line numbers as in the file, in FILE.from-row-N.rejects.csv beside it),
    else the whole file; the watcher told either way."""
    from haowu_cli.ingest.pipeline import default_rejects_path

    added = watcher.appended(path, scratch)
    if added is not None:
        part, first = added
        rejects = default_rejects_path(path.with_name(f"{path.stem}.from-row-{first}.csv"))
        [report] = import_sources(app, [part], quiet=True, rejects=rejects)
        part.unlink(missing_ok=True)
        if report.status != "failed":
            report.path = path
            watcher.done(path, read=True)
            return report
    [report] = import_sources(app, [path], quiet=True)
    watcher.done(path, read=report.status != "failed")
    return report


def replan_from_view(
    app: Any, plan_id: int, session: int, at: "datetime", *, time_limit: float | None = None
) -> tuple[list[str], list[ScreenTable]]:
    """The live view's `r`: the rest of session `session` of plan `plan_id` re-planned from
    the minute of `at` and saved as a new version, as `haowu live replan PLAN_ID --at HH:MM`
    does; returns what to show on the view (what changed, the expected gain, the version
    saved). A replan that cannot be made (no minutes left, the brief cannot be met) is shown,
    not raised: the view goes on."""
    from haowu_cli.planner.replan import DEFAULT_TIME_LIMIT, replan
    from haowu_cli.planner.rules import load_rules

    at = at.replace(second=0, microsecond=0)
    try:
        result = replan(
            app.store(),
            plan_id,
            load_rules(app.config_dir),
            at=at,
            session=session,
            time_limit=DEFAULT_TIME_LIMIT if time_limit is None else time_limit,
            save=True,
        )
    except HaowuError as error:
        return [
            _("re-plan at {at} not made: {error}").format(
                at=at.strftime("%H:%M"), error=error.message
            )
        ], []
    lines, tables = replan_screen(result)
    if result.status == "feasible":
        lines.append(
            _(
                "the time limit ran out before the new plan was proven optimal: it is "
                "within {gap:.2%} of the best possible"
            ).format(gap=result.gap)
        )
    if result.plan_id:
        lines.append(
            _(
                "saved as plan {plan_id}, version {version} of plan {root}; the view follows it"
            ).format(plan_id=result.plan_id, version=result.version, root=result.root_plan_id)
        )
    return lines, tables


def _stdin_lines() -> list[str]:
    """Lines arriving on stdin, appended by a reader thread as they come (the live view
    takes them at each look)."""
    import sys
    import threading

    lines: list[str] = []

    def read() -> None:
        for line in sys.stdin:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


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
    app: Any,
    files: list[Path],
    *,
    quiet: bool = False,
    store: Any = None,
    today: Any = None,
    rejects: Path | None = None,
) -> list[Any]:
    """Every file through the normal import of orders (each one transaction, rejects
    written — beside each file, or to `rejects` — idempotent), with its summary on stderr
    unless `quiet`."""
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
        today=today or dates.today(),
        sources=sources,
        kinds=kinds,
        kind_given=True,
        rejects_path=rejects,
    )
    reports = import_files(store or app.store(), files, kinds["orders"], options)
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


CHANGE_COLUMNS = [
    Column("change", N_("change")),
    Column("product_id", N_("product")),
    Column("title", N_("title"), max_width=20),
    Column("role", N_("role"), words=role_label),
    Column("start", N_("start")),
    Column("expected_gmv", N_("expected GMV"), "right"),
]


@live_app.command("replan")
def replan_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    at: Annotated[
        str | None,
        typer.Option("--at", metavar="HH:MM", help=N_("The moment, Beijing time [default: now].")),
    ] = None,
    session: Annotated[
        int, typer.Option("--session", min=1, help=N_("Which session of the plan."))
    ] = 1,
    orders: Annotated[
        list[Path] | None,
        typer.Option(
            "--orders",
            help=N_("Import these orders exports (or - for JSON lines on stdin) first."),
        ),
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.1, help=N_("Seconds the solver may take to prove.")),
    ] = 10.0,
    out: OutOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Re-plan and show; do not save the version."))
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> int:
    """Re-plan the rest of a live session (场控): the products already presented stay; the
    rest of the brief's candidates compete again for the minutes left, with the stock left
    and expected sales updated by the room's pace so far (session.yaml: replan), under the
    brief's constraints for the whole night. Saves a new version of the plan, prints what
    changed and the host's run sheet for the rest of the night (--out FILE.xlsx or .csv).
    """
    from haowu_cli.live import moment, session_sheet
    from haowu_cli.planner.replan import replan
    from haowu_cli.planner.rules import load_rules

    app = app_context(ctx)
    if fmt is OutputFormat.csv:
        raise UsageError(_("haowu live replan prints a table or JSON (--format table|json)"))
    _check_at(at)
    rules = load_rules(app.config_dir)
    record_items = _load_items(app, plan_id)
    sheet = session_sheet(plan_id, record_items, session)
    if sheet is None:
        raise UsageError(
            _("plan {plan_id} has no session {session}").format(plan_id=plan_id, session=session)
        )
    if at is not None:
        when = moment(sheet, at)
    else:
        from haowu_cli.activities import beijing_now

        when = beijing_now().replace(second=0, microsecond=0)
    reports: list[Any] = []
    if orders:
        files, missing = _orders_files(orders)
        if missing:
            raise UsageError(_("{path}: no such file or folder").format(path=missing[0]))
        reports = import_sources(app, files, quiet=fmt is OutputFormat.json)
        if any(str(source) == "-" for source in orders):
            reports += _import_stdin(app, quiet=fmt is OutputFormat.json)
    with app.out.spinner(_("re-planning")):
        result = replan(
            app.store(),
            plan_id,
            rules,
            at=when,
            session=session,
            time_limit=time_limit,
            save=not dry_run,
        )
    if fmt is OutputFormat.json:
        app.out.write_json(_replan_json(result) | {"imports": [_import_json(r) for r in reports]})
    else:
        show_replan(app.out, result)
    for warning in result.warnings:
        app.out.warn(warning)
    if result.status == "infeasible":
        lines = "\n".join(f"  {p}" for p in result.problems)
        app.out.error(
            _("no plan for the rest of the night meets the brief:\n{lines}").format(lines=lines),
            hint=_("relax the constraints named above in the brief and plan again"),
        )
        return ExitCode.FAILED
    if out is not None and result.rest is not None:
        _write_rest(app, result, out)
    if result.status == "feasible":
        app.out.warn(
            _(
                "the time limit ran out before the new plan was proven optimal: it is "
                "within {gap:.2%} of the best possible (more time: --time-limit)"
            ).format(gap=result.gap)
        )
    from haowu_cli.commands.planning import STATUS_NAMES

    saved = (
        _("saved as plan {plan_id}, version {version} of plan {root}").format(
            plan_id=result.plan_id, version=result.version, root=result.root_plan_id
        )
        if result.plan_id
        else _("not saved (--dry-run)")
    )
    app.out.info(
        _("{status}: {variables:,} candidates solved in {seconds:.2f} s; {saved}").format(
            status=_(STATUS_NAMES.get(result.status, result.status)),
            variables=result.variables,
            seconds=result.solve_seconds,
            saved=saved,
        )
    )
    if any(r.status == "failed" for r in reports):
        return ExitCode.FAILED
    if any(r.rejected for r in reports):
        return ExitCode.REJECTED_ROWS
    return ExitCode.OK


def _load_items(app: Any, plan_id: int) -> Any:
    from haowu_cli import store as db

    with app.store().read() as con:
        if db.plan_record(con, plan_id) is None:
            raise HaowuError(
                _("no plan {plan_id}").format(plan_id=plan_id),
                hint=_("haowu sessions lists the saved plans"),
            )
        return db.plan_items(con, plan_id)


def _orders_files(orders: list[Path]) -> tuple[list[Path], list[Path]]:
    from haowu_cli.live import export_files

    return export_files([source for source in orders if str(source) != "-"])


def _replan_json(result: Any) -> dict:
    from haowu_cli.commands.planning import SOLVER
    from haowu_cli.planner.output import run_sheet_export

    rest = None if result.rest is None else run_sheet_export(result.rest).to_dicts()
    return {
        "plan_id": result.plan_id,
        "version": result.version,
        "root_plan_id": result.root_plan_id,
        "replanned_plan_id": result.base_plan_id,
        "session": result.session,
        "at": result.at.isoformat(timespec="seconds"),
        "minute": result.minute,
        "rest_from_minute": result.from_minute,
        "status": result.status,
        "objective_fen": result.objective_fen,
        "bound_fen": result.bound_fen,
        "gap": result.gap,
        "pace": result.pace.as_json(),
        "old_rest_objective_fen": result.old_rest_value_fen,
        "new_rest_objective_fen": result.new_rest_value_fen,
        "expected_gain_fen": result.gain_fen if result.status != "infeasible" else None,
        "kept": result.fixed["product_id"].to_list(),
        "dropped": result.dropped,
        "added": result.added,
        "moved": result.moved,
        "rest": rest,
        "problems": result.problems,
        "warnings": result.warnings,
        "solver": {
            "name": SOLVER,
            "variables": result.variables,
            "seconds": round(result.solve_seconds, 3),
        },
    }


def _change_rows(result: Any) -> list[dict]:
    """What a replan changed, one row a product: dropped, added, moved."""
    from haowu_cli.formats import money

    def row(change: str, item: dict, start: str) -> dict:
        return {
            "change": change,
            "product_id": item["product_id"],
            "title": item["title"] or "",
            "role": item["role"],
            "start": start,
            "expected_gmv": money(item["expected_gmv_fen"]),
        }

    return [
        *(
            row(_("dropped") + (f" ({d['reason']})" if d.get("reason") else ""), d, d["start"])
            for d in result.dropped
        ),
        *(row(_("added"), a, a["start"]) for a in result.added),
        *(row(_("moved"), m, f"{m['from']} → {m['to']}") for m in result.moved),
    ]


def _replan_lines(result: Any) -> tuple[list[str], list[dict], list[str]]:
    """A replan for people: the lines before the changes (the moment, the pace), the change
    rows, and the lines after (the expected gain); for a replan that found no plan, the
    lines say why and there are no changes."""
    from haowu_cli.commands.planning import objective_name
    from haowu_cli.formats import money

    pace = result.pace
    before = [
        _(
            "plan {plan_id}, session {session}: re-planned at {at} (minute {minute}); "
            "{kept} products presented stay, the rest from minute {rest}"
        ).format(
            plan_id=result.base_plan_id,
            session=result.session,
            at=result.at.strftime("%H:%M"),
            minute=result.minute,
            kept=result.fixed.height,
            rest=result.from_minute,
        ),
        _("pace so far: the room {room}; by category {categories}; by role {roles}").format(
            room=f"{pace.room:.0%}",
            categories=", ".join(f"{k} {v:.0%}" for k, v in sorted(pace.categories.items())) or "—",
            roles=", ".join(f"{role_label(k)} {v:.0%}" for k, v in sorted(pace.roles.items()))
            or "—",
        ),
    ]
    if result.status == "infeasible":
        return before, [], []
    rows = _change_rows(result)
    if not rows:
        before.append(_("no change: the plan for the rest of the night still holds"))
    # The values are in the brief's objective (团长收入, GMV or 佣金): say which.
    after = [
        _(
            "expected gain {gain} in {objective}: {objective} for the rest of the night {old} "
            "as planned, {new} re-planned (both by the pace so far)"
        ).format(
            # (English has no catalog word for it: team_income reads "team income")
            objective=objective_name(getattr(result, "objective", "gmv")),
            gain=money(result.gain_fen),
            old=money(result.old_rest_value_fen),
            new=money(result.new_rest_value_fen),
        )
    ]
    return before, rows, after


def replan_screen(result: Any) -> tuple[list[str], list[ScreenTable]]:
    """A replan for the live view: its lines (with why, when no plan meets the brief) and
    the table of changes."""
    import polars as pl

    before, rows, after = _replan_lines(result)
    if result.status == "infeasible":
        problems = "\n".join(f"  {p}" for p in result.problems)
        before.append(
            _("no plan for the rest of the night meets the brief:\n{lines}").format(lines=problems)
        )
    tables: list[ScreenTable] = [(pl.DataFrame(rows), CHANGE_COLUMNS, _("changes"))] if rows else []
    return [*before, *after], tables


def show_replan(out: Any, result: Any, *, run_sheet: bool = True) -> None:
    """What a replan found, for people: the moment, the pace, the changes, the expected gain
    and (unless `run_sheet` is false) the run sheet for the rest of the night."""
    import polars as pl

    from haowu_cli.commands.planning import RUN_SHEET_COLUMNS
    from haowu_cli.planner.output import run_sheet_table

    before, rows, after = _replan_lines(result)
    for line in before:
        out.print_line(line)
    if result.status == "infeasible":
        return
    if rows:
        out.emit(pl.DataFrame(rows), OutputFormat.table, CHANGE_COLUMNS, title=_("changes"))
    for line in after:
        out.print_line(line)
    if not run_sheet:
        return
    out.emit(
        run_sheet_table(result.rest),
        OutputFormat.table,
        RUN_SHEET_COLUMNS,
        title=_("the run sheet for the rest of the night"),
    )


def _write_rest(app: Any, result: Any, out: Path) -> None:
    """The host's run sheet for the rest of the night: a workbook (FILE.xlsx) or CSV."""
    import json

    from haowu_cli import store as db
    from haowu_cli.commands.common import workbook_target, write_export
    from haowu_cli.exporting import write_workbook
    from haowu_cli.planner.output import RUN_SHEET_KINDS, run_sheet_export
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.planner.workbook import RunSheetPlan, write_run_sheet

    rest = result.rest
    book = workbook_target(out, xlsx=False)
    if book is None:
        write_export(
            app,
            run_sheet_export(rest),
            out,
            excel=False,
            kinds=RUN_SHEET_KINDS,
            for_people=True,
            sheet="排品表",
            what=_("the run sheet for the rest of the night ({height} products)").format(
                height=rest.height
            ),
        )
        return
    plan_id = result.plan_id or result.base_plan_id
    with app.store().read() as con:
        details = db.plan_item_details(con, plan_id)
        record = db.plan_record(con, plan_id) or {}
        brief = json.loads(record["brief"])
    plan = RunSheetPlan(plan_id, rest, brief, details)
    settings = load_rules(app.config_dir).run_sheet
    write_workbook(
        book, lambda workbook: write_run_sheet(workbook, plan, settings), protect=app.protected()
    )
    app.out.info(
        _("wrote the run sheet for the rest of the night ({products} products) to {target}").format(
            products=rest.height, target=book
        )
    )
