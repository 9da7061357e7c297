"""Benchmark the reports: `haowu report session|merchants|grades`, as tables for machines and
as pages, against a bare DuckDB aggregate over the same database.

    python benchmarks/bench_reports.py [--rows 1000000] [--products 100000] [--repeat 3]

Builds the database `bench_commission.py` builds (generated products and anchors, `--rows`
orders paid 2026-10-01 to 11-30, split to the ledger), grades it on two dates and plans a
session for anchor B0001 on 2026-11-15 (40 to 60 products, four hours). Then it times, in
the same run, each a whole process from start to exit:
  bare aggregate   one read-only SQL aggregate: GMV per merchant and month over every order,
                   the least the merchants report does (and more than the others need)
  haowu start-up   `haowu anchors --format csv`: haowu's start-up and opening the database,
                   the least any haowu command costs
  merchants csv    `haowu report merchants --format csv` (November against October)
  merchants page   `haowu report merchants --html FILE`
  grades csv       `haowu report grades --format csv`
  grades page      `haowu report grades --html FILE`
  session csv      `haowu report session 1 --format csv` (the anchor's orders that day, and
                   the ledger of those orders)
  session page     `haowu report session 1 --html FILE`
and prints each median with its ratio to the bare aggregate and to haowu's start-up, and its
peak memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_commission import prepare  # noqa: E402
from harness import timed  # noqa: E402

BARE_AGGREGATE = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute(
    "SELECT merchant_id, date_trunc('month', paid_at) AS month, count(*), "
    "sum(paid_amount_fen) FROM orders GROUP BY ALL"
).fetchall()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(ROOT / "configs")]
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        db = prepare(folder, args.rows, args.products, haowu)
        on = [*haowu, "--db", str(db)]
        orders = str(folder / "orders.csv")
        subprocess.run([*on, "import", "--kind", "orders", orders], check=True)
        for day in ("2026-11-29", "2026-11-30"):
            subprocess.run([*on, "grade", "--as-of", day], check=True)
        plan = [
            *on,
            "plan-session",
            "--anchor",
            "B0001",
            "--date",
            "2026-11-15",
            "--start",
            "20:00",
            "--minutes",
            "240",
            "--min-products",
            "40",
            "--max-products",
            "60",
            "--format",
            "json",
        ]
        subprocess.run(plan, check=True, stdout=subprocess.DEVNULL)
        page = str(folder / "page.html")
        commands = {
            "bare aggregate": [sys.executable, "-c", BARE_AGGREGATE, str(db)],
            "haowu start-up": [*on, "anchors", "--format", "csv"],
            "merchants csv": [*on, "report", "merchants", "--format", "csv"],
            "merchants page": [*on, "report", "merchants", "--html", page, "-f", "csv"],
            "grades csv": [*on, "report", "grades", "--format", "csv"],
            "grades page": [*on, "report", "grades", "--html", page, "-f", "csv"],
            "session csv": [*on, "report", "session", "1", "--format", "csv"],
            "session page": [*on, "report", "session", "1", "--html", page, "-f", "csv"],
        }
        runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                runs[name].append(timed(command))
        size = (folder / "page.html").stat().st_size

    print(
        f"{args.rows:,} orders over {args.products:,} products, graded on 2 dates, a plan of "
        f"40-60 products; median of {args.repeat} runs, {os.cpu_count()} cores; each a whole "
        "process"
    )
    print("| run | seconds | ÷ bare aggregate | ÷ haowu start-up | peak memory |")
    print("|---|---|---|---|---|")
    base = statistics.median(s for s, _ in runs["bare aggregate"])
    start = statistics.median(s for s, _ in runs["haowu start-up"])
    for name, samples in runs.items():
        seconds = statistics.median(s for s, _ in samples)
        memory = max(m for _, m in samples)
        print(
            f"| {name} | {seconds:.2f} | {seconds / base:.2f} | {seconds / start:.2f} "
            f"| {memory} MiB |"
        )
    took = time.perf_counter() - started
    print(f"last page written: {size / 1024:.0f} KiB; whole benchmark {took:.0f} s")


if __name__ == "__main__":
    main()
