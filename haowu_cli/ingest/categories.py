"""Category paths: the platform writes a product's category as one path from the first level
to the third, `美妆护肤>面部护理>洁面` (一级>二级>三级类目; `itemCategoryName` in its activity
JSON, see PLATFORM_FORMATS.md). A sheet may carry such a path in its category column; it fills
`category_l1`, `category_l2` and `category_l3`.

Only `>` (or its full-width form `＞`) separates levels. `/` and `-` are not separators: the
platform does not use them in paths, and they occur inside real category names (`T恤/POLO衫`,
`T-shirt`), which splitting would break apart.
"""

from __future__ import annotations

import polars as pl

LEVELS = ("category_l1", "category_l2", "category_l3")
SEPARATOR = r"[>＞]"


def split_category_paths(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows whose `category_l1` holds a path get its parts as their three levels.

    A level the sheet gives in its own column (二级类目, 三级类目) wins over the path's part for
    that row. When any row of the rows has a path, all three levels are written for every row
    (a row without a path has no second or third level unless its own columns say so): the
    category column then says the whole category. A path deeper than three levels keeps the
    rest in the third (`A>B>C>D`: `C>D`). Rows without any path are left as they are.
    """
    if "category_l1" not in rows.columns:
        return rows
    has_path = rows["category_l1"].str.contains(SEPARATOR)
    if not has_path.any():
        return rows
    parts = (
        pl.col("category_l1")
        .str.replace_all("＞", ">")
        .str.split(">")
        .list.eval(pl.element().str.strip_chars())
    )
    rest = parts.list.slice(2).list.join(">")

    def part(expr: pl.Expr) -> pl.Expr:
        return pl.when(expr == "").then(None).otherwise(expr)

    from_path = {
        "category_l1": part(parts.list.get(0, null_on_oob=True)),
        "category_l2": part(parts.list.get(1, null_on_oob=True)),
        "category_l3": part(rest),
    }
    own = {name: pl.col(name) if name in rows.columns else pl.lit(None) for name in LEVELS}
    return rows.with_columns(
        from_path["category_l1"].alias("category_l1"),
        *[
            pl.coalesce(own[name].cast(pl.String), from_path[name]).alias(name)
            for name in LEVELS[1:]
        ],
    )
