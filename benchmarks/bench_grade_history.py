"""Benchmark what a month of nightly grades costs the commands that read the latest grade.

    python benchmarks/bench_grade_history.py [--rows 100000] [--nights 31] [--repeat 3]

Imports a generated product sheet (`generate.py`) and grades it on one night (the baseline
database) and on `--nights` nights in a row (the history database). Then times, on a copy of
each, in the same run:
  grade           the next night's `haowu grade` (compares every product with its previous grade)
  report grades   `haowu report grades --format json` (levels and moves since the previous run)
  products        `haowu products --limit 1 --format csv` (joins every product's latest grade)
and, as the baseline of each turn, bench_grade.py's bare SQL pass over the same products. It
prints each median for both databases, the ratio history ÷ one night (the goal: 1, no growth
with history), each ÷ the bare pass, the CPU seconds and the peak memory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_grade import BARE_PASS  # noqa: E402
from harness import measured  # noqa: E402

FIRST = date(2026, 10, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--nights", type=int, default=31)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    last = FIRST + timedelta(days=args.nights - 1)
    next_night = (last + timedelta(days=1)).isoformat()
    env = {**os.environ, "HAOWU_TODAY": next_night, "HAOWU_LANG": "en"}
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        sheet = folder / "products.csv"
        subprocess.run(
            [sys.executable, str(HERE / "generate.py"), str(args.rows), str(sheet)], check=True
        )
        databases = {"one night": folder / "one.duckdb", "history": folder / "history.duckdb"}
        for name, db in databases.items():
            subprocess.run([*haowu, "--db", str(db), "import", str(sheet)], check=True, env=env)
            nights = 1 if name == "one night" else args.nights
            for night in range(nights):
                day = (last - timedelta(days=nights - 1 - night)).isoformat()
                subprocess.run(
                    [*haowu, "--db", str(db), "grade", "--as-of", day],
                    check=True,
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
        commands = {
            "grade": ["grade", "--as-of", next_night],
            "report grades": ["report", "grades", "--format", "json"],
            "products": ["products", "--limit", "1", "--format", "csv"],
        }
        results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
        os.environ.update(HAOWU_TODAY=next_night, HAOWU_LANG="en")
        for _ in range(args.repeat):
            for name, db in databases.items():
                copy = folder / "copy.duckdb"
                shutil.copy(db, copy)
                runs = results.setdefault(("bare pass", name), [])
                runs.append(measured([sys.executable, "-c", BARE_PASS, str(copy)]))
                for label, command in commands.items():
                    runs = results.setdefault((label, name), [])
                    runs.append(measured([*haowu, "--db", str(copy), *command]))
                copy.unlink()
    print(
        f"{args.rows:,} products, {args.nights} nights of history against one, "
        f"median of {args.repeat} runs, {os.cpu_count()} cores"
    )
    bare = {
        name: statistics.median(s for s, _, _ in results[("bare pass", name)]) for name in databases
    }
    print(
        f"{'':14} {'one night s':>11} {'history s':>10} {'÷':>6} "
        f"{'÷ bare (1 / hist)':>18} {'CPU s (1 / hist)':>17} {'peak MiB':>9}"
    )
    for label in ("bare pass", *commands):
        one = statistics.median(s for s, _, _ in results[(label, "one night")])
        history = statistics.median(s for s, _, _ in results[(label, "history")])
        cpu_one = statistics.median(c for _, c, _ in results[(label, "one night")])
        cpu_history = statistics.median(c for _, c, _ in results[(label, "history")])
        peak = max(m for _, _, m in results[(label, "history")])
        ratios = f"{one / bare['one night']:.2f} / {history / bare['history']:.2f}"
        cpu = f"{cpu_one:.2f} / {cpu_history:.2f}"
        print(
            f"{label:14} {one:11.2f} {history:10.2f} {history / one:6.2f} "
            f"{ratios:>18} {cpu:>17} {peak:9d}"
        )


if __name__ == "__main__":
    main()
