"""Benchmark `haowu grade` against one bare SQL pass over the same products.

    python benchmarks/bench_grade.py [--rows 1000000] [--repeat 3]

Imports a generated product sheet once (`generate.py`), then times, in the same run:
  bare        one SQL pass with five window percentiles and a CASE, written to a table
              (`CREATE TABLE … AS SELECT …`): the least any grading has to do
  haowu       the whole `haowu grade` command (process start to exit), which scores every
              input of configs/grading.yaml, writes that date's grades and records the run
  next day    the same the day after, comparing every product with its previous grade
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

BARE_PASS = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute('''
    CREATE OR REPLACE TABLE bare_grades AS
    SELECT product_id,
           percent_rank() OVER (PARTITION BY category_l1 ORDER BY sales_30d) AS sales,
           percent_rank() OVER (PARTITION BY category_l1 ORDER BY gmv_30d_fen) AS gmv,
           percent_rank() OVER (PARTITION BY category_l1 ORDER BY commission_rate) AS commission,
           percent_rank() OVER (PARTITION BY category_l2 ORDER BY live_price_fen DESC) AS price,
           percent_rank() OVER (ORDER BY shop_score) AS service,
           CASE WHEN sales + gmv + commission + price + service > 4 THEN 'L5'
                WHEN sales + gmv + commission + price + service > 3 THEN 'L4'
                WHEN sales + gmv + commission + price + service > 2 THEN 'L3'
                WHEN sales + gmv + commission + price + service > 1 THEN 'L2'
                ELSE 'L1' END AS level
    FROM products
''')
con.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        sheet, base = folder / "products.csv", folder / "base.duckdb"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.rows), str(sheet)], check=True
        )
        subprocess.run([*haowu, "--db", str(base), "import", str(sheet)], check=True)
        results: dict[str, list] = {"bare": [], "haowu grade": [], "next day": []}
        for run in range(args.repeat):
            copy = folder / f"run{run}.duckdb"
            shutil.copy(base, copy)
            results["bare"].append(timed([sys.executable, "-c", BARE_PASS, str(copy)]))
            log = folder / "grade.log"
            grade = [*haowu, "--db", str(copy), "grade", "--log", str(log), "--as-of"]
            results["haowu grade"].append(timed([*grade, "2026-11-22"]))
            results["next day"].append(timed([*grade, "2026-11-23"]))  # with a day of history
            copy.unlink()
    base_seconds = statistics.median(s for s, _ in results["bare"])
    print(f"{args.rows:,} products, median of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"{'':12} {'seconds':>8} {'÷ bare':>8} {'peak MiB':>9}")
    for name, runs in results.items():
        seconds = statistics.median(s for s, _ in runs)
        peak = max(m for _, m in runs)
        print(f"{name:12} {seconds:8.2f} {seconds / base_seconds:8.2f} {peak:9d}")


if __name__ == "__main__":
    main()
