"""Benchmark `haowu grade` against one bare SQL pass over the same products.

    python benchmarks/bench_grade.py [--rows 1000000] [--repeat 3]

Imports a generated product sheet once (`generate.py`), then times, in the same run:
  bare        one SQL pass with five window percentiles and a CASE, written to a table
              (`CREATE TABLE … AS SELECT …`): the least any grading has to do
  haowu       the whole `haowu grade` command (process start to exit), which scores every
              input of configs/grading.yaml, writes that date's grades and records the run
  next day    the same the day after, comparing every product with its previous grade
  bare count  a whole process that counts that day's grades per level and previous level
              (the least the grades report has to do)
  start-up    `haowu anchors --format csv`: what every command pays before its work
  report      the whole `haowu report grades --format json` command on that day
and prints each median with its ratio to its baseline (the bare pass; the bare count plus
haowu's start-up for the report), the CPU seconds (and their ratio to the baseline's, which
a machine shared with other work changes much less than the wall seconds) and the peak memory.
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
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import measured  # noqa: E402

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


BARE_COUNT = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute('''
    SELECT g.level, p.level AS previous_level, count(*) FROM grades g
    LEFT JOIN (SELECT * FROM grades WHERE as_of = DATE '2026-11-22') p USING (product_id)
    WHERE g.as_of = DATE '2026-11-23' GROUP BY ALL
''').fetchall()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    # The package's bytecode, as an installed copy has it (pip compiles it): under
    # PYTHONDONTWRITEBYTECODE every timed run would otherwise compile haowu_cli again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "haowu_cli")], check=True)
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        sheet, base = folder / "products.csv", folder / "base.duckdb"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.rows), str(sheet)], check=True
        )
        subprocess.run([*haowu, "--db", str(base), "import", str(sheet)], check=True)
        results: dict[str, list[tuple[float, float, int]]] = {
            "bare": [],
            "haowu grade": [],
            "next day": [],
            "bare count": [],
            "start-up": [],
            "report": [],
        }
        for run in range(args.repeat):
            copy = folder / f"run{run}.duckdb"
            shutil.copy(base, copy)
            results["bare"].append(measured([sys.executable, "-c", BARE_PASS, str(copy)]))
            log = folder / "grade.log"
            grade = [*haowu, "--db", str(copy), "grade", "--log", str(log), "--as-of"]
            results["haowu grade"].append(measured([*grade, "2026-11-22"]))
            results["next day"].append(measured([*grade, "2026-11-23"]))  # a day of history
            results["bare count"].append(measured([sys.executable, "-c", BARE_COUNT, str(copy)]))
            read = [*haowu, "--db", str(copy)]
            results["start-up"].append(measured([*read, "anchors", "--format", "csv"]))
            report = [*read, "report", "grades", "--as-of", "2026-11-23", "--format", "json"]
            results["report"].append(measured(report))
            copy.unlink()
    median = {name: statistics.median(s for s, _, _ in runs) for name, runs in results.items()}
    cpu = {name: statistics.median(c for _, c, _ in runs) for name, runs in results.items()}
    base = {
        "bare": "bare",
        "haowu grade": "bare",
        "next day": "bare",
        "bare count": "bare count",
        "start-up": "start-up",
        "report": ("bare count", "start-up"),
    }

    def baseline(of: dict[str, float], name: str) -> float:
        parts = base[name]
        return sum(of[p] for p in parts) if isinstance(parts, tuple) else of[parts]

    print(f"{args.rows:,} products, median of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"{'':12} {'seconds':>8} {'÷ base':>8} {'CPU s':>7} {'CPU ÷':>7} {'peak MiB':>9}")
    for name, runs in results.items():
        peak = max(m for _, _, m in runs)
        ratio = median[name] / baseline(median, name)
        cpu_ratio = cpu[name] / baseline(cpu, name)
        print(
            f"{name:12} {median[name]:8.2f} {ratio:8.2f} {cpu[name]:7.2f} {cpu_ratio:7.2f} "
            f"{peak:9d}"
        )
    print("÷ base: grading ÷ the bare pass; the report ÷ (bare count + start-up)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
