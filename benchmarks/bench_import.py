"""Benchmark `haowu import` against DuckDB reading the same sheet with no cleaning.

    python benchmarks/bench_import.py [--rows 1000000] [--repeat 3]

Generates product sheets (UTF-8 and GBK) with `generate.py`, then times, in the same run:
  bare-file    DuckDB `CREATE TABLE … AS SELECT * FROM read_csv(…, all_varchar=true)` into a
               fresh database file: what haowu does, minus all the cleaning
  bare-memory  the same into an in-memory database (no writing to disk)
  haowu        the whole `haowu import` command (process start to exit) into a fresh file
  re-import    `haowu import` of the same sheet again (nothing changes)
and prints each median with its ratio to the bare reads and haowu's peak memory. DuckDB
cannot read GBK, so both encodings are compared with the bare read of the UTF-8 sheet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import timed  # noqa: E402

BARE_READ = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE products AS SELECT * FROM read_csv(?, all_varchar = true)", [sys.argv[2]])
con.close()
"""


def fresh(folder: Path, name: str) -> str:
    for leftover in folder.glob(name + "*"):
        leftover.unlink()
    return str(folder / name)


def median_run(make: callable, repeat: int) -> tuple[float, int]:
    runs = [timed(make(), ok_codes=(0, 3)) for _ in range(repeat)]
    return statistics.median(s for s, _ in runs), max(m for _, m in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-gbk", action="store_true", help="time the UTF-8 sheet only")
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        encodings = ("utf-8",) if args.no_gbk else ("utf-8", "gbk")
        sheets = {enc: folder / f"products_{enc}.csv" for enc in encodings}
        for enc, sheet in sheets.items():
            # In a child process: a parent grown by the generator would pass its memory on
            # to every process it starts, and spoil their peak-memory figures.
            generate = [sys.executable, str(HERE / "generate.py"), str(args.rows), str(sheet)]
            subprocess.run([*generate, "--encoding", enc], check=True)
        python = sys.executable
        utf8 = str(sheets["utf-8"])
        results = {
            "bare-file": median_run(
                lambda: [python, "-c", BARE_READ, fresh(folder, "bare.duckdb"), utf8], args.repeat
            ),
            "bare-memory": median_run(
                lambda: [python, "-c", BARE_READ, ":memory:", utf8], args.repeat
            ),
        }
        for enc, sheet in sheets.items():
            results[f"haowu {enc}"] = median_run(
                lambda s=sheet: haowu + ["--db", fresh(folder, "h.duckdb"), "import", str(s)],
                args.repeat,
            )
        db = fresh(folder, "again.duckdb")
        timed(haowu + ["--db", db, "import", utf8])
        results["re-import utf-8"] = median_run(
            lambda: haowu + ["--db", db, "import", utf8], args.repeat
        )

    file_base, memory_base = results["bare-file"][0], results["bare-memory"][0]
    print(f"{args.rows:,} rows, median of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"{'':18} {'seconds':>8} {'÷ bare-file':>12} {'÷ bare-memory':>14} {'peak MiB':>9}")
    for name, (seconds, peak) in results.items():
        print(
            f"{name:18} {seconds:8.2f} {seconds / file_base:12.2f} "
            f"{seconds / memory_base:14.2f} {peak:9d}"
        )


if __name__ == "__main__":
    main()
