"""`haowu activity`: 招商活动 — create, list, show, review (审核), decide, export the results."""

import getpass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from haowu_cli.commands.common import (
    ExcelOption,
    FormatOption,
    OutOption,
    app_context,
    write_export,
)
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat

activity_app = typer.Typer(
    help=N_(
        "招商活动: define activities, take 报名 (haowu import --kind applications), review "
        "them by the activity's rules, send the results back."
    ),
    no_args_is_help=True,
)

ActivityArg = Annotated[str, typer.Argument(help=N_("The activity's ID."), show_default=False)]

LIST_COLUMNS = [
    Column("activity_id", N_("activity")),
    Column("name", "name", max_width=24),
    Column("activity_type", N_("type")),
    Column("apply_until", "报名截止"),
    Column("starts_at", N_("starts")),
    Column("ends_at", N_("ends")),
    Column("applications", N_("applied"), "right"),
    Column("passed", "通过", "right"),
    Column("rejected", "拒绝", "right"),
    Column("manual", "待人工", "right"),
    Column("pending", "待审核", "right"),
]

APPLICATION_COLUMNS = [
    Column("merchant_id", "merchant"),
    Column("product_id", "product"),
    Column("title", "title", max_width=24),
    Column("category_l1", "category"),
    Column("activity_price", "活动价", "right"),
    Column("commission_rate", "佣金", "right"),
    Column("stock", "stock", "right"),
    Column("result", "审核"),
    Column("reasons", N_("reasons"), max_width=50),
    Column("decided_by", N_("by")),
]


@activity_app.command("create")
def create_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help=N_("The activity's YAML file."), show_default=False)],
) -> None:
    """Create an activity from its YAML file (or the platform's activity JSON), or update
    the one with the same ID (its applications and decisions stay; review again to apply
    changed rules)."""
    from haowu_cli.activities import create_activity

    app = app_context(ctx)
    activity, new = create_activity(app.store(), file, app.config_dir)
    said = (
        _("created activity {id} ({name}): {windows} windows, rules {fingerprint}")
        if new
        else _("updated activity {id} ({name}): {windows} windows, rules {fingerprint}")
    )
    app.out.info(
        said.format(
            id=activity.activity_id,
            name=activity.name,
            windows=len(activity.windows),
            fingerprint=activity.fingerprint,
        )
    )


@activity_app.command("list")
def list_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """Every activity with its windows and its applications by status."""
    from haowu_cli import store as db

    app = app_context(ctx)
    store = app.store()
    if not store.exists():
        import polars as pl

        frame = pl.DataFrame(schema={c.name: pl.String for c in LIST_COLUMNS})
    else:
        with store.read() as con:
            frame = db.query_activities(con)
        if fmt is not OutputFormat.table:
            import polars as pl

            from haowu_cli.formats import timestamp

            times = ("apply_until", "starts_at", "ends_at")
            frame = frame.with_columns(timestamp(pl.col(c)).alias(c) for c in times)
    app.out.emit(
        frame, fmt, LIST_COLUMNS, footer=_("{count} activities").format(count=frame.height)
    )


@activity_app.command("show")
def show_command(
    ctx: typer.Context, activity_id: ActivityArg, fmt: FormatOption = OutputFormat.table
) -> None:
    """An activity: its windows and rules, and every application with its 审核 result."""
    from haowu_cli.activities import ACTIVITY_TYPES, applications, results_frame

    app = app_context(ctx)
    activity, apps = applications(app.store(), activity_id)
    frame = results_frame(apps)
    if fmt is OutputFormat.json:
        import polars as pl

        from haowu_cli.formats import timestamp, timestamp_text

        apps = apps.with_columns(timestamp(pl.col("decided_at")).alias("decided_at"))
        app.out.write_json(
            {
                "activity_id": activity.activity_id,
                "name": activity.name,
                "type": activity.activity_type,
                "apply_until": timestamp_text(activity.apply_until),
                "windows": [
                    {
                        "name": w.name,
                        "kind": w.kind,
                        "start": timestamp_text(w.starts_at),
                        "end": timestamp_text(w.ends_at),
                    }
                    for w in activity.windows
                ],
                "categories": list(activity.categories),
                "anchors": list(activity.anchors),
                "merchants": list(activity.merchants),
                "rules": activity.rules,
                "rules_fingerprint": activity.fingerprint,
                "applications": apps.to_dicts(),
            }
        )
        return
    if fmt is OutputFormat.csv:
        app.out.emit(frame, fmt)
        return
    app.out.print_line(
        f"{activity.activity_id}  {activity.name}  {_(ACTIVITY_TYPES[activity.activity_type])}"
    )
    for w in activity.windows:
        app.out.print_line(
            f"  {w.name} ({w.kind}): {w.starts_at:%Y-%m-%d %H:%M} – {w.ends_at:%Y-%m-%d %H:%M}"
        )
    if activity.apply_until:
        app.out.print_line(
            _("  报名截止: {when}").format(when=f"{activity.apply_until:%Y-%m-%d %H:%M}")
        )
    for label, values in (
        (_("categories"), activity.categories),
        (_("invited anchors"), activity.anchors),
        (_("merchants"), activity.merchants),
    ):
        if values:
            app.out.print_line(f"  {label}: {'、'.join(values)}")
    rules = ", ".join(f"{k}={v}" for k, v in activity.rules.items() if v is not None)
    app.out.print_line(
        _("  rules ({fingerprint}): {rules}").format(fingerprint=activity.fingerprint, rules=rules)
    )
    app.out.emit(
        frame,
        fmt,
        APPLICATION_COLUMNS,
        footer=_("{count} applications").format(count=frame.height),
    )


class ReviewFormat(StrEnum):
    text = "text"
    json = "json"


@activity_app.command("review")
def review_command(
    ctx: typer.Context,
    activity_id: ActivityArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Show what the review would decide; keep nothing."))
    ] = False,
    fmt: Annotated[
        ReviewFormat, typer.Option("--format", "-f", help=N_("text for people; json for machines."))
    ] = ReviewFormat.text,
) -> None:
    """审核: decide every application by the activity's rules and the latest grades — 通过,
    拒绝 (every failed rule named) or 待人工. A person's decision (haowu activity decide) is
    kept: no review overrides it. Decisions are kept as history."""
    from haowu_cli.activities import STATUS_WORDS, review

    app = app_context(ctx)
    result = review(app.store(), activity_id, app.config_dir, dry_run=dry_run)
    if fmt is ReviewFormat.json:
        app.out.write_json(result.as_json())
        return
    counts = result.counts()
    head = _("dry run, nothing kept: ") if dry_run else ""
    app.out.info(
        head
        + _(
            "{id}: {total} applications: {passed} 通过, {rejected} 拒绝, {manual} 待人工; "
            "{recorded} decisions {verb}, {kept} decided by a person kept"
        ).format(
            id=result.activity.activity_id,
            total=result.summary["applications"],
            passed=counts["passed"],
            rejected=counts["rejected"],
            manual=counts["manual"],
            recorded=result.summary["recorded"],
            verb=_("would be recorded") if dry_run else _("recorded"),
            kept=result.summary["kept"],
        )
    )
    for row in result.changed[:20]:
        reasons = "；".join(row["reasons"])
        app.out.note(
            f"  {row['product_id']} ({row['merchant_id']}): {STATUS_WORDS[row['status']]}"
            + (f" — {reasons}" if reasons else "")
        )


@activity_app.command("decide")
def decide_command(
    ctx: typer.Context,
    activity_id: ActivityArg,
    product_id: Annotated[str, typer.Argument(help=N_("The product applied."), show_default=False)],
    verdict: Annotated[str, typer.Argument(help=N_("pass or reject."), show_default=False)],
    reason: Annotated[
        str | None,
        typer.Option("--reason", help=N_("Why (required to reject): the merchant sees it.")),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help=N_("Who decides [default: your user name]."))
    ] = None,
) -> None:
    """A person's decision on one application. No later review overrides it."""
    from haowu_cli.activities import decide

    app = app_context(ctx)
    who = by or getpass.getuser()
    decide(app.store(), activity_id, product_id, verdict, reason, who)
    app.out.info(
        _("{id}: product {product} {verdict} by {who}").format(
            id=activity_id, product=product_id, verdict=verdict, who=who
        )
    )


@activity_app.command("history")
def history_command(
    ctx: typer.Context,
    activity_id: ActivityArg,
    product_id: Annotated[
        str | None, typer.Argument(help=N_("One product only."), show_default=False)
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every decision on the activity's applications: when, by whom or by the review (with
    its rules' fingerprint), the grade it went by."""
    import polars as pl

    from haowu_cli import store as db
    from haowu_cli.activities import require_activity

    app = app_context(ctx)
    activity = require_activity(app.store(), activity_id)
    with app.store().read() as con:
        frame = db.decision_history(con, activity.activity_id, product_id)
    from haowu_cli.formats import timestamp

    frame = frame.with_columns(timestamp(pl.col("decided_at")).alias("decided_at"))
    if fmt is not OutputFormat.json:
        frame = frame.with_columns(pl.col("reasons").list.join("；"))
    columns = [
        Column("decision_id", "#", "right"),
        Column("product_id", "product"),
        Column("decided_at", N_("when")),
        Column("status", "status"),
        Column("reasons", N_("reasons"), max_width=50),
        Column("decided_by", N_("by")),
        Column("rules_fingerprint", N_("rules")),
        Column("level", "level"),
    ]
    app.out.emit(frame, fmt, columns, footer=_("{count} decisions").format(count=frame.height))


class ExportFormat(StrEnum):
    file = "file"
    json = "json"


@activity_app.command("export")
def export_command(
    ctx: typer.Context,
    activity_id: ActivityArg,
    out: OutOption = None,
    excel: ExcelOption = False,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("This merchant's results only."))
    ] = None,
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            "-f",
            help=N_(
                "file: the results merchants get back (CSV, or .xlsx by --out's name); "
                "json: the platform's audit shape (itemId, itemAuditStatus 2/3, reason) on stdout."
            ),
        ),
    ] = ExportFormat.file,
) -> None:
    """The 审核 results: per merchant, each product's result with every reason."""
    from haowu_cli.activities import RESULT_KINDS, applications, audit_json, results_frame

    app = app_context(ctx)
    activity, apps = applications(app.store(), activity_id)
    if merchant is not None:
        apps = apps.filter(apps["merchant_id"] == merchant)
    if fmt is ExportFormat.json:
        shaped = audit_json(apps)
        left = apps.height - len(shaped)
        if left:
            app.out.notice(
                _("{count} applications not decided yet (待审核 or 待人工) are left out").format(
                    count=left
                )
            )
        app.out.write_json(shaped)
        return
    frame = results_frame(apps)
    write_export(
        app,
        frame,
        out,
        excel=excel,
        kinds=RESULT_KINDS,
        what=_("{count} results").format(count=frame.height),
        sheet="审核结果",
    )
