"""`haowu demo`: every step haowu has, run on the bundled sample sheets in a fresh database."""

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from haowu_cli import dates
from haowu_cli.commands.common import AppContext, app_context
from haowu_cli.commands.grading import show_distribution, show_explanation
from haowu_cli.commands.importing import print_report
from haowu_cli.commands.planning import (
    STATUS_NAMES,
    objective_name,
    save_run_sheet_workbook,
    show_plan,
)
from haowu_cli.commands.products import TABLE_COLUMNS
from haowu_cli.commands.reports import print_figures
from haowu_cli.config import packaged_path
from haowu_cli.errors import UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.render import OutputFormat
from haowu_cli.store import Store

if TYPE_CHECKING:
    from haowu_cli.ingest.pipeline import ImportOptions

SAMPLE_SUFFIXES = {".csv", ".xlsx"}
SAMPLE_DATE = dt.date(2026, 11, 22)  # the day the sample sheets describe (make_samples.py)


def demo_command(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(
            "--db", help=N_("Fresh database file to use [default: one in a temporary folder].")
        ),
    ] = None,
) -> None:
    """Run import, grade, explain, list, export, plan-session, commission and the session
    review on the bundled sample sheets, into a fresh database; ends with the review page."""
    import tempfile

    from haowu_cli.exporting import write_csv
    from haowu_cli.grading import explain, grade_products, load_model
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_files
    from haowu_cli.outfiles import protected
    from haowu_cli.planner import plan_sessions
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.products import (
        export_frame,
        export_kinds,
        find_products,
        listing_frame,
        with_benefits,
    )
    from haowu_cli.reports.commission import PARTY_COLUMNS, commission_report
    from haowu_cli.reports.page import write_page
    from haowu_cli.reports.session import session_report
    from haowu_cli.reports.settings import load_report_rules

    app = app_context(ctx)
    # (--db is the root command's own option: it always has a source)
    if db is None and ctx.find_root().get_parameter_source("db").name == "COMMANDLINE":  # type: ignore[union-attr]
        db = app.db  # `haowu --db X demo` means X too (but never $HAOWU_DB: the demo
        # must not fill someone's real database by accident)
    if db is not None and db.exists():
        raise UsageError(
            _("{db} already exists; the demo fills a fresh database").format(db=db),
            hint=_("name a new file with --db, or leave --db out to use a temporary folder"),
        )
    work = Path(tempfile.mkdtemp(prefix="haowu-demo-"))
    store = Store(db or work / "demo.duckdb", lock_timeout=app.lock_timeout)
    sheets = sorted(
        p
        for p in packaged_path("sample_data").iterdir()
        if p.suffix in SAMPLE_SUFFIXES and ".rejects" not in p.name  # not a rejects file
    )
    anchors = [p for p in sheets if p.stem.startswith("anchors")]
    orders = [p for p in sheets if p.stem.startswith("orders")]
    samples = [p for p in sheets if p.stem.startswith("m")]
    out = app.out

    out.note(
        _("1. import: {count} product sheets from 7 merchants, and the anchors").format(
            count=len(samples)
        ),
        style="bold",
    )
    # The sample orders were received up to 5 December 2026: import them as of that day at
    # least, or the import's future-date check would refuse them.
    options = ImportOptions(rejects_path=work, today=max(dates.today(), dt.date(2026, 12, 5)))
    reports = import_files(store, samples, load_kind("products", app.config_dir), options)
    reports += import_files(store, anchors, load_kind("anchors", app.config_dir), options)
    for report in reports:
        print_report(out, report)
    out.note(
        _("   (the messy sheet's rejected rows are on purpose: each shows a mistake haowu catches)")
    )

    model = load_model(app.config_dir)
    run = grade_products(store, model, SAMPLE_DATE)
    out.note(
        _(
            "\n2. grade: the five-dimension model of configs/grading.yaml, as of "
            "{SAMPLE_DATE} (the sample sheets' date)"
        ).format(SAMPLE_DATE=SAMPLE_DATE),
        style="bold",
    )
    show_distribution(out, run)

    example = _product_near_next_level(store)
    out.note(
        _("\n3. explain: why {example} has its level, and what gets it higher").format(
            example=example
        ),
        style="bold",
    )
    show_explanation(out, model, explain(store, model, example))

    total = sum(r.inserted for r in reports if r.path not in anchors)
    out.note(
        _("\n4. list: {total} products imported; the first 10 by merchant").format(total=total),
        style="bold",
    )
    listed = with_benefits(find_products(store, limit=10), model.benefits)
    out.emit(listing_frame(listed), OutputFormat.table, TABLE_COLUMNS)

    export_path = work / "products.csv"
    exported = export_frame(find_products(store))
    write_csv(exported, export_path, excel=True, kinds=export_kinds())
    out.note(
        _("\n5. export: {height} products written for Excel to {export_path}").format(
            height=exported.height, export_path=export_path
        ),
        style="bold",
    )

    brief_path = packaged_path("sample_data") / "brief_a005.yaml"
    rules = load_rules(app.config_dir)
    plan = plan_sessions(store, resolve_brief(rules, brief_path, {}), rules)
    assert plan.plan_id is not None and plan.items is not None  # the sample brief's plan, saved
    out.note(
        _(
            "\n6. plan: a live session for anchor A005 from {name}, {status} for "
            "{objective} among {variables} candidates"
        ).format(
            name=brief_path.name,
            status=_(STATUS_NAMES.get(plan.status, plan.status)),
            objective=objective_name(plan.brief.objective),
            variables=plan.variables,
        ),
        style="bold",
    )
    show_plan(out, plan.plan_id, plan.brief.as_json(), plan.items, plan.status)
    workbook = work / "排品表.xlsx"
    save_run_sheet_workbook(
        store, app.config_dir, plan.plan_id, workbook, protect=protected(store.path)
    )
    out.note(
        _(
            "   run sheet workbook for the host and the merchants (a printable sheet per "
            "session, a summary, a sheet per merchant): {path}"
        ).format(path=workbook)
    )

    out.note(
        _(
            "\n7. commission: the session's orders (received, refunded, cancelled, pay-later, with "
            "a second-level leader) split to the fen"
        ),
        style="bold",
    )
    for report in import_files(store, orders, load_kind("orders", app.config_dir), options):
        print_report(out, report)
    # Past the settlement dates of the sample orders (received 3–5 December).
    as_of = max(dates.today(), dt.date(2026, 12, 31))
    split = commission_report(store, by="party", as_of=as_of, filters={})
    out.emit(split.table, OutputFormat.table, PARTY_COLUMNS, title=split.title)
    out.print_line(split.check)

    review = session_report(store, load_report_rules(app.config_dir), plan.plan_id, as_of=as_of)
    page = work / "session-review.html"
    write_page(review, page)
    out.note(
        _("\n8. report: the session reviewed against its plan (数据复盘), as a page to share"),
        style="bold",
    )
    print_figures(out, review)
    out.print_line(_("session review page: {page}").format(page=page))
    out.print_line(_("run sheet workbook: {path}").format(path=workbook))

    activity_id = _demo_activity(app, store, work, options)
    _platform_step(app, work, options)
    _matching_step(app, store)
    _live_step(app, store, work)

    out.note(_("\ndemo database: {path}").format(path=store.path), style="bold")
    out.note(_("try:"))
    for example in (
        "products --search 面霜",
        f"export run-sheet {plan.plan_id} -o 排品表.xlsx",
        f"commission --by merchant --as-of {as_of}",
        f"report session {plan.plan_id} --as-of {as_of}",
        "report merchants --html merchants.html",
        f"plan-session --brief {samples_brief()}",
        f"report activity {activity_id}",
        "merchants --month 2026-12",
        "match products --anchor A001 --date 2026-12-05",
        "match anchors --brand 花漾 --date 2026-12-05 --goal 50万",
        f"plan-session --brief {packaged_path('sample_data') / 'brief_a001_huayang.yaml'}",
    ):
        out.note(f"  haowu --db {store.path} {example}")


def _matching_step(app: AppContext, store: Store) -> None:
    """Which anchors for one merchant's goods, and what sessions reach a target."""
    from haowu_cli.commands.matching import ANCHOR_TABLE
    from haowu_cli.planner.anchor_output import anchors_table, goal_lines
    from haowu_cli.planner.anchors import load_anchor_model, match_anchors
    from haowu_cli.planner.rules import load_rules

    merchant, goal_fen = "M1001", 20_000_000
    found = match_anchors(
        store,
        load_rules(app.config_dir),
        load_anchor_model(app.config_dir),
        merchant,
        on=dt.date(2026, 12, 5),
        goal_fen=goal_fen,
    )
    app.out.note(
        _(
            "\n11. match: the anchors for merchant {merchant}'s {count} eligible products, by "
            "expected GMV and fit (configs/match.yaml), and the sessions that reach ¥20万"
        ).format(merchant=merchant, count=found.eligible),
        style="bold",
    )
    shown = {"rank", "anchor_id", "anchor_name", "fit", "expected_gmv", "fans_shown"}
    columns = [c for c in ANCHOR_TABLE if c.name in shown]
    app.out.emit(anchors_table(found, 3), OutputFormat.table, columns)
    for line in goal_lines(found):
        app.out.print_line(line)


def _product_near_next_level(store: Store) -> str:
    """A product worth explaining: the best-scored L3, whose advice shows the way to L4."""
    from haowu_cli import store as db

    with store.read() as con:
        product_id = db.best_graded_product(con, "L3")
    assert product_id is not None  # the demo has just graded its products
    return product_id


def samples_brief() -> Path:
    return packaged_path("sample_data") / "brief_a1212.yaml"


def _demo_activity(app: AppContext, store: Store, work: Path, options: "ImportOptions") -> str:
    """9. 招商: an activity end to end — create it, take two merchants' 报名, review them by
    its rules, plan its 正式 session from what passed, export the results; then the ledger
    follows the merchant terms the application sheets revealed (a new merchant)."""
    from dataclasses import replace

    from haowu_cli import activities
    from haowu_cli.exporting import write_csv
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import import_files
    from haowu_cli.merchants import resplit_all
    from haowu_cli.planner import plan_sessions
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.rules import load_rules

    out, samples = app.out, packaged_path("sample_data")
    activity, _new = activities.create_activity(
        store, samples / "activity_1212.yaml", app.config_dir
    )
    out.note(
        _(
            "\n9. 招商: activity {id} {name} ({windows}), 报名 from two merchants, 审核, plan"
        ).format(
            id=activity.activity_id,
            name=activity.name,
            windows=", ".join(w.name for w in activity.windows),
        ),
        style="bold",
    )
    # The sheets were sent before the activity's 报名 deadline (8 December).
    kind = load_kind("applications", app.config_dir)
    kind = replace(
        kind,
        hooks=activities.application_hooks(
            activity.activity_id, dt.datetime.combine(SAMPLE_DATE, dt.time(12))
        ),
    )
    sheets = sorted(samples.glob("applications_*.csv"))
    for report in import_files(store, sheets, kind, options):
        print_report(out, report)
    review = activities.review(store, activity.activity_id, app.config_dir, dry_run=False)
    counts = review.counts()
    out.print_line(
        _(
            "审核 {id}: {applications} applications: {passed} 通过, {rejected} 拒绝, "
            "{manual} 待人工"
        ).format(
            id=activity.activity_id,
            applications=review.summary["applications"],
            passed=counts["passed"],
            rejected=counts["rejected"],
            manual=counts["manual"],
        )
    )
    for row in [r for r in review.changed if r["status"] != "passed"]:
        out.print_line(
            f"  {row['product_id']} {activities.STATUS_WORDS[row['status']]}: "
            + "；".join(row["reasons"])
        )
    rules = load_rules(app.config_dir)
    brief = resolve_brief(rules, samples_brief(), {})
    # Not saved: the demo's saved plan stays the one above (plan-session saves it).
    plan = plan_sessions(store, brief, rules, save=False)
    if plan.items is not None:
        show_plan(out, None, plan.brief.as_json(), plan.items, plan.status)
    else:
        out.print_line(_("no plan: {problems}").format(problems="; ".join(plan.problems)))
    _activity, apps = activities.applications(store, activity.activity_id)
    results = work / "审核结果.csv"
    write_csv(activities.results_frame(apps), results, excel=True, kinds=activities.RESULT_KINDS)
    out.print_line(_("审核结果 for the merchants: {path}").format(path=results))
    posted, reversed_ = resplit_all(store, app.config_dir, None)
    out.print_line(
        _(
            "merchant terms: M1001 joined 快分销 on 2026-11-10 (its 报名 sheet says), so its "
            "orders within 30 days pay the new-merchant 1% technical fee: {posted} orders "
            "re-posted, {reversed_} with reversing entries"
        ).format(posted=posted, reversed_=reversed_)
    )
    return activity.activity_id


def _platform_step(app: AppContext, work: Path, options: "ImportOptions") -> None:
    """10. The platform's own files: an activity's items (JSON) and its 订单导出 in, then 对账
    against the 结算明细, in a database of their own (the steps above keep theirs)."""
    from dataclasses import replace

    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import import_files
    from haowu_cli.ingest.platform import load_sources
    from haowu_cli.reconcile import reconcile
    from haowu_cli.reports.reconcile import reconcile_report

    out = app.out
    folder = packaged_path("sample_data") / "platform"
    store = Store(work / "platform.duckdb", lock_timeout=app.lock_timeout)
    sources = load_sources(app.config_dir)
    kinds = {name: load_kind(name, app.config_dir) for name in ("products", "orders")}
    options = replace(options, sources=sources, kinds=kinds, kind_given=False)
    out.note(
        _(
            "\n10. the platform's own files (synthetic, in Kuaishou's shapes): an activity's "
            "items and its 订单导出 in, then 对账 against the 结算明细"
        ),
        style="bold",
    )
    files = [folder / "activity_items.json", folder / "order_export.csv"]
    for report in import_files(store, files, kinds["products"], options):
        out.print_line(
            _(
                "{file}: read as {source}: {rows} rows, {new} new, {own} 自营 left out of "
                "the split, {personal} personal-data columns not read"
            ).format(
                file=report.path.name,
                source=report.source,
                rows=f"{report.rows_read:,}",
                new=f"{report.inserted:,}",
                own=len(report.self_operated),
                personal=len(report.personal_columns),
            )
        )
    result = reconcile(store, [folder / "settlement.csv"], sources, detail=False)
    checked = reconcile_report(result)
    if checked.alert:
        out.print_line(checked.alert)
    lines = checked.table("lines")
    out.emit(lines.view, OutputFormat.table, lines.columns, title=lines.title)
    out.note(_("try:"))
    out.note(f"  haowu --db {store.path} reconcile {folder / 'settlement.csv'} -f csv")


def _live_step(app: Any, store: Store, work: Path) -> None:
    """12. 跟播 and 场控 on a copy of the demo database (the steps above keep theirs): a
    session planned for A005 on another day, its orders simulated (a room hot for 美妆 and
    cold for 食品), followed with snapshots as the export grows, re-planned at 21:10, and
    followed again under the new version."""
    import shutil

    from haowu_cli.commands.live import figures_at, import_sources, show_replan, snapshot_screen
    from haowu_cli.live import session_sheet, sheet_in_force
    from haowu_cli.live_simulation import paid_by, simulate, write_export
    from haowu_cli.planner import plan_sessions
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.replan import replan
    from haowu_cli.planner.rules import load_rules

    out = app.out
    copy = work / "live.duckdb"
    for suffix in ("", ".wal"):
        source = Path(f"{store.path}{suffix}")
        if source.exists():
            shutil.copyfile(source, Path(f"{copy}{suffix}"))
    live = Store(copy, lock_timeout=app.lock_timeout)
    rules = load_rules(app.config_dir)
    day = dt.date(2026, 12, 8)
    brief = resolve_brief(rules, packaged_path("sample_data") / "brief_a005.yaml", {"date": day})
    plan = plan_sessions(live, brief, rules)
    plan_id = plan.plan_id
    if plan_id is None or plan.items is None:
        return
    sheet = session_sheet(plan_id, plan.items, 1)
    if sheet is None:
        return
    out.note(
        _(
            "\n12. 跟播 and 场控: plan {plan_id} for A005 on {day}, its orders simulated as the "
            "back-office export grows; snapshots (haowu live {plan_id} --once), a re-plan at "
            "21:10 (haowu live replan {plan_id} --at 21:10), and the new version followed"
        ).format(plan_id=plan.plan_id, day=day),
        style="bold",
    )
    out.note(
        _(
            "   (in a copy of the demo database, {copy}, so that the steps above keep theirs; "
            "the simulated exports go to {drop})"
        ).format(copy=copy, drop=work / "live")
    )
    rows = simulate(sheet, 3000, seed=7, category_heat={"美妆": 1.8, "食品": 0.6})
    drop = work / "live"
    drop.mkdir()
    export = drop / "订单导出.csv"

    def snapshot(hhmm: str) -> None:
        moment = dt.datetime.combine(day, dt.time.fromisoformat(hhmm))
        write_export(export, paid_by(rows, moment))
        import_sources(app, [export], quiet=True, store=live, today=max(dates.today(), day))
        in_force = sheet_in_force(live, plan_id, 1, moment) or sheet
        lines = snapshot_screen(figures_at(live, in_force, rules, moment))[0]
        for line in lines:
            out.print_line(f"   {line}")

    snapshot("20:30")
    snapshot("21:10")
    at = dt.datetime.combine(day, dt.time(21, 10))
    result = replan(live, plan_id, rules, at=at)
    show_replan(out, result, run_sheet=False)
    snapshot("21:40")
    out.note(
        _("   follow it yourself: haowu --db {db} live {plan_id} --orders {drop}").format(
            db=copy, plan_id=plan.plan_id, drop=drop
        )
    )
