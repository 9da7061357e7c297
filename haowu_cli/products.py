"""Products as people and machines see them: listing filters and the canonical export shape."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from haowu_cli import formats
from haowu_cli import store as db
from haowu_cli.ingest.columns import PRODUCTS


def find_products(
    store: db.Store,
    *,
    merchant: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Stored products (money in fen, rates as DECIMAL fractions) matching the filters."""
    with store.read() as con:
        return db.query_products(
            con, merchant=merchant, category=category, search=search, limit=limit
        )


def export_frame(products: pl.DataFrame) -> pl.DataFrame:
    """The canonical export: field names as in `configs/columns.yaml`, money in yuan with two
    decimals, rates as fractions (0.2), scores as decimals, dates ISO, yes/no as true/false,
    then `extra` (the sheet's own columns haowu does not know, as JSON), then the latest
    grade: `level` and `total_score`."""
    columns = []
    for f in PRODUCTS.fields:
        value = pl.col(f.column)
        if f.type.name == "money":
            value = formats.yuan(value)
        elif f.type.name in ("rate", "score"):
            value = formats.decimal_text(value)
        elif f.type.name == "date":
            value = value.cast(pl.String)
        columns.append(value.alias(f.name))
    columns.append(pl.col("extra"))
    columns += [pl.col("level"), formats.decimal_text(pl.col("total_score")).alias("total_score")]
    if "benefits" in products.columns:
        columns.append(pl.col("benefits"))
    return products.select(columns)


SORT_COLUMNS = {"commission": "commission_rate", "sales": "sales_30d", "gmv": "gmv_30d_fen"}


def rank_products(
    products: pl.DataFrame, *, min_level: str | None = None, sort: str | None = None
) -> pl.DataFrame:
    """Products at `min_level` or above (ungraded ones left out), best first by `sort`
    (level, commission, sales or gmv; ties by product ID)."""
    from haowu_cli.grading import LEVEL_RANK

    rank = pl.col("level").replace_strict(LEVEL_RANK, default=None, return_dtype=pl.Int64)
    if min_level is not None:
        products = products.filter(rank >= LEVEL_RANK[min_level])
    if sort == "level":
        key = rank
    elif sort is not None:
        key = pl.col(SORT_COLUMNS[sort])
    else:
        return products
    return (
        products.with_columns(key.alias("_key"))
        .sort(["_key", "product_id"], descending=[True, False], nulls_last=True)
        .drop("_key")
    )


def export_kinds() -> dict[str, str]:
    """What each column of the export holds (`exporting`): for Excel, text is neutralised
    and IDs stay text."""
    from haowu_cli.exporting import field_kinds

    return field_kinds(PRODUCTS.fields) | {"total_score": "number"}


def with_benefits(products: pl.DataFrame, benefits: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """`products` with a `benefits` column: the platform's 权益 at each product's level
    (`benefits:` in configs/grading.yaml), ";"-separated; "" for none or no grade."""
    return products.with_columns(
        pl.col("level")
        .replace_strict(
            {k: ";".join(v) for k, v in benefits.items()}, default="", return_dtype=pl.String
        )
        .alias("benefits")
    )


def listing_frame(products: pl.DataFrame) -> pl.DataFrame:
    """The columns of the terminal table, formatted for people (¥59.90, 20%)."""
    return products.select(
        "product_id",
        "merchant_id",
        "title",
        "category_l1",
        formats.yuan_label(pl.col("live_price_fen")).alias("live_price"),
        formats.percent(pl.col("commission_rate")).alias("commission_rate"),
        formats.percent(pl.col("service_fee_rate")).alias("service_fee_rate"),
        pl.col("stock"),
        pl.col("level"),
        # "—": no 权益 at this level (or no grade), as other empty cells
        pl.col("benefits").str.replace_all(";", "、").replace("", "—")
        if "benefits" in products.columns
        else pl.lit("").alias("benefits"),
    )


def find_anchors(store: db.Store) -> pl.DataFrame:
    """Every anchor (达人) as stored."""
    with store.read() as con:
        return db.query_anchors(con)


def anchors_frame(anchors: pl.DataFrame) -> pl.DataFrame:
    """Anchors for people and machines: money in yuan, shares as fractions, categories
    joined with 、 (a list in JSON)."""
    return anchors.select(
        "anchor_id",
        "name",
        "fans",
        formats.decimal_text(pl.col("female_share")).alias("female_share"),
        "age_band",
        formats.yuan(pl.col("avg_ticket_fen")).alias("avg_ticket"),
        "categories",
        formats.yuan(pl.col("gmv_per_hour_fen")).alias("gmv_per_hour"),
        "mcn",
        formats.decimal_text(pl.col("mcn_share")).alias("mcn_share"),
    )
