"""`haowu plan-session`, `haowu sessions [show ID]` and `haowu export run-sheet ID`."""

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from haowu_cli.commands.common import (
    DATE_FORMAT,
    AppContext,
    ExcelOption,
    FormatOption,
    HeadersOption,
    OutOption,
    XlsxOption,
    app_context,
    write_export,
)
from haowu_cli.errors import ExitCode, HaowuError
from haowu_cli.i18n import N_, Language, _, pgettext
from haowu_cli.render import Column, Output, OutputFormat
from haowu_cli.roles import note_label, role_label
from haowu_cli.store import Store

if TYPE_CHECKING:
    import polars as pl

    from haowu_cli.outfiles import Kept
    from haowu_cli.planner import Plan
    from haowu_cli.planner.brief import Brief

SOLVER = "HiGHS"  # the MILP solver every plan is solved by (planner.model)

# How the solver's verdict reads for people (JSON keeps the codes).
STATUS_NAMES = {"optimal": N_("optimal"), "feasible": N_("feasible, not proven optimal")}


def status_name(code: str) -> str:
    """The solver's verdict (optimal) in the language in use (最优)."""
    return _(STATUS_NAMES[code]) if code in STATUS_NAMES else code


def objective_name(code: str) -> str:
    """An objective as the brief writes it (team_income), in the language in use (团长收入)."""
    return {
        "gmv": pgettext("objective", "GMV"),
        "commission": pgettext("objective", "commission"),
        "team_income": pgettext("objective", "team income"),
    }.get(code, code)


RUN_SHEET_COLUMNS = [
    Column("position", "#", "right"),
    Column("start", N_("start")),
    Column("product_id", N_("product")),
    Column("merchant_id", N_("merchant")),
    Column("title", N_("title"), max_width=24),
    Column("category_l1", N_("category")),
    Column("role", N_("role"), words=role_label),
    Column("live_price", N_("live price"), "right"),
    Column("mechanism", N_("mechanism"), max_width=10),
    Column("commission_rate", N_("commission rate"), "right"),
    Column("stock", N_("stock"), "right"),
    Column("minutes", N_("min"), "right"),
    Column("expected_units", N_("units"), "right"),
    Column("expected_gmv", N_("GMV"), "right"),
    Column("note", N_("note"), words=note_label),
]


def plan_session_command(
    ctx: typer.Context,
    brief_file: Annotated[
        Path | None, typer.Option("--brief", help=N_("The brief, a YAML file (README: Sessions)."))
    ] = None,
    anchor: Annotated[str | None, typer.Option("--anchor", help=N_("Anchor ID (达人ID)."))] = None,
    date: Annotated[
        dt.datetime | None,
        typer.Option("--date", help=N_("Session date."), **DATE_FORMAT),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", metavar="HH:MM", help=N_("Start time."))
    ] = None,
    minutes: Annotated[
        int | None, typer.Option("--minutes", help=N_("Session length in minutes."))
    ] = None,
    min_products: Annotated[
        int | None, typer.Option("--min-products", help=N_("At least this many products."))
    ] = None,
    max_products: Annotated[
        int | None, typer.Option("--max-products", help=N_("At most this many products."))
    ] = None,
    min_level: Annotated[
        str | None, typer.Option("--min-level", help=N_("Latest grade at least this (L0–L5)."))
    ] = None,
    min_commission_rate: Annotated[
        str | None,
        typer.Option("--min-commission-rate", help=N_("Commission at least this (0.15 or 15%).")),
    ] = None,
    max_per_merchant: Annotated[
        int | None, typer.Option("--max-per-merchant", help=N_("At most this many per merchant."))
    ] = None,
    require_sample: Annotated[
        bool | None,
        typer.Option(
            "--require-sample/--no-require-sample", help=N_("Only products with a sample (样品).")
        ),
    ] = None,
    pin: Annotated[
        list[str] | None, typer.Option("--pin", help=N_("A product that must be in (repeatable)."))
    ] = None,
    exclude_product: Annotated[
        list[str] | None, typer.Option("--exclude-product", help=N_("Leave this product out."))
    ] = None,
    exclude_merchant: Annotated[
        list[str] | None, typer.Option("--exclude-merchant", help=N_("Leave this merchant out."))
    ] = None,
    objective: Annotated[
        str | None, typer.Option("--objective", help=N_("gmv, commission or team_income."))
    ] = None,
    time_limit: Annotated[
        float,
        typer.Option("--time-limit", min=0.1, help=N_("Seconds the solver may take to prove.")),
    ] = 10.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Plan and show; do not save the plan."))
    ] = False,
    fmt: FormatOption = OutputFormat.table,
) -> int:
    """Plan a live session (组货专场) for an anchor: the products, their roles and order,
    chosen to maximise the objective under the brief, proven optimal by a MILP solver.

    The brief (--brief FILE) may be overridden option by option; what it leaves out comes
    from configs/session.yaml. The plan is saved: haowu sessions lists plans.
    """
    from haowu_cli.planner import plan_sessions
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.model import PlanNotFound
    from haowu_cli.planner.rules import load_rules

    app = app_context(ctx)
    overrides: dict[str, object] = {
        "anchor": anchor,
        "date": date.date() if date else None,
        "start": start,
        "minutes": minutes,
        "min_level": min_level,
        "min_commission_rate": min_commission_rate,
        "max_per_merchant": max_per_merchant,
        "require_sample": require_sample,
        "pinned": pin or None,
        "exclude_products": exclude_product or None,
        "exclude_merchants": exclude_merchant or None,
        "objective": objective,
    }
    overrides = {k: v for k, v in overrides.items() if v is not None}
    if min_products is not None or max_products is not None:
        overrides["products"] = _products_override(min_products, max_products)
    rules = load_rules(app.config_dir)
    brief = resolve_brief(rules, brief_file, overrides)
    try:
        with app.out.spinner(_("planning")):
            plan = plan_sessions(app.store(), brief, rules, time_limit=time_limit, save=not dry_run)
    except PlanNotFound as exc:
        if fmt is OutputFormat.json:  # machines still get the one object
            app.out.write_json(_no_plan_json(brief, exc.message))
        raise
    if fmt is OutputFormat.json:
        app.out.write_json(_plan_json(plan))
    elif fmt is OutputFormat.csv and plan.items is not None:
        from haowu_cli.planner.output import run_sheet_export

        app.out.emit(run_sheet_export(plan.items), fmt)
    for warning in plan.warnings:
        app.out.warn(warning)
    if plan.status == "infeasible":
        lines = "\n".join(f"  {p}" for p in plan.problems)
        app.out.error(
            _("no plan meets the brief:\n{lines}").format(lines=lines),
            hint=_("relax the constraints named above in the brief or on the command line"),
        )
        return ExitCode.FAILED
    if fmt is OutputFormat.table:
        assert plan.items is not None  # a plan that is not infeasible has its items
        show_plan(app.out, plan.plan_id, plan.brief.as_json(), plan.items, plan.status)
    if plan.status == "feasible":
        app.out.warn(
            _(
                "the time limit ran out before the plan was proven optimal: it is "
                "within {gap:.2%} of the best possible (more time: --time-limit)"
            ).format(gap=plan.gap)
        )
    saved = (
        _("saved as plan {plan_id}").format(plan_id=plan.plan_id)
        if plan.plan_id
        else _("not saved (--dry-run)")
    )
    app.out.info(
        _("{status}: {variables:,} candidates solved in {seconds:.2f} s; {saved}").format(
            status=_(STATUS_NAMES.get(plan.status, plan.status)),
            variables=plan.variables,
            seconds=plan.seconds,
            saved=saved,
        )
    )
    return ExitCode.OK


def _products_override(low: int | None, high: int | None) -> dict:
    """--min-products/--max-products set one end of `products`; the other end stays as the
    brief (or the defaults) has it."""
    return {end: value for end, value in (("min", low), ("max", high)) if value is not None}


def _plan_json(plan: "Plan") -> dict:
    from haowu_cli.planner.output import plan_json

    return plan_json(
        plan_id=plan.plan_id,
        status=plan.status,
        brief_json=plan.brief.as_json(),
        objective_fen=plan.objective_fen,
        bound_fen=plan.bound_fen,
        gap=plan.gap,
        items=plan.items,
        candidates=plan.candidates,
        problems=plan.problems,
        warnings=plan.warnings,
        solver={"name": SOLVER, "variables": plan.variables},
    )


def _no_plan_json(brief: "Brief", message: str) -> dict:
    from haowu_cli.planner.output import plan_json

    return plan_json(
        plan_id=None,
        status="time_limit",
        brief_json=brief.as_json(),
        objective_fen=None,
        bound_fen=None,
        gap=None,
        items=None,
        candidates=None,
        problems=[message],
        warnings=[],
        solver={"name": SOLVER, "variables": None},
    )


def show_plan(
    out: Output, plan_id: int | None, brief_json: dict, items: "pl.DataFrame", status: str
) -> None:
    """Each session's run sheet as a table, with its totals."""
    import polars as pl

    from haowu_cli import formats
    from haowu_cli.planner.output import run_sheet_table, session_totals

    def money(column: str, part: "pl.DataFrame" = items) -> str:
        return formats.money(int(part[column].sum()))

    for totals in session_totals(items, brief_json):
        part = items.filter(pl.col("session") == totals["session"])
        name = _("plan {plan_id}").format(plan_id=plan_id) if plan_id else _("plan (not saved)")
        title = _(
            "{name}, session {session}: anchor {anchor_id} on {date} from {start}, "
            "{minutes} minutes"
        ).format(
            name=name,
            session=totals["session"],
            anchor_id=totals["anchor_id"],
            date=totals["date"],
            start=totals["start"],
            minutes=totals["minutes"],
        )
        out.emit(run_sheet_table(part), OutputFormat.table, RUN_SHEET_COLUMNS, title=title)
        out.print_line(
            _(
                "{products} products, {used_minutes} of {minutes} minutes; expected "
                "GMV {money}, commission {money2}, team income {money3}"
            ).format(
                products=totals["products"],
                used_minutes=totals["used_minutes"],
                minutes=totals["minutes"],
                money=money("expected_gmv_fen", part),
                money2=money("commission_fen", part),
                money3=money("team_income_fen", part),
            )
        )
    out.print_line(
        _("objective {objective}: {money} ({status})").format(
            objective=objective_name(brief_json["objective"]),
            money=money("objective_fen"),
            status=_(STATUS_NAMES.get(status, status)),
        )
    )


sessions_app = typer.Typer(
    help=N_("Saved session plans: list them, show one."), invoke_without_command=True
)


@sessions_app.callback()
def sessions_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List saved plans, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    import polars as pl

    from haowu_cli import formats
    from haowu_cli import store as db

    app = app_context(ctx)
    with app.store().read() as con:
        plans = db.query_plans(con)
    frame = plans.select(
        "plan_id",
        formats.timestamp(pl.col("created_at")).alias("created_at"),
        "status",
        "objective",
        formats.yuan(pl.col("objective_fen")).alias("objective_value"),
        "anchors",
        pl.col("first_date").cast(pl.String).alias("date"),
        "sessions",
        "products",
    )
    columns = [
        Column("plan_id", N_("plan"), "right"),
        Column("created_at", N_("created")),
        Column("status", N_("status"), words=status_name),
        Column("anchors", N_("anchors")),
        Column("date", N_("date")),
        Column("sessions", N_("sessions"), "right"),
        Column("products", N_("products"), "right"),
        Column("objective", N_("objective"), words=objective_name),
        Column("objective_value", N_("value (¥)"), "right"),
    ]
    if fmt is OutputFormat.table:  # people read minutes; machines get the ISO form
        frame = frame.with_columns(pl.col("created_at").str.slice(0, 16).str.replace("T", " "))
    app.out.emit(frame, fmt, columns, footer=_("{height} plans").format(height=frame.height))


@sessions_app.command("show")
def show_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """A saved plan's run sheets, as planned."""
    from haowu_cli.formats import timestamp_text
    from haowu_cli.planner.output import plan_json, run_sheet_export

    app = app_context(ctx)
    record, items = load_plan(app.store(), plan_id)
    brief_json = json.loads(record["brief"])
    versions = _versions(app.store(), plan_id)
    if fmt is OutputFormat.table:
        show_plan(app.out, plan_id, brief_json, items, record["status"])
        _show_versions(app.out, plan_id, versions)
    elif fmt is OutputFormat.csv:
        app.out.emit(run_sheet_export(items), fmt)
    else:
        app.out.write_json(
            plan_json(
                plan_id=plan_id,
                status=record["status"],
                brief_json=brief_json,
                objective_fen=record["objective_fen"],
                bound_fen=record["bound_fen"],
                gap=0.0
                if record["status"] == "optimal"
                else (record["bound_fen"] - record["objective_fen"]) / max(record["bound_fen"], 1),
                items=items,
                candidates=None,
                problems=[],
                warnings=[],
                solver=_saved_solver(record),
                extra={"created_at": timestamp_text(record["created_at"]), "versions": versions},
            )
        )


def _versions(store: Store, plan_id: int) -> list[dict]:
    """The versions of the plan `plan_id` belongs to (`haowu live replan`), first to last."""
    from haowu_cli import store as db
    from haowu_cli.formats import timestamp_text

    with store.read() as con:
        frame = db.plan_versions(con, plan_id)
    return [
        {
            "plan_id": int(row["plan_id"]),
            "version": int(row["version"]),
            "created_at": timestamp_text(row["created_at"]),
            "status": row["status"],
            "objective_fen": int(row["objective_fen"]),
            "replanned_session": row["replanned_session"],
            "applies_from": None
            if row["applies_from"] is None
            else row["applies_from"].isoformat(timespec="seconds"),
            "applies_from_minute": row["applies_from_minute"],
        }
        for row in frame.iter_rows(named=True)
    ]


def _show_versions(out: Output, plan_id: int, versions: list[dict]) -> None:
    """A plan's versions as a table, when it has more than one."""
    if len(versions) < 2:
        return
    import polars as pl

    from haowu_cli.formats import money

    rows = [
        {
            "version": v["version"],
            "plan_id": v["plan_id"],
            "applies_from": "—"
            if v["applies_from"] is None
            else _("session {session} from {time} (minute {minute})").format(
                session=v["replanned_session"],
                time=v["applies_from"][11:16],
                minute=v["applies_from_minute"],
            ),
            "status": _(STATUS_NAMES.get(v["status"], v["status"])),
            "objective": money(v["objective_fen"]),
            "current": "◀" if v["plan_id"] == plan_id else "",
        }
        for v in versions
    ]
    columns = [
        Column("version", N_("version"), "right"),
        Column("plan_id", N_("plan"), "right"),
        Column("applies_from", N_("in force from")),
        Column("status", N_("status")),
        Column("objective", N_("objective"), "right"),
        Column("current", ""),
    ]
    out.emit(pl.DataFrame(rows), OutputFormat.table, columns, title=_("versions of this plan"))


def _saved_solver(record: dict) -> dict | None:
    """What is known of the solver of a saved plan: every saved plan was solved by HiGHS and
    keeps its variable count; null if a record ever lacks it."""
    variables = record.get("variables")
    return None if variables is None else {"name": SOLVER, "variables": int(variables)}


def load_plan(store: Store, plan_id: int) -> tuple[dict[str, Any], "pl.DataFrame"]:
    from haowu_cli import store as db

    with store.read() as con:
        record = db.plan_record(con, plan_id)
        if record is None:
            raise HaowuError(
                _("no plan {plan_id}").format(plan_id=plan_id),
                hint=_("haowu sessions lists the saved plans"),
            )
        return record, db.plan_items(con, plan_id)


def export_run_sheet_command(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help=N_("The plan's ID (haowu sessions lists them)."))],
    out: OutOption = None,
    excel: ExcelOption = False,
    xlsx: XlsxOption = False,
    headers: HeadersOption = None,
) -> None:
    """A plan's run sheet (排品表) as CSV, or as a workbook for the host and the merchants
    (--out 排品表.xlsx): a printable sheet per session, a summary, a sheet per merchant."""
    from haowu_cli.commands.common import workbook_target
    from haowu_cli.planner.output import RUN_SHEET_KINDS, run_sheet_export

    app = app_context(ctx)
    book = workbook_target(out, xlsx=xlsx)
    if book is not None:
        write_run_sheet_workbook(app, plan_id, book, headers=headers)
        return
    items = load_plan(app.store(), plan_id)[1]
    frame = run_sheet_export(items)
    write_export(
        app,
        frame,
        out,
        excel=excel,
        kinds=RUN_SHEET_KINDS,
        headers=headers,
        for_people=True,
        sheet=f"排品表 {plan_id}",
        what=_("the run sheet of plan {plan_id} ({height} products)").format(
            plan_id=plan_id, height=frame.height
        ),
    )


def write_run_sheet_workbook(
    app: AppContext, plan_id: int, target: Path, *, headers: Language | None = None
) -> None:
    """Write plan `plan_id`'s run sheet workbook (`planner.workbook`) to `target`, its words
    in `headers`' language (default: the language in use)."""
    from haowu_cli.i18n import current, language, ngettext

    with language(headers.value if headers else current()):
        items = save_run_sheet_workbook(
            app.store(), app.config_dir, plan_id, target, protect=app.protected()
        )
    merchants = items["merchant_id"].n_unique()
    app.out.info(
        ngettext(
            "wrote the run sheet workbook of plan {plan_id} ({products} products, "
            "{merchants} merchant) to {target}",
            "wrote the run sheet workbook of plan {plan_id} ({products} products, "
            "{merchants} merchants) to {target}",
            merchants,
        ).format(plan_id=plan_id, products=items.height, merchants=merchants, target=target)
    )


def save_run_sheet_workbook(
    store: Store,
    config_dir: Path,
    plan_id: int,
    target: Path,
    *,
    protect: Iterable["Kept"],
) -> "pl.DataFrame":
    """Read plan `plan_id` and write its run sheet workbook to `target`; returns its items."""
    from haowu_cli import store as db
    from haowu_cli.exporting import write_workbook
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.planner.workbook import RunSheetPlan, write_run_sheet

    settings = load_rules(config_dir).run_sheet
    record, items = load_plan(store, plan_id)
    with store.read() as con:
        details = db.plan_item_details(con, plan_id)
    plan = RunSheetPlan(plan_id, items, json.loads(record["brief"]), details)
    write_workbook(target, lambda book: write_run_sheet(book, plan, settings), protect=protect)
    return items
