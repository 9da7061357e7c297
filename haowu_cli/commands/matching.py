"""`haowu match products`: the best products for an anchor (选品 before a brief)."""

import datetime as dt
from typing import Annotated

import typer

from haowu_cli.commands.common import DATE_FORMAT, FormatOption, app_context
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat

match_app = typer.Typer(help=N_("Who sells what: products for an anchor."), no_args_is_help=True)

COLUMNS = [
    Column("rank", N_("#"), "right"),
    Column("product_id", N_("product")),
    Column("merchant_id", N_("merchant")),
    Column("title", N_("title"), max_width=30),
    Column("category_l1", N_("category")),
    Column("level", N_("level")),
    Column("role", N_("role")),
    Column("live_price", N_("live price"), "right"),
    Column("commission_rate", N_("commission rate"), "right"),
    Column("expected_units", N_("units"), "right"),
    Column("expected_gmv", N_("expected GMV"), "right"),
    Column("potential", N_("潜力好货")),
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
    on: Annotated[
        dt.datetime | None,
        typer.Option("--date", help=N_("The session's date [default: today]."), **DATE_FORMAT),
    ] = None,
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
