"""`haowu demo`: every step haowu has, run on the bundled sample sheets in a fresh database."""

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from haowu_cli import dates
from haowu_cli.commands.common import app_context
from haowu_cli.commands.grading import show_distribution, show_explanation
from haowu_cli.commands.importing import print_report
from haowu_cli.commands.planning import STATUS_NAMES, objective_name, show_plan
from haowu_cli.commands.products import TABLE_COLUMNS
from haowu_cli.commands.reports import print_figures
from haowu_cli.config import packaged_path
from haowu_cli.errors import UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.render import OutputFormat
from haowu_cli.store import Store

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
    from haowu_cli.exporting import write_csv
    from haowu_cli.grading import explain, grade_products, load_model
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_files
    from haowu_cli.planner import plan_sessions
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.products import (
        export_frame,
        export_kinds,
        find_products,
        listing_frame,
    )
    from haowu_cli.reports.commission import PARTY_COLUMNS, commission_report
    from haowu_cli.reports.page import write_page
    from haowu_cli.reports.session import session_report
    from haowu_cli.reports.settings import load_report_rules

    app = app_context(ctx)
    if db is None and ctx.find_root().get_parameter_source("db").name == "COMMANDLINE":
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
    out.emit(listing_frame(find_products(store, limit=10)), OutputFormat.table, TABLE_COLUMNS)

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

    out.note(_("\ndemo database: {path}").format(path=store.path), style="bold")
    out.note(_("try: haowu --db {path} products --search 面霜").format(path=store.path))
    out.note(
        _("     haowu --db {path} export run-sheet {plan_id} --excel -o 排品表.csv").format(
            path=store.path, plan_id=plan.plan_id
        )
    )
    out.note(
        _("     haowu --db {path} commission --by merchant --as-of {as_of}").format(
            path=store.path, as_of=as_of
        )
    )
    out.note(
        _("     haowu --db {path} report session {plan_id} --as-of {as_of}").format(
            path=store.path, plan_id=plan.plan_id, as_of=as_of
        )
    )
    out.note(
        _("     haowu --db {path} report merchants --html merchants.html").format(path=store.path)
    )


def _product_near_next_level(store: Store) -> str:
    """A product worth explaining: the best-scored L3, whose advice shows the way to L4."""
    from haowu_cli import store as db

    with store.read() as con:
        product_id = db.best_graded_product(con, "L3")
    assert product_id is not None  # the demo has just graded its products
    return product_id
