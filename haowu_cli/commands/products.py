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
from haowu_cli.render import Column, OutputFormat

TABLE_ROWS = 50

TABLE_COLUMNS = [
    Column("product_id", "product"),
    Column("merchant_id", "merchant"),
    Column("title", "title", max_width=30),
    Column("category_l1", "category"),
    Column("live_price", "live price", "right"),
    Column("commission_rate", "commission", "right"),
    Column("service_fee_rate", "service fee", "right"),
    Column("stock", "stock", "right"),
    Column("level", "level"),
]

export_app = typer.Typer(help="Write data as CSV for finance and Excel.", no_args_is_help=True)


def products_command(
    ctx: typer.Context,
    merchant: Annotated[str | None, typer.Option("--merchant", help="Only this merchant.")] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Only this category (一级 or 二级类目).")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Text in the title or brand, or a product ID.")
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help=f"At most this many [default: {TABLE_ROWS} in a table, all in csv/json].",
        ),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List products: a table for people, or every field as CSV or JSON."""
    from haowu_cli.products import export_frame, find_products, listing_frame

    app = app_context(ctx)
    shown = limit or (TABLE_ROWS if fmt is OutputFormat.table else None)
    found = find_products(
        app.store(),
        merchant=merchant,
        category=category,
        search=search,
        limit=shown + 1 if shown else None,
    )
    more = shown is not None and found.height > shown
    found = found.head(shown) if shown else found
    if fmt is OutputFormat.table:
        footer = f"{found.height} products" + (
            " shown; more match (--limit N, or --format csv for all)" if more else ""
        )
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
        what=f"{frame.height} products",
        sheet="products",
    )


ANCHOR_COLUMNS = [
    Column("anchor_id", "anchor"),
    Column("name", "name"),
    Column("fans", "fans", "right"),
    Column("female_share", "female", "right"),
    Column("age_band", "age"),
    Column("avg_ticket", "avg ticket", "right"),
    Column("categories", "categories"),
    Column("gmv_per_hour", "GMV / hour", "right"),
    Column("mcn", "MCN"),
    Column("mcn_share", "MCN share", "right"),
]


def anchors_command(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List anchors (达人) imported with `haowu import --kind anchors`."""
    import polars as pl

    from haowu_cli.products import anchors_frame, find_anchors

    app = app_context(ctx)
    frame = anchors_frame(find_anchors(app.store()))
    if fmt is not OutputFormat.json:  # CSV and tables hold text: one cell, 、-separated
        frame = frame.with_columns(pl.col("categories").list.join("、"))
    app.out.emit(frame, fmt, ANCHOR_COLUMNS, footer=f"{frame.height} anchors")
