"""Benchmark `haowu activity review` against one bare SQL pass evaluating the same rules.

    python benchmarks/bench_review.py [--products 1000000] [--applications 100000] [--repeat 3]

Builds, once, a database holding `--products` graded products (a grade each, and a history
of live-price changes for some) and an activity with `--applications` applications, written
straight into the tables with SQL (the import is benchmarked by bench_import.py). Then times,
in the same run, on a fresh copy each time:
  bare        one SQL pass over the same joins (applications, products, latest grades, the
              lowest recent price) evaluating the same eight rules with CASE, written to a
              table: the least any review has to do
  haowu       the whole `haowu activity review` command (process start to exit): the rules
              with their Chinese reasons and 待人工 margins, and a decision recorded for every
              application
  again       the same once more: nothing changed, so no decision is recorded
and prints each median with its ratio to the bare pass and haowu's peak memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import timed  # noqa: E402

ACTIVITY = """\
id: B1
name: bench
type: 3
windows:
  - {name: 正式, start: 2026-12-12 19:00, end: 2026-12-12 23:00}
categories: [美妆, 食品, 日百, 服饰鞋包]
rules:
  min_level: L3
  min_commission_rate: 0.20
  min_service_fee_rate: 0.02
  max_price_vs_list: 0.9
  max_price_vs_lowest: 1.0
  min_stock: 500
  sample_required: true
  min_shop_score: 4.6
"""

FILL = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
products, applications = int(sys.argv[2]), int(sys.argv[3])
con.execute("SET enable_progress_bar = false")
con.execute('''
    INSERT INTO imports (import_id, kind, file_name, started_at, finished_at)
    VALUES (1, 'products', 'bench', DATE '2026-11-20', DATE '2026-11-20')''')
con.execute(f'''
    INSERT INTO products (product_id, merchant_id, title, category_l1, list_price_fen,
        live_price_fen, commission_rate, service_fee_rate, stock, shop_score, sample,
        created_import_id, updated_import_id)
    SELECT CAST(1000000000000 + i AS VARCHAR), 'M' || (i % 5000), '商品' || i,
           ['美妆', '食品', '日百', '服饰鞋包', '家居'][1 + i % 5],
           10000 + (i * 37) % 90000, 5000 + (i * 17) % 50000,
           CAST(((i * 7) % 50) / 100 AS DECIMAL(9,6)), CAST(((i * 3) % 8) / 100 AS DECIMAL(9,6)),
           (i * 13) % 5000, CAST(4 + ((i * 11) % 100) / 100 AS DECIMAL(4,2)), i % 3 <> 0, 1, 1
    FROM range({products}) t(i)''')
con.execute('''
    INSERT INTO grades SELECT DATE '2026-11-22', product_id, 1, 50, 50, 50, 50, 50, 50,
        'L' || (hash(product_id) % 6) FROM products''')
con.execute('''
    INSERT INTO product_changes SELECT 1, product_id, 'live_price',
        CAST(live_price_fen + 500 AS VARCHAR), CAST(live_price_fen AS VARCHAR)
    FROM products WHERE hash(product_id) % 10 = 0''')
con.execute(f'''
    INSERT INTO applications (application_key, activity_id, product_id, merchant_id,
        category_l1, lowest_price_fen, activity_price_fen, stock, commission_rate,
        service_fee_rate, sample, created_import_id, updated_import_id)
    SELECT 'B1/' || product_id, 'B1', product_id, merchant_id, category_l1,
           CASE WHEN hash(product_id) % 4 = 0 THEN live_price_fen END,
           live_price_fen - (hash(product_id) % 800), stock, commission_rate,
           service_fee_rate, sample, 1, 1
    FROM products USING SAMPLE {applications} ROWS (reservoir, 42)''')
con.close()
"""

BARE_PASS = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute('''
    CREATE OR REPLACE TABLE bare_review AS
    WITH apps AS (SELECT * FROM applications WHERE activity_id = 'B1'),
    graded AS (
        SELECT product_id, arg_max(level, as_of) AS level FROM grades
        WHERE as_of <= DATE '2026-11-22' AND product_id IN (SELECT product_id FROM apps)
        GROUP BY product_id
    ), seen AS (
        SELECT c.product_id, min(TRY_CAST(v AS BIGINT)) AS fen
        FROM product_changes c JOIN imports i USING (import_id),
             unnest([c.old_value, c.new_value]) AS t(v)
        WHERE c.field = 'live_price' AND CAST(i.started_at AS DATE) >= DATE '2026-10-23'
          AND c.product_id IN (SELECT product_id FROM apps)
        GROUP BY c.product_id
    )
    SELECT a.product_id,
        CASE WHEN g.level IS NULL OR CAST(substr(g.level, 2) AS INTEGER) < 3
               OR coalesce(a.commission_rate, p.commission_rate) < 0.20
               OR coalesce(a.service_fee_rate, p.service_fee_rate) < 0.02
               OR a.activity_price_fen > coalesce(a.list_price_fen, p.list_price_fen) * 0.9
               OR a.activity_price_fen > least(a.lowest_price_fen, p.live_price_fen, s.fen)
               OR coalesce(a.stock, p.stock) < 500
               OR NOT coalesce(a.sample, p.sample, false)
               OR coalesce(a.shop_score, p.shop_score) < 4.6
               OR NOT list_contains(['美妆', '食品', '日百', '服饰鞋包'], a.category_l1)
             THEN 'rejected' ELSE 'passed' END AS status
    FROM apps a LEFT JOIN products p USING (product_id)
    LEFT JOIN graded g USING (product_id) LEFT JOIN seen s USING (product_id)
''')
con.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    env = {**os.environ, "HAOWU_TODAY": "2026-11-22"}
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        base, activity = folder / "base.duckdb", folder / "activity.yaml"
        activity.write_text(ACTIVITY, encoding="utf-8")
        subprocess.run(
            [*haowu, "--db", str(base), "activity", "create", str(activity)], check=True, env=env
        )
        subprocess.run(
            [sys.executable, "-c", FILL, str(base), str(args.products), str(args.applications)],
            check=True,
        )
        os.environ["HAOWU_TODAY"] = "2026-11-22"  # the children of `timed` inherit it
        results: dict[str, list] = {"bare": [], "haowu review": [], "again": []}
        for run in range(args.repeat):
            copy = folder / f"run{run}.duckdb"
            shutil.copy(base, copy)
            results["bare"].append(timed([sys.executable, "-c", BARE_PASS, str(copy)]))
            review = [*haowu, "--db", str(copy), "activity", "review", "B1"]
            results["haowu review"].append(timed(review))
            results["again"].append(timed(review))
            copy.unlink()
    base_seconds = statistics.median(s for s, _ in results["bare"])
    print(
        f"{args.applications:,} applications against {args.products:,} graded products, "
        f"median of {args.repeat} runs, {os.cpu_count()} cores"
    )
    print(f"{'':13} {'seconds':>8} {'÷ bare':>8} {'peak MiB':>9}")
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        peak = max(m for _, m in runs)
        print(f"{name:13} {seconds:8.2f} {seconds / base_seconds:8.2f} {peak:9d}")


if __name__ == "__main__":
    main()
