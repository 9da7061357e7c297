"""Write product sheets of any size, as merchants send them, for benchmarks and load tests.

    python benchmarks/generate.py ROWS OUT.csv [--encoding utf-8|gbk|utf-8-sig] [--seed N]

Values are mostly clean, with the forms real sheets mix in (¥ and 元 on prices, 万 on
stock, full-width digits, slashed and Chinese dates, 有/无) on a few percent of rows.
Built with Polars column operations: a million rows take a few seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

HEADERS = {
    "product_id": "商品ID",
    "merchant_id": "商家ID",
    "merchant_name": "商家名称",
    "title": "商品名称",
    "brand": "品牌",
    "category_l1": "一级类目",
    "category_l2": "二级类目",
    "list_price": "售价",
    "live_price": "直播价",
    "commission_rate": "佣金率",
    "service_fee_rate": "团长服务费率",
    "stock": "库存",
    "sales_30d": "近30天销量",
    "gmv_30d": "近30天GMV",
    "good_rate": "好评率",
    "refund_rate": "退货率",
    "shop_score": "店铺评分",
    "ship_hours": "发货时效(小时)",
    "listed_at": "上架日期",
    "sample": "样品",
    "mechanism": "机制",
}
CATEGORIES = ["美妆", "食品", "日百", "服饰", "母婴", "家居", "珠宝玉石", "酒水", "厨房家电"]
WORDS = ["保湿", "补水", "礼盒", "家用", "加厚", "大容量", "便携", "儿童", "冬季", "经典", "升级款"]
NOUNS = ["面霜", "精华", "口红", "螺蛳粉", "牛肉干", "收纳盒", "保温杯", "大衣", "纸尿裤", "手镯"]
MECHANISMS = ["", "买一送一", "第二件半价", "拍2发3", "赠小样", "限时秒杀"]


def _pick(seed: int, salt: int, low: int, high: int) -> pl.Expr:
    """A deterministic pseudo-random integer in [low, high) per row."""
    return (pl.int_range(pl.len()).hash(seed * 1000 + salt) % (high - low)).cast(pl.Int64) + low


def _choose(options: list[str], seed: int, salt: int) -> pl.Expr:
    return _pick(seed, salt, 0, len(options)).replace_strict(
        dict(enumerate(options)), return_dtype=pl.String
    )


def _yuan(fen: pl.Expr) -> pl.Expr:
    return pl.format("{}.{}", fen // 100, (fen % 100).cast(pl.String).str.zfill(2))


def product_frame(rows: int, seed: int = 7) -> pl.DataFrame:
    merchants = max(rows // 200, 2)
    base = pl.DataFrame({"i": pl.int_range(rows, eager=True)}).with_columns(
        merchant=_pick(seed, 1, 1, merchants + 1),
        live_fen=_pick(seed, 2, 990, 99_900),
        markup=_pick(seed, 3, 0, 50_000),
        sales=_pick(seed, 4, 0, 20_000),
        messy=_pick(seed, 5, 0, 100),
        days=_pick(seed, 6, 0, 600),
    )
    m, listed = pl.col("messy"), pl.date(2025, 1, 1) + pl.duration(days=pl.col("days"))
    return base.select(
        (pl.col("i") + 10_000_000_000_000).cast(pl.String).alias("product_id"),
        pl.format("M{}", pl.col("merchant")).alias("merchant_id"),
        pl.format("商家{}", pl.col("merchant")).alias("merchant_name"),
        pl.format(
            "{}{}{}号", _choose(WORDS, seed, 7), _choose(NOUNS, seed, 8), pl.col("i") % 997
        ).alias("title"),
        pl.format("品牌{}", pl.col("merchant") % 500).alias("brand"),
        _choose(CATEGORIES, seed, 9).alias("category_l1"),
        _choose(WORDS, seed, 10).alias("category_l2"),
        _yuan(pl.col("live_fen") + pl.col("markup")).alias("list_price"),
        pl.when(m < 2)
        .then(pl.lit("¥") + _yuan(pl.col("live_fen")))
        .when(m < 4)
        .then(_yuan(pl.col("live_fen")) + pl.lit("元"))
        .otherwise(_yuan(pl.col("live_fen")))
        .alias("live_price"),
        pl.format("{}%", _pick(seed, 11, 5, 45)).alias("commission_rate"),
        pl.format("{}%", _pick(seed, 12, 1, 10)).alias("service_fee_rate"),
        pl.when(m > 97)
        .then(pl.lit("1.2万"))
        .otherwise(_pick(seed, 13, 0, 50_000).cast(pl.String))
        .alias("stock"),
        pl.col("sales").cast(pl.String).alias("sales_30d"),
        _yuan(pl.col("sales") * pl.col("live_fen")).alias("gmv_30d"),
        pl.format("{}.{}%", _pick(seed, 14, 85, 100), _pick(seed, 15, 0, 10)).alias("good_rate"),
        pl.format("{}.{}%", _pick(seed, 16, 0, 30), _pick(seed, 17, 0, 10)).alias("refund_rate"),
        pl.format("4.{}", _pick(seed, 18, 40, 100)).alias("shop_score"),
        _choose(["24", "48", "72"], seed, 19).alias("ship_hours"),
        pl.when(m < 97)
        .then(listed.cast(pl.String))
        .otherwise(listed.dt.strftime("%Y/%-m/%-d"))
        .alias("listed_at"),
        _choose(["有", "无", "是", "否"], seed, 20).alias("sample"),
        _choose(MECHANISMS, seed, 21).alias("mechanism"),
    ).rename(HEADERS)


def write_sheet(rows: int, path: Path, encoding: str = "utf-8", seed: int = 7) -> Path:
    text = product_frame(rows, seed).write_csv()
    if encoding.lower().startswith("gb"):
        text = text.replace("¥", "￥")  # GBK has only the full-width yuan sign, as Excel writes it
    path.write_bytes(text.encode(encoding))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--encoding", default="utf-8")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    write_sheet(args.rows, args.out, args.encoding, args.seed)


if __name__ == "__main__":
    main()
