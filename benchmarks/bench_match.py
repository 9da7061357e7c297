"""Benchmark `haowu match products` and `match anchors` against bare SQL scoring passes.

    python benchmarks/bench_match.py [--sizes 10000 100000] [--anchors 10000]
        [--merchant-products 1000] [--repeat 3] [--only products|anchors]

For each size, imports a generated product sheet (`generate.py`) and one anchor and grades
the products; then times, in the same run:
  sql     a bare DuckDB scoring pass in a fresh process: open the database, join the latest
          grades, compute each product's expected GMV (GMV per hour × 6 minutes × the
          category affinity / live price, rounded down, capped by stock, × price) and keep
          the best 20: the least the model's arithmetic can cost
  match   the whole `haowu match products --anchor B001 --min-level L0 --format json`
          command (process start to exit): every product's eligibility and expected sales
          by the planner's model in one DuckDB query (`planner/sql_model.py`), the best 20
          read back and scored again by the Polars model, 潜力好货
and prints each median, the ratio of match to sql and match's peak memory.

Then `match anchors`: a database of 10,000 products of which one merchant (MBENCH) has
`--merchant-products`, and `--anchors` generated anchors (fans, ages, tickets, categories,
GMV per hour), graded; timed in the same run:
  sql      a bare DuckDB pass in a fresh process: every (anchor, product of the merchant)
           pair's expected GMV as above, each anchor's best 40 summed, the best 20 anchors
  anchors  the whole `haowu match anchors --merchant MBENCH --format json` command:
           eligibility, every pair by the planner's model (roles, minutes, strength,
           affinity, price fit) as NumPy matrices (`planner/anchor_sessions.py`), each
           anchor's session filled by GMV per minute within its minutes, the five fit
           factors, the ranking, the best 20
The package is byte-compiled first, as an installed copy is.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import timed  # noqa: E402

ANCHORS_CSV = (
    "达人ID,达人昵称,粉丝数,女粉占比,主要年龄段,客单价,主营类目,场均时GMV,机构,机构分成比例\n"
    "B001,基准主播,120万,75%,25-34,¥299,美妆、食品、日百,8万,,\n"
)
SQL = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute('''
    WITH g AS (SELECT product_id, arg_max(level, as_of) AS level FROM grades GROUP BY 1),
    a AS (SELECT * FROM anchors WHERE anchor_id = 'B001')
    SELECT p.product_id,
           least(p.stock, floor(a.gmv_per_hour_fen * 6 / 60.0
                 * CASE WHEN list_contains(a.categories, p.category_l1) THEN 1.2 ELSE 0.6 END
                 / p.live_price_fen))::BIGINT * p.live_price_fen AS gmv
    FROM products p JOIN g USING (product_id), a
    WHERE p.live_price_fen > 0 AND p.stock > 0
    ORDER BY gmv DESC, p.product_id LIMIT 20
''').fetchall()
"""
ANCHOR_SQL = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute('''
    WITH g AS (SELECT product_id, arg_max(level, as_of) AS level FROM grades GROUP BY 1),
    p AS (SELECT p.* FROM products p JOIN g USING (product_id)
          WHERE p.merchant_id = 'MBENCH' AND p.live_price_fen > 0 AND p.stock > 0),
    pairs AS (
        SELECT a.anchor_id,
               least(p.stock, floor(coalesce(a.gmv_per_hour_fen, 1000000) * 6 / 60.0
                     * CASE WHEN list_contains(a.categories, p.category_l1) THEN 1.2 ELSE 0.6 END
                     / p.live_price_fen))::BIGINT * p.live_price_fen AS gmv
        FROM anchors a, p),
    ranked AS (SELECT anchor_id, gmv,
                      row_number() OVER (PARTITION BY anchor_id ORDER BY gmv DESC) AS n
               FROM pairs)
    SELECT anchor_id, sum(gmv) AS s FROM ranked WHERE n <= 40
    GROUP BY 1 ORDER BY s DESC, anchor_id LIMIT 20
''').fetchall()
"""
CATEGORY_SETS = ["美妆、护肤", "食品、日百", "服饰、家居", "珠宝玉石", "母婴、日百、食品", "酒水"]
AGES = ["18-24", "25-34", "35-44", "45-54"]


def prepare(folder: Path, size: int, haowu: list[str]) -> str:
    sheet, db = folder / f"products_{size}.csv", str(folder / f"match_{size}.duckdb")
    anchors = folder / "anchors.csv"
    anchors.write_text(ANCHORS_CSV, encoding="utf-8")
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", "--kind", "anchors", str(anchors)], check=True)
    subprocess.run([*haowu, "--db", db, "grade", "--as-of", "2026-11-22"], check=True)
    return db


def anchors_sheet(count: int) -> str:
    """`count` anchors with deterministic, varied profiles."""
    lines = [ANCHORS_CSV.splitlines()[0]]
    for i in range(count):
        lines.append(
            f"B{i:05d},主播{i},{(i * 37) % 500 + 1}万,{(i * 13) % 70 + 25}%,{AGES[i % 4]},"
            f"¥{(i * 53) % 600 + 30},{CATEGORY_SETS[i % len(CATEGORY_SETS)]},"
            f"{(i * 29) % 30 + 1}万,,"
        )
    return "\n".join(lines) + "\n"


def prepare_anchors(folder: Path, anchors: int, own: int, haowu: list[str]) -> str:
    """10,000 products (or `own`), `own` of them merchant MBENCH's, and `anchors` anchors."""
    import polars as pl
    from generate import product_frame

    sheet, db = folder / "anchor_products.csv", str(folder / f"anchors_{anchors}.duckdb")
    frame = product_frame(max(10_000, own)).with_columns(
        pl.when(pl.int_range(pl.len()) < own)
        .then(pl.lit("MBENCH"))
        .otherwise(pl.col("商家ID"))
        .alias("商家ID")
    )
    sheet.write_text(frame.write_csv(), encoding="utf-8")
    people = folder / "many_anchors.csv"
    people.write_text(anchors_sheet(anchors), encoding="utf-8")
    subprocess.run([*haowu, "--db", db, "import", str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", "--kind", "anchors", str(people)], check=True)
    subprocess.run([*haowu, "--db", db, "grade", "--as-of", "2026-11-22"], check=True)
    return db


def bench_products(folder: Path, args: argparse.Namespace, haowu: list[str]) -> None:
    print(f"{'products':>10} {'sql s':>8} {'match s':>8} {'ratio':>6} {'peak MiB':>9}")
    for size in args.sizes:
        db = prepare(folder, size, haowu)
        match = [
            *haowu, "--db", db, "match", "products", "--anchor", "B001",
            "--min-level", "L0", "--date", "2026-11-22", "--format", "json",
        ]  # fmt: skip
        sql = [sys.executable, "-c", SQL, db]
        sql_runs = [timed(sql)[0] for _ in range(args.repeat)]
        match_runs = [timed(match) for _ in range(args.repeat)]
        sql_s = statistics.median(sql_runs)
        match_s = statistics.median(s for s, _ in match_runs)
        peak = max(m for _, m in match_runs)
        print(f"{size:>10,} {sql_s:>8.2f} {match_s:>8.2f} {match_s / sql_s:>6.1f} {peak:>9}")


def bench_anchors(folder: Path, args: argparse.Namespace, haowu: list[str]) -> None:
    db = prepare_anchors(folder, args.anchors, args.merchant_products, haowu)
    match = [
        *haowu, "--db", db, "match", "anchors", "--merchant", "MBENCH",
        "--date", "2026-11-22", "--format", "json",
    ]  # fmt: skip
    sql = [sys.executable, "-c", ANCHOR_SQL, db]
    sql_runs = [timed(sql)[0] for _ in range(args.repeat)]
    match_runs = [timed(match) for _ in range(args.repeat)]
    sql_s = statistics.median(sql_runs)
    match_s = statistics.median(s for s, _ in match_runs)
    peak = max(m for _, m in match_runs)
    print(
        f"{'anchors':>10} {'products':>9} {'sql s':>8} {'match s':>8} {'ratio':>6} {'peak MiB':>9}"
    )
    print(
        f"{args.anchors:>10,} {args.merchant_products:>9,} {sql_s:>8.2f} {match_s:>8.2f} "
        f"{match_s / sql_s:>6.1f} {peak:>9}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--anchors", type=int, default=10_000)
    parser.add_argument("--merchant-products", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["products", "anchors"])
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    # The package's bytecode, as an installed copy has it (pip compiles it): under
    # PYTHONDONTWRITEBYTECODE every timed run would otherwise compile haowu_cli again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "haowu_cli")], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only != "anchors":
            bench_products(folder, args, haowu)
        if args.only != "products":
            bench_anchors(folder, args, haowu)


if __name__ == "__main__":
    main()
