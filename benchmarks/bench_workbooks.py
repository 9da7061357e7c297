"""Benchmark the workbooks: `haowu export products --out FILE.xlsx` against the CSV export of
the same products and against bare XlsxWriter writing the same cells.

    python benchmarks/bench_workbooks.py [--products 100000] [--repeat 3]

Builds a database of `--products` generated products (`generate.py`, as the other benchmarks),
then times, in the same run, each a whole process from start to exit:
  haowu start-up   `haowu anchors --format csv`: start-up and opening the database, the least
                   any haowu command costs
  csv              `haowu export products --out FILE.csv`
  csv for Excel    `haowu export products --excel --out FILE.csv` (every text cell checked)
  xlsx             `haowu export products --out FILE.xlsx` (typed cells, widths, filters;
                   rows streamed to disk: XlsxWriter's constant_memory)
  bare xlsxwriter  a Python script that reads the CSV export (every column as text) and
                   writes each cell with XlsxWriter in constant_memory mode, numbers for the
                   money and rate columns: the floor for writing that workbook in Python
  bare in memory   the same without constant_memory: the whole sheet held until it is saved
and prints each median with its ratio to the CSV export and to bare XlsxWriter, its peak
memory, and the files' sizes.
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

from harness import timed  # noqa: E402

WRITE_SHEET = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from generate import write_sheet
write_sheet(int(sys.argv[3]), Path(sys.argv[2]))
"""

# The same cells haowu writes, with nothing else: no widths measured, no kinds looked up.
BARE_XLSXWRITER = """
import sys
import polars as pl
import xlsxwriter
source, target, constant = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
frame = pl.read_csv(source, infer_schema=False)
numbers = {"list_price", "live_price", "gmv_30d", "commission_rate", "service_fee_rate",
           "stock", "sales_30d", "good_rate", "refund_rate", "shop_score", "ship_hours",
           "total_score"}
book = xlsxwriter.Workbook(target, {"constant_memory": constant, "strings_to_numbers": False,
                                    "strings_to_formulas": False, "strings_to_urls": False})
sheet = book.add_worksheet("products")
for col, name in enumerate(frame.columns):
    sheet.write_string(0, col, name)
kinds = [name in numbers for name in frame.columns]
for row, values in enumerate(frame.iter_rows(), start=1):
    for col, value in enumerate(values):
        if value is None or value == "":
            continue
        if kinds[col]:
            sheet.write_number(row, col, float(value))
        else:
            sheet.write_string(row, col, value)
book.close()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(ROOT / "configs")]
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        sheet = folder / "products.csv"
        # In a child process, so that this parent stays small (harness.timed).
        subprocess.run(
            [python, "-c", WRITE_SHEET, str(HERE), str(sheet), str(args.products)], check=True
        )
        db = folder / "bench.duckdb"
        subprocess.run([*haowu, "--db", str(db), "import", str(sheet)], check=True)
        on = [*haowu, "--db", str(db)]
        csv_out, excel_out, xlsx_out = (folder / n for n in ("p.csv", "e.csv", "p.xlsx"))
        commands = {
            "haowu start-up": [*on, "anchors", "--format", "csv"],
            "csv": [*on, "export", "products", "--out", str(csv_out)],
            "csv for Excel": [*on, "export", "products", "--excel", "--out", str(excel_out)],
            "xlsx": [*on, "export", "products", "--out", str(xlsx_out)],
            "bare xlsxwriter": [python, "-c", BARE_XLSXWRITER, str(csv_out), "b.xlsx", "1"],
            "bare in memory": [python, "-c", BARE_XLSXWRITER, str(csv_out), "m.xlsx", "0"],
        }
        runs: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                if name.startswith("bare"):  # relative target: in the temporary folder
                    runs[name].append(timed_in(folder, command))
                else:
                    runs[name].append(timed(command))
        sizes = {
            name: (folder / file).stat().st_size / 2**20
            for name, file in (
                ("csv", "p.csv"),
                ("xlsx", "p.xlsx"),
                ("bare xlsxwriter", "b.xlsx"),
            )
        }

    print(
        f"{args.products:,} products; median of {args.repeat} runs, {os.cpu_count()} cores; "
        "each a whole process"
    )
    print("| run | seconds | ÷ csv | ÷ bare xlsxwriter | peak memory |")
    print("|---|---|---|---|---|")
    csv_seconds = statistics.median(s for s, _ in runs["csv"])
    bare = statistics.median(s for s, _ in runs["bare xlsxwriter"])
    for name, samples in runs.items():
        seconds = statistics.median(s for s, _ in samples)
        memory = max(m for _, m in samples)
        print(
            f"| {name} | {seconds:.2f} | {seconds / csv_seconds:.2f} | {seconds / bare:.2f} "
            f"| {memory} MiB |"
        )
    print(", ".join(f"{name} file {size:.1f} MiB" for name, size in sizes.items()))
    print(f"whole benchmark {time.perf_counter() - started:.0f} s")


def timed_in(folder: Path, command: list[str]) -> tuple[float, int]:
    """`timed`, run in `folder` (the bare scripts write their workbook there)."""
    here = os.getcwd()
    os.chdir(folder)
    try:
        return timed(command)
    finally:
        os.chdir(here)


if __name__ == "__main__":
    main()
