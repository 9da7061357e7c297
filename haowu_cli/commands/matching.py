"""`haowu match products`: the best products for an anchor (选品 before a brief)."""

import datetime as dt
from typing import Annotated

import typer

from haowu_cli.commands.common import DATE_FORMAT, FormatOption, app_context
from haowu_cli.i18n import N_, _, ngettext
from haowu_cli.render import Column, OutputFormat
from haowu_cli.roles import role_label

match_app = typer.Typer(help=N_("Who sells what: products for an anchor."), no_args_is_help=True)

COLUMNS = [
    Column("rank", N_("#"), "right"),
    Column("product_id", N_("product")),
    Column("merchant_id", N_("merchant")),
    Column("title", N_("title"), max_width=30),
    Column("category_l1", N_("category")),
    Column("level", N_("level")),
    Column("role", N_("role"), words=role_label),
    Column("live_price", N_("live price"), "right"),
    Column("commission_rate", N_("commission rate"), "right"),
    Column("expected_units", N_("units"), "right"),
    Column("expected_gmv", N_("expected GMV"), "right"),
    Column("potential", N_("潜力好货")),
]

# Both answers are for a session on a day.
SessionDateOption = Annotated[
    dt.datetime | None,
    typer.Option("--date", help=N_("The session's date [default: today]."), **DATE_FORMAT),
]


@match_app.command("products")
def match_products_command(
    ctx: typer.Context,
    anchor: Annotated[str, typer.Option("--anchor", help=N_("The anchor (达人ID)."))],
    min_level: Annotated[
        str | None,
        typer.Option("--min-level", help=N_("Only products graded at least this level (L0–L5).")),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, help=N_("At most this many [default: 20].")),
    ] = 20,
    on: SessionDateOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The products an anchor is expected to sell best, by the planner's expected-sales
    model, with 潜力好货 flagged (configs/match.yaml)."""
    import polars as pl

    from haowu_cli import dates, formats
    from haowu_cli.errors import UsageError
    from haowu_cli.grading import LEVEL_RANK
    from haowu_cli.planner.matching import load_potential, match_products
    from haowu_cli.planner.rules import load_rules

    app = app_context(ctx)
    if min_level is not None and min_level.upper() not in LEVEL_RANK:
        raise UsageError(
            _("--min-level: expected a level L0–L5, got {value!r}").format(value=min_level)
        )
    rules = load_rules(app.config_dir)
    potential = load_potential(app.config_dir)
    day = on.date() if on else dates.today()
    found = match_products(
        app.store(),
        rules,
        potential,
        anchor,
        on=day,
        min_level=min_level and min_level.upper(),
        limit=limit,
    )
    if fmt is OutputFormat.table:
        shown = found.with_columns(
            formats.yuan_label(pl.col("live_price_fen")).alias("live_price"),
            formats.percent(pl.col("commission_rate")).alias("commission_rate"),
            formats.yuan_label(pl.col("expected_gmv_fen")).alias("expected_gmv"),
            pl.when(pl.col("potential")).then(pl.lit("✓")).otherwise(pl.lit("")).alias("potential"),
        )
        title = _("products for anchor {anchor} on {date}").format(anchor=anchor, date=day)
        app.out.emit(shown, fmt, COLUMNS, title=title)
    else:
        app.out.emit(
            found.select(
                "rank",
                "product_id",
                "merchant_id",
                "title",
                "category_l1",
                "level",
                "role",
                formats.yuan(pl.col("live_price_fen")).alias("live_price"),
                formats.decimal_text(pl.col("commission_rate")).alias("commission_rate"),
                "expected_units",
                formats.yuan(pl.col("expected_gmv_fen")).alias("expected_gmv"),
                formats.yuan(pl.col("commission_fen")).alias("expected_commission"),
                formats.yuan(pl.col("team_income_fen")).alias("expected_team_income"),
                "potential",
            ),
            fmt,
        )


ANCHOR_TABLE = [
    Column("rank", N_("#"), "right"),
    Column("anchor_id", N_("anchor")),
    Column("anchor_name", N_("name"), max_width=12),
    Column("fit", N_("fit"), "right"),
    # one session of this anchor on its own (the goal's lines share the stock between them)
    Column("expected_gmv", N_("expected GMV, one session"), "right"),
    Column("expected_commission", N_("commission"), "right"),
    Column("categories_matched", N_("categories"), max_width=14),
    Column("price_shown", N_("price ÷ ticket"), "right"),
    Column("fans_shown", N_("fans (female, age)"), max_width=22),
    Column("gmv_per_hour_shown", N_("GMV per hour"), "right"),
    Column("history_shown", N_("history"), max_width=16),
    Column("goal_session", N_("session # for the goal"), "right"),
]


@match_app.command("anchors")
def match_anchors_command(
    ctx: typer.Context,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("The merchant (商家ID)."))
    ] = None,
    brand: Annotated[
        str | None,
        typer.Option(
            "--brand",
            help=N_("Only the products of this brand (品牌); its merchant when it has only one."),
        ),
    ] = None,
    product: Annotated[
        list[str] | None,
        typer.Option(
            "--product", help=N_("Only this product of the merchant (商品ID); repeat for more.")
        ),
    ] = None,
    goal: Annotated[
        str | None,
        typer.Option(
            "--goal",
            help=N_("A sales target in yuan (5000000, 500万): which sessions reach it."),
        ),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, help=N_("Show at most this many anchors [default: 20].")),
    ] = 20,
    on: SessionDateOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Anchors ranked for a merchant's products by expected GMV and fit, with the reasons
    (configs/match.yaml); with --goal, how many sessions with which anchors reach it."""
    from haowu_cli import dates
    from haowu_cli.errors import UsageError
    from haowu_cli.planner.anchors import load_anchor_model, match_anchors, yuan_to_fen
    from haowu_cli.planner.rules import load_rules

    app = app_context(ctx)
    if merchant is None and brand is None:
        raise UsageError(_("name the goods: --merchant M, --brand B or both"))
    goal_fen = None
    if goal is not None:
        goal_fen = yuan_to_fen(goal)
        if goal_fen is None:
            raise UsageError(
                _(
                    "--goal: expected an amount in yuan above 0 (5000000, 500万), got {value!r}"
                ).format(value=goal)
            )
    rules = load_rules(app.config_dir)
    model = load_anchor_model(app.config_dir)
    day = on.date() if on else dates.today()
    found = match_anchors(
        app.store(),
        rules,
        model,
        merchant,
        on=day,
        product_ids=tuple(product or ()),
        goal_fen=goal_fen,
        brand=brand,
    )
    merchant = found.merchant_id
    left_out = sum(found.not_eligible.values())
    if left_out:
        common = sorted(found.why_not_eligible.items(), key=lambda item: (-item[1], item[0]))
        shown = "; ".join(f"{reason} ({count})" for reason, count in common[:3])
        app.out.notice(
            ngettext(
                "{count} of {total} products of {merchant} left out by session.yaml's brief "
                "defaults: {reasons}",
                "{count} of {total} products of {merchant} left out by session.yaml's brief "
                "defaults: {reasons}",
                left_out,
            ).format(
                count=left_out,
                total=found.products,
                merchant=merchant,
                reasons=shown + ("; …" if len(common) > 3 else ""),
            )
        )
    from haowu_cli.planner.anchor_output import (
        anchors_json,
        anchors_machine,
        anchors_table,
        goal_lines,
    )

    if fmt is OutputFormat.json:
        app.out.write_json(anchors_json(found, limit))
    elif fmt is OutputFormat.csv:
        app.out.emit(anchors_machine(found, limit), fmt)
    else:
        title = _(
            "anchors for merchant {merchant} on {date}: {eligible} products, sessions of "
            "{minutes} minutes"
        ).format(
            merchant=merchant, date=day, eligible=found.eligible, minutes=found.session_minutes
        )
        app.out.emit(anchors_table(found, limit), fmt, ANCHOR_TABLE, title=title)
        for line in goal_lines(found):
            app.out.print_line(line)
