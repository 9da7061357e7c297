"""`haowu grade`: nightly grading, `grade explain` and `grade changes`."""

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.commands.common import DATE_FORMAT, FormatOption, app_context
from haowu_cli.errors import HaowuError
from haowu_cli.i18n import N_, _, language
from haowu_cli.render import Column, Output, OutputFormat

if TYPE_CHECKING:
    from haowu_cli.grading import Explanation, GradeRun, GradingModel

grade_app = typer.Typer(
    help=N_("Grade products L0–L5 by the five-dimension model in configs/grading.yaml."),
    invoke_without_command=True,
)

DateOption = Annotated[
    dt.datetime | None,
    typer.Option("--as-of", help=N_("Grading date [default: today]."), **DATE_FORMAT),
]


class RunFormat(StrEnum):
    text = "text"
    json = "json"


@grade_app.callback()
def grade_command(
    ctx: typer.Context,
    as_of: DateOption = None,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("Grade this merchant's products only."))
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help=N_("Grade and report; keep nothing."))
    ] = False,
    log: Annotated[
        Path | None,
        typer.Option("--log", help=N_("Run log file [default: haowu.log in the user log folder].")),
    ] = None,
    fmt: Annotated[
        RunFormat, typer.Option("--format", "-f", help=N_("text (on a terminal only) or json."))
    ] = RunFormat.text,
    allow_future: Annotated[
        bool,
        typer.Option(
            "--allow-future",
            help=N_("Accept an --as-of after today; the grade counts as the latest from that day."),
        ),
    ] = False,
) -> None:
    """Grade every product as of a date and keep the result as that date's history.

    Running again for the same date replaces it; earlier dates stay. On a terminal it shows
    the level distribution and the moves since the previous run; in cron (no terminal, or
    --quiet) it prints nothing but errors and writes one line to the run log.
    """
    if ctx.invoked_subcommand is not None:
        return
    from haowu_cli import dates
    from haowu_cli.grading import L0_BASES, check_grading_date, grade_products, load_model
    from haowu_cli.runlog import run_logger

    app = app_context(ctx)
    today = dates.today()
    day = as_of.date() if as_of else today
    if log is not None:  # appended to, never the database or a planted link
        from haowu_cli import outfiles

        outfiles.check_target(log, option="--log", protect=app.protected())
    logger = run_logger(log, database=app.store().path)  # a lake: its password hidden
    try:
        check_grading_date(day, today, allow_future=allow_future)
        model = load_model(app.config_dir)
        run = grade_products(app.store(), model, day, merchant=merchant, dry_run=dry_run)
    except HaowuError as exc:
        logger.error("grade as of %s failed: %s", day, exc.message)
        raise
    except BaseException as exc:  # a crash or Ctrl-C: cron's log must say so too
        logger.error("grade as of %s failed: %s: %s", day, type(exc).__name__, exc)
        raise
    # the flagged products (no date at all), as `--format json` lists them
    flagged = ", ".join(run.undated_products)
    if run.l0_bases.get("none", 0) > len(run.undated_products):
        flagged += ", …"
    logger.info(
        "grade as of %s%s%s: %d products %s, %d up, %d down, config %s, %.2f s; "
        "L0 from joined_at=%d listed_at=%d none=%d%s",
        day,
        f" merchant {merchant}" if merchant else "",
        " (dry run)" if dry_run else "",
        run.products,
        " ".join(f"{k}={v}" for k, v in sorted(run.level_counts.items())),
        run.moved_up,
        run.moved_down,
        run.fingerprint,
        run.seconds,
        *(run.l0_bases.get(basis, 0) for basis in L0_BASES),
        f" (flagged: {flagged})" if flagged else "",
    )
    if fmt is RunFormat.json:
        app.out.write_json(run.as_json())
    elif app.out.interactive:
        show_distribution(app.out, run)


def show_distribution(out: Output, run: "GradeRun") -> None:
    """The level distribution as a small bar chart, the moves since the previous run, and
    how many products L0 could not count from their 加入快分销 date."""
    import polars as pl

    from haowu_cli.grading import LEVEL_RANK

    levels = list(LEVEL_RANK)[::-1]
    counts = [run.level_counts.get(level, 0) for level in levels]
    widest = max(counts) or 1
    frame = pl.DataFrame(
        {
            "level": levels,
            "products": counts,
            "share": [f"{c / run.products:.0%}" for c in counts],
            "bar": ["█" * round(30 * c / widest) for c in counts],
        }
    )
    what = _("dry run: would grade") if run.dry_run else _("graded")
    title = _("{what} {products:,} products as of {as_of}").format(
        what=what, products=run.products, as_of=run.as_of
    )
    columns = [
        Column("level", N_("level")),
        Column("products", N_("products"), "right"),
        Column("share", N_("share"), "right"),
        Column("bar", ""),
    ]
    out.emit(frame, OutputFormat.table, columns, title=title)
    if run.previous_as_of:
        out.info(
            _(
                "against each product's previous grade (latest {previous_as_of}): "
                "{moved_up:,} moved up, {moved_down:,} down"
            ).format(
                previous_as_of=run.previous_as_of, moved_up=run.moved_up, moved_down=run.moved_down
            )
        )
    else:
        out.info(_("no earlier grading to compare with"))
    for line in run.join_date_warnings():  # what L0 counted from, when not the join date
        out.warn(line)


@grade_app.command("explain")
def explain_command(
    ctx: typer.Context,
    product_id: Annotated[str, typer.Argument(help=N_("The product to explain."))],
    as_of: DateOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Why a product has its level, input by input, and what gets it to the next level."""
    from haowu_cli.grading import explain, explanation_rows, load_model

    app = app_context(ctx)
    model = load_model(app.config_dir)
    found = explain(app.store(), model, product_id, as_of.date() if as_of else None)
    if fmt is OutputFormat.table:
        show_explanation(app.out, model, found)
    else:
        # machine output is the same in every language: its labels and values in English
        with language("en"):
            rows = explanation_rows(model, found)
        app.out.emit(rows, fmt)


def show_explanation(out: Output, model: "GradingModel", found: "Explanation") -> None:
    import polars as pl

    from haowu_cli.grading import explanation_rows

    grade = found.grade
    frame = explanation_rows(model, found)
    title = _("{product_id} {value} ({value2}): {level}, total {total} as of {as_of}").format(
        product_id=grade["product_id"],
        value=grade.get("title") or "",
        # the category down to its finest level: 美妆>护肤>面霜
        value2=">".join(
            str(grade[c])
            for c in ("category_l1", "category_l2", "category_l3")
            if grade.get(c) is not None
        )
        or "—",
        level=grade["level"],
        total=grade["total"],
        as_of=grade["as_of"],
    )
    shown = frame.with_columns(
        (pl.col("dimension_label") + " " + pl.col("dimension_score")).alias("dimension"),
        (pl.col("dimension_weight") * 100).round(0).cast(pl.Int64).cast(pl.String) + "%",
        (pl.col("input_weight") * 100).round(0).cast(pl.Int64).cast(pl.String) + "%",
    )
    columns = [
        Column("dimension", N_("dimension (score)")),
        # two weights: the dimension's share of the total, and the input's share of its dimension
        Column("dimension_weight", N_("dimension weight"), "right"),
        Column("input_label", N_("input")),
        Column("value", N_("value"), "right"),
        Column("input_score", N_("score"), "right"),
        Column("input_weight", N_("weight in dimension"), "right"),
    ]
    out.emit(shown, OutputFormat.table, columns, title=title)
    out.print_line(_("level rule: {rule}").format(rule=found.rule))
    benefits = model.benefits_of(grade["level"])
    out.print_line(
        _("benefits (权益) at {level}: {benefits}").format(
            level=grade["level"], benefits="、".join(benefits) if benefits else _("none")
        )
    )
    for line in found.advice:
        out.print_line(line)
    if found.l0_basis == "joined_at":
        out.print_line(found.dates_note)
    else:  # the listing date stood in, or there is no date at all: the product is flagged
        out.warn(found.dates_note)
    if not found.current:
        out.warn(_("the product's data changed since this grade; grade again to refresh it"))


@grade_app.command("changes")
def changes_command(
    ctx: typer.Context,
    since: Annotated[
        dt.datetime | None,
        typer.Option("--since", help=N_("Changes on or after this date."), **DATE_FORMAT),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Products whose level changed from one grading date to the next: old and new."""
    from haowu_cli import store as db

    app = app_context(ctx)
    with app.store().read() as con:
        changes = db.level_changes(con, since.date() if since else None)
    columns = [
        Column("product_id", N_("product")),
        Column("merchant_id", N_("merchant")),
        Column("title", N_("title"), max_width=30),
        Column("previous_as_of", N_("from date")),
        Column("previous_level", N_("from")),
        Column("as_of", N_("to date")),
        Column("level", N_("to")),
        Column("direction", N_("move")),
    ]
    app.out.emit(
        changes, fmt, columns, footer=_("{height} level changes").format(height=changes.height)
    )
