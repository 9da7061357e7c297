"""`haowu products` and `haowu export products`: what is in the database, for people and files."""

from typing import Annotated

import typer

from haowu_cli.commands.common import (
    ExcelOption,
    FormatOption,
    OutOption,
    XlsxOption,
    app_context,
    write_export,
)
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat

TABLE_ROWS = 50  # written out in the --limit help too

TABLE_COLUMNS = [
    Column("product_id", N_("product")),
    Column("merchant_id", N_("merchant")),
    Column("title", N_("title"), max_width=30),
    Column("category_l1", N_("category")),
    Column("live_price", N_("live price"), "right"),
    Column("commission_rate", N_("commission rate"), "right"),
    Column("service_fee_rate", N_("service fee rate"), "right"),
    Column("stock", N_("stock"), "right"),
    Column("level", N_("level")),
    Column("benefits", N_("benefits (权益)"), max_width=24),
]
SORTS = ("level", "commission", "sales", "gmv")

export_app = typer.Typer(help=N_("Write data as CSV for finance and Excel."), no_args_is_help=True)


def products_command(
    ctx: typer.Context,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("Only this merchant."))
    ] = None,
    category: Annotated[
        str | None,
        typer.Option(
            "--category",
            help=N_(
                "Only this category: 一级, 二级 or 三级类目, or a path such as 美妆>护肤>面霜."
            ),
        ),
    ] = None,
    search: Annotated[
        str | None,
        typer.Option("--search", help=N_("Text in the title or brand, or a product ID.")),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help=N_("At most this many [default: 50 in a table, all in csv/json]."),
        ),
    ] = None,
    min_level: Annotated[
        str | None,
        typer.Option("--min-level", help=N_("Only products graded at least this level (L0–L5).")),
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help=N_("Best first by level, commission (rate), sales (30 days) or gmv (30 days)."),
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List products: a table for people, or every field as CSV or JSON."""

    from haowu_cli.errors import UsageError
    from haowu_cli.grading import LEVEL_RANK, load_model
    from haowu_cli.products import (
        export_frame,
        find_products,
        listing_frame,
        rank_products,
        with_benefits,
    )

    app = app_context(ctx)
    if min_level is not None and min_level.upper() not in LEVEL_RANK:
        raise UsageError(
            _("--min-level: expected a level L0–L5, got {value!r}").format(value=min_level)
        )
    if sort is not None and sort not in SORTS:
        raise UsageError(
            _("--sort: expected one of {join}, got {value!r}").format(
                join=", ".join(SORTS), value=sort
            )
        )
    benefits = load_model(app.config_dir).benefits
    shown = limit or (TABLE_ROWS if fmt is OutputFormat.table else None)
    ranked = min_level is not None or sort is not None
    found = find_products(
        app.store(),
        merchant=merchant,
        category=category,
        search=search,
        limit=shown + 1 if shown and not ranked else None,
    )
    if ranked:
        found = rank_products(found, min_level=min_level and min_level.upper(), sort=sort)
    found = with_benefits(found, benefits)
    more = shown is not None and found.height > shown
    found = found.head(shown) if shown else found
    if fmt is OutputFormat.table:
        footer = (
            _("{count} products shown; more match (--limit N, or --format csv for all)")
            if more
            else _("{count} products")
        ).format(count=found.height)
        app.out.emit(listing_frame(found), fmt, TABLE_COLUMNS, footer=footer)
    else:
        app.out.emit(export_frame(found), fmt)


@export_app.command("products")
def export_products_command(
    ctx: typer.Context,
    out: OutOption = None,
    excel: ExcelOption = False,
    xlsx: XlsxOption = False,
) -> None:
    """Every product as CSV: canonical column names, money in yuan, rates as fractions."""
    from haowu_cli.products import export_frame, export_kinds, find_products

    app = app_context(ctx)
    frame = export_frame(find_products(app.store()))
    write_export(
        app,
        frame,
        out,
        excel=excel,
        xlsx=xlsx,
        kinds=export_kinds(),
        what=_("{height} products").format(height=frame.height),
        sheet="products",
    )


ANCHOR_COLUMNS = [
    Column("anchor_id", N_("anchor")),
    Column("name", N_("name")),
    Column("fans", N_("fans"), "right"),
    Column("female_share", N_("female"), "right"),
    Column("age_band", N_("age")),
    Column("avg_ticket", N_("avg ticket"), "right"),
    Column("categories", N_("categories")),
    Column("gmv_per_hour", N_("GMV / hour"), "right"),
    Column("mcn", N_("MCN")),
    Column("mcn_share", N_("MCN share"), "right"),
]


def anchors_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List anchors (达人) imported with `haowu import --kind anchors`."""
    import polars as pl

    from haowu_cli.products import anchors_frame, find_anchors

    app = app_context(ctx)
    frame = anchors_frame(find_anchors(app.store()))
    if fmt is not OutputFormat.json:  # CSV and tables hold text: one cell, 、-separated
        frame = frame.with_columns(pl.col("categories").list.join("、"))
    app.out.emit(
        frame, fmt, ANCHOR_COLUMNS, footer=_("{height} anchors").format(height=frame.height)
    )
