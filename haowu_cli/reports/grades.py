"""Grades: the level distribution on a grading date, overall and by category, and the moves
since each product's previous grade (the same comparison `haowu grade` reports)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from haowu_cli import formats
from haowu_cli import store as db
from haowu_cli.dates import today as dates_today
from haowu_cli.errors import HaowuError
from haowu_cli.grading import LEVEL_RANK
from haowu_cli.i18n import N_, _
from haowu_cli.reports.document import Chart, Figure, Report, Series, Table, bar
from haowu_cli.tables import Column

TOP_DOWN = sorted(LEVEL_RANK, key=LEVEL_RANK.__getitem__, reverse=True)  # L5 … L0
# The categories table's first column at each level: the category's path down to it.
CATEGORY_COLUMNS = {1: "category_l1", 2: "category_l2", 3: "category_l3"}


def grades_report(
    store: db.Store,
    as_of: dt.date | None,
    *,
    today: dt.date | None = None,
    benefits: Mapping[str, Sequence[str]] | None = None,
    category_level: int = 1,
) -> Report:
    """The grades on `as_of`, by default on the latest grading date not after `today`
    (default: `dates.today()`). `benefits`: each level's 权益 (grading.yaml), shown with the
    distribution; `category_level`: the categories table by 一级 (1), 二级 (2) or 三级 (3)
    类目, each named by its path from the first level (`美妆>护肤`)."""
    with store.read() as con:
        dates = db.grading_dates(con)
        if not dates:
            raise HaowuError(_("no grades yet"), hint=_("grade the products first: haowu grade"))
        if as_of is None:
            # The latest grading that is not in the future, as everywhere (store.LATEST_GRADES).
            today = today or dates_today()
            as_of = next((d for d in dates if d <= today), None)
            if as_of is None:
                shown = ", ".join(str(d) for d in dates[-5:])
                raise HaowuError(
                    _("no grades dated today ({today}) or earlier; graded on: {shown}").format(
                        today=today, shown=shown
                    ),
                    hint=_("name a grading date with --as-of"),
                )
        if as_of not in dates:
            shown = ", ".join(str(d) for d in dates[:5])
            raise HaowuError(
                _("no grades on {as_of}").format(as_of=as_of),
                hint=_("graded on: {shown}").format(shown=shown),
            )
        # per category (down to category_level), level and previous level
        counts = db.grade_counts(con, as_of, category_level=category_level)
        moves = db.grade_moves(con, as_of)
    rank = pl.col("level").replace_strict(LEVEL_RANK, return_dtype=pl.Int64)
    before = pl.col("previous_level").replace_strict(LEVEL_RANK, return_dtype=pl.Int64)
    moves = moves.with_columns(
        rank.alias("rank"),
        pl.when(rank > before).then(pl.lit("up")).otherwise(pl.lit("down")).alias("direction"),
    )
    up = moves.filter(pl.col("direction") == "up").height
    down = moves.height - up
    first = int(counts.filter(pl.col("previous_level").is_null())["products"].sum())
    previous = counts["previous_as_of"].max()
    graded = int(counts["products"].sum())
    distribution = _distribution(counts, benefits or {})
    by_category = _by_category(counts)
    column = CATEGORY_COLUMNS[category_level]
    return Report(
        kind="grades",
        title=_("Grades: {graded:,} products as of {as_of}").format(graded=graded, as_of=as_of),
        subtitle=(
            _(
                "levels L5 (精选好物) to L0 by configs/grading.yaml; moves against each "
                "product's previous grade (latest {previous})"
            ).format(previous=previous)
            if previous
            else _(
                "levels L5 (精选好物) to L0 by configs/grading.yaml; no earlier grades to compare"
            )
        ),
        figures=[
            Figure("as_of", _("graded on"), str(as_of), str(as_of)),
            Figure("products", _("products"), graded, f"{graded:,}"),
            *[
                Figure(
                    f"level_{level}",
                    level,
                    int(count),
                    f"{count:,} ({share})",
                )
                for level, count, share in zip(
                    distribution["level"],
                    distribution["products"],
                    distribution["share_text"],
                    strict=True,
                )
                if level in ("L5", "L4")
            ],
            Figure("moved_up", _("moved up"), up, f"{up:,}"),
            Figure("moved_down", _("moved down"), down, f"{down:,}"),
            Figure("first_graded", _("graded for the first time"), first, f"{first:,}"),
        ],
        tables=[
            _distribution_table(distribution),
            _category_table(by_category.rename({"category": column}), column),
            _moves_table(moves),
        ],
        charts=_charts(distribution, by_category),
    )


def _distribution(counts: pl.DataFrame, benefits: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    per_level = counts.group_by("level").agg(pl.col("products").sum())
    total = int(counts["products"].sum())
    return (
        pl.DataFrame(
            {
                "level": TOP_DOWN,
                "benefits": [";".join(benefits.get(level, ())) for level in TOP_DOWN],
            }
        )
        .join(per_level, on="level", how="left", maintain_order="left")
        .with_columns(pl.col("products").fill_null(0).cast(pl.Int64))
        .with_columns(
            formats.ratio(pl.col("products"), pl.lit(total)).alias("share"),
            formats.share(pl.col("products"), pl.lit(total)).alias("share_text"),
        )
    )


def _by_category(counts: pl.DataFrame) -> pl.DataFrame:
    """Products per category and level, one column per level, L5 first."""
    wide = (
        counts.with_columns(pl.col("category").fill_null("—"))
        .group_by("category", "level")
        .agg(pl.col("products").sum())
        .pivot("level", index="category", values="products")
    )
    for level in TOP_DOWN:
        if level not in wide.columns:
            wide = wide.with_columns(pl.lit(0, dtype=pl.Int64).alias(level))
    return (
        wide.select("category", *[pl.col(c).fill_null(0).cast(pl.Int64) for c in TOP_DOWN])
        .with_columns(pl.sum_horizontal(TOP_DOWN).alias("products"))
        .sort(["products", "category"], descending=[True, False])
    )


def _distribution_table(distribution: pl.DataFrame) -> Table:
    # (a count: polars types an integer column's max as any scalar)
    widest = int(distribution["products"].max() or 0)  # type: ignore[arg-type]
    view = distribution.select(
        "level",
        "products",
        pl.col("share_text").alias("share"),
        pl.col("products")
        .map_elements(lambda v: bar(v, widest, 30), return_dtype=pl.String)
        .alias("bar"),
        pl.col("benefits").str.replace_all(";", "、"),
    )
    columns = [
        Column("level", N_("level")),
        Column("products", N_("products"), "right"),
        Column("share", N_("share"), "right"),
        Column("bar", ""),
        Column("benefits", N_("benefits (权益)")),
    ]
    frame = distribution.select("level", "products", "share", "benefits")
    return Table("levels", _("level distribution"), frame, view, columns)


def _category_table(by_category: pl.DataFrame, column: str) -> Table:
    top = pl.col("L5") + pl.col("L4")
    frame = by_category.with_columns(formats.ratio(top, pl.col("products")).alias("l4_up_share"))
    view = by_category.with_columns(
        formats.share(top, pl.col("products"), 0).alias("l4_up_share")
    ).with_columns(pl.col(TOP_DOWN).cast(pl.String))
    columns = [
        Column(column, N_("category")),
        *[Column(level, level, "right") for level in TOP_DOWN],
        Column("products", N_("products"), "right"),
        Column("l4_up_share", N_("L4 and up"), "right"),
    ]
    return Table("categories", _("levels by category"), frame, view, columns)


def _moves_table(moves: pl.DataFrame) -> Table:
    ordered = moves.sort(
        ["direction", "rank", "product_id"], descending=[True, True, False]
    )  # up first, highest new level first
    frame = ordered.select(
        "product_id",
        "merchant_id",
        "title",
        "category_l1",
        pl.col("previous_as_of").cast(pl.String),
        "previous_level",
        "level",
        "direction",
    )
    view = ordered.select(
        "product_id",
        "merchant_id",
        "title",
        pl.col("category_l1").fill_null("—"),
        pl.concat_str([pl.col("previous_level"), pl.lit(" → "), pl.col("level")]).alias("move"),
        pl.when(pl.col("direction") == "up")
        .then(pl.lit("▲ up"))
        .otherwise(pl.lit("▼ down"))
        .alias("direction"),
        pl.col("previous_as_of").cast(pl.String),
    )
    columns = [
        Column("product_id", N_("product")),
        Column("merchant_id", N_("merchant")),
        Column("title", N_("title"), max_width=22),
        Column("category_l1", N_("category")),
        Column("move", N_("move")),
        Column("direction", ""),
        Column("previous_as_of", N_("previous grade")),
    ]
    return Table(
        "moves",
        _("moves since the previous grades ({height:,})").format(height=moves.height),
        frame,
        view,
        columns,
        empty=_("no product changed level"),
    )


def _charts(distribution: pl.DataFrame, by_category: pl.DataFrame) -> list[Chart]:
    counts = [int(v) for v in distribution["products"]]
    return [
        Chart(
            "levels",
            _("level distribution"),
            "bars",
            distribution["level"].to_list(),
            [
                Series(
                    "products",
                    counts,
                    [
                        f"{c:,} ({s})"
                        for c, s in zip(counts, distribution["share_text"], strict=True)
                    ],
                )
            ],
        ),
        Chart(
            "levels_by_category",
            _("levels by category (share of each category's products)"),
            "stacked",
            by_category["category"].to_list(),
            [
                Series(
                    level,
                    [int(v) for v in by_category[level]],
                    [str(v) for v in by_category[level]],
                )
                for level in TOP_DOWN
            ],
        ),
    ]
