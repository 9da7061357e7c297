"""Benchmark team mode: the same day's work on a DuckLake (catalog in PostgreSQL, data in a
folder) against a local database file, in the same run.

    python benchmarks/bench_team.py [--products 200000] [--orders 200000] [--repeat 1]

Needs the team extra (pip install -e '.[team]') and PostgreSQL's server binaries (Debian's
`postgresql`): it starts a throwaway cluster (tests/pg_cluster.py) and stops it at the end.
Writes a generated product sheet (`generate.py`), anchors and an order export
(`bench_commission.py`), then times, each a whole process from start to exit, on a fresh local
file and on a fresh lake:
  import products   `haowu import` of the product sheet
  import orders     `haowu import --kind orders`: orders checked, split, posted to the ledger
  grade             `haowu grade --as-of …`
  commission        `haowu commission --by party --as-of 2099-12-31 --format csv` (a read)
  report grades     `haowu report grades --format json` (a read)
  products          `haowu products --format csv` (a read of every product)
and prints the medians, the lake's ratio to the file and each run's peak memory; says whether
the targets are met: the lake within 3× of the file for the imports and grading (writes),
within 2× for the reads. The lake pays for loading DuckDB's two extensions (~0.5 s each) and
for the catalog round trips to PostgreSQL on every command.
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
sys.path.insert(0, str(ROOT))

from harness import timed  # noqa: E402

from tests.pg_cluster import start_cluster, team_extra_missing  # noqa: E402

WRITE_INPUTS = (
    "import sys, bench_commission as b; from generate import write_sheet; "
    "f = b.Path(sys.argv[1]); write_sheet(int(sys.argv[2]), f / 'products.csv'); "
    "b.anchor_frame().write_csv(f / 'anchors.csv'); "
    "b.order_frame(int(sys.argv[3]), int(sys.argv[2])).write_csv(f / 'orders.csv')"
)
WRITES = ("import products", "import orders", "grade")
READS = ("commission", "report grades", "products")
TARGETS = {"write": 3.0, "read": 2.0}


def day_of_work(haowu: list[str], folder: Path) -> dict[str, tuple[float, int]]:
    """Each step of the day on the database `haowu` names: (seconds, peak MiB)."""
    products, anchors, orders = (folder / f"{n}.csv" for n in ("products", "anchors", "orders"))
    got: dict[str, tuple[float, int]] = {}
    got["import products"] = timed([*haowu, "import", str(products)])
    subprocess.run([*haowu, "import", "--kind", "anchors", str(anchors)], check=True)
    # exit 3: some generated orders are refused on purpose (bench_commission.order_frame)
    got["import orders"] = timed([*haowu, "import", "--kind", "orders", str(orders)], (0, 3))
    got["grade"] = timed([*haowu, "grade", "--as-of", "2026-11-22"])
    commission = [*haowu, "commission", "--by", "party", "--as-of", "2099-12-31", "-f", "csv"]
    got["commission"] = timed(commission)
    got["report grades"] = timed(
        [*haowu, "report", "grades", "--as-of", "2026-11-22", "-f", "json"]
    )
    got["products"] = timed([*haowu, "products", "-f", "csv"])
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    missing = team_extra_missing()
    if missing:
        raise SystemExit(f"bench_team: {missing}")
    started = time.perf_counter()
    base = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(ROOT / "configs")]
    cluster = start_cluster()
    runs: dict[str, dict[str, list[tuple[float, int]]]] = {"file": {}, "lake": {}}
    try:
        with tempfile.TemporaryDirectory(prefix="haowu-bench-team-") as tmp:
            folder = Path(tmp)
            sizes = [str(args.products), str(args.orders)]
            subprocess.run(
                [sys.executable, "-c", WRITE_INPUTS, str(folder), *sizes], cwd=HERE, check=True
            )
            for n in range(args.repeat):
                file_db = folder / f"local{n}.duckdb"
                conninfo = cluster.create_database(f"bench{n}")
                data = folder / f"shared{n}"
                data.mkdir()
                lake = ["--db", f"ducklake:postgres:{conninfo}", "--data-path", str(data)]
                subprocess.run([*base, *lake, "team", "init"], check=True)
                for engine, db in (("file", ["--db", str(file_db)]), ("lake", lake)):
                    for step, result in day_of_work([*base, *db], folder).items():
                        runs[engine].setdefault(step, []).append(result)
    finally:
        cluster.stop()
    print(
        f"team mode: {args.products:,} products, {args.orders:,} orders, "
        f"{args.repeat} run(s), {os.cpu_count()} cores (a shared machine: ratios count)"
    )
    print(
        f"{'step':<16}{'file s':>9}{'lake s':>9}{'ratio':>7}{'target':>8}{'file MiB':>10}"
        f"{'lake MiB':>10}  met"
    )
    all_met = True
    for step in (*WRITES, *READS):
        file_s = statistics.median(s for s, _ in runs["file"][step])
        lake_s = statistics.median(s for s, _ in runs["lake"][step])
        file_mib = max(m for _, m in runs["file"][step])
        lake_mib = max(m for _, m in runs["lake"][step])
        target = TARGETS["write" if step in WRITES else "read"]
        ratio = lake_s / file_s
        met = ratio <= target
        all_met &= met
        print(
            f"{step:<16}{file_s:>9.2f}{lake_s:>9.2f}{ratio:>6.2f}×{target:>7.1f}×"
            f"{file_mib:>10}{lake_mib:>10}  {'yes' if met else 'NO'}"
        )
    print(
        f"targets {'met' if all_met else 'NOT met'}; {time.perf_counter() - started:.0f} s in all"
    )


if __name__ == "__main__":
    main()
