"""Benchmark the platform's files: `haowu import` of a 订单导出 and `haowu reconcile` of its
结算明细, each against a bare DuckDB run over the same file, in the same run.

    python benchmarks/bench_platform.py [--lines 1000000] [--repeat 3]

Writes (in a child process) an 订单导出 of `--lines` SKU lines with all its columns, the
activity's items and the 结算明细 of every completed line (make_platform_samples.py), then
times, each a whole process:
  bare read       DuckDB `CREATE TABLE … AS SELECT * FROM read_csv(…, all_varchar = true)` of
                  the export into a fresh database file: no cleaning, no split
  haowu import    `haowu import order_export.csv` into a database holding the items: read,
                  check, split and post every line's ledger entries
  bare join       the 结算明细 read by DuckDB and joined with the orders and their ledger
                  as stored (since schema 11 its table of a row per order posting, a column
                  per share), summed per line (no party mapping, nothing kept)
  haowu reconcile `haowu reconcile settlement.csv` on the imported database: it also takes
                  the 结算明细's settlement dates into the orders and the ledger (the export
                  gives none), reposting every line's entries on its day
  reconcile again the same on a database reconciled once: the comparison alone
and prints each median with its ratio to its bare run and the peak memory of each.
`--no-import` leaves out the timing of the import (the database is still imported once).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import measured  # noqa: E402

BARE_READ = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [sys.argv[2]])
con.close()
"""

BARE_JOIN = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute('''
    CREATE TEMP TABLE s AS SELECT * FROM read_csv(?, all_varchar = true)
''', [sys.argv[2]])
# The ledger as stored: a row per order posting, a column per share (schema 11), or else a
# row per entry (before it).
wide = con.execute(
    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ledger_postings'"
).fetchall()[0][0]
amount = (
    "l.base_fen + l.merchant_fen + l.anchor_fen + l.agency_fen + l.leader_fen "
    "+ l.second_leader_fen + l.commission_cut_fen + l.service_fee_cut_fen + l.technical_fee_fen"
    if wide else "l.amount_fen"
)
table = "ledger_postings" if wide else "ledger"
con.execute(f'''
    CREATE TEMP TABLE j AS
    SELECT s."订单号", s."商品ID", any_value(s."达人佣金(元)") AS platform,
           sum({amount}) AS haowu
    FROM s JOIN orders o ON o.platform_order_id = s."订单号" AND o.product_id = s."商品ID"
    JOIN {table} l USING (order_id)
    GROUP BY ALL
''')
con.close()
"""


def median_run(make, repeat: int, ok=(0, 3, 4)) -> tuple[float, float, int]:
    """Median wall and CPU seconds of `repeat` runs, and the highest peak memory."""
    runs = [measured(make(), ok_codes=ok) for _ in range(repeat)]
    return (
        statistics.median(s for s, _, _ in runs),
        statistics.median(c for _, c, _ in runs),
        max(m for _, _, m in runs),
    )


def fresh(folder: Path, name: str) -> Path:
    for leftover in folder.glob(name + "*"):
        leftover.unlink()
    return folder / name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-import", action="store_true", help="time reconcile only")
    args = parser.parse_args()
    python = sys.executable
    haowu = [python, "-m", "haowu_cli", "--quiet"]
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        make = [python, str(HERE / "make_platform_samples.py"), str(folder), str(args.lines)]
        subprocess.run(make, check=True)
        export, settlement = folder / "order_export.csv", folder / "settlement.csv"
        items = folder / "activity_items.json"
        base = folder / "items.duckdb"
        subprocess.run(haowu + ["--db", str(base), "import", str(items)], check=True)

        def with_items(name: str) -> str:
            target = fresh(folder, name)
            shutil.copy(base, target)
            return str(target)

        results = {}
        if not args.no_import:
            results["bare read"] = median_run(
                lambda: [python, "-c", BARE_READ, str(fresh(folder, "bare.duckdb")), str(export)],
                args.repeat,
            )
            results["haowu import"] = median_run(
                lambda: haowu + ["--db", with_items("h.duckdb"), "import", str(export)],
                args.repeat,
            )
        imported = folder / "imported.duckdb"
        shutil.copy(base, imported)
        # The databases the timed runs start from, made by haowu itself; their output is
        # not the benchmark's (a reconcile prints every line that differs).
        subprocess.run(
            haowu + ["--db", str(imported), "import", str(export)],
            check=True,
            stdout=subprocess.DEVNULL,
        )

        def copy_of_imported() -> str:
            target = fresh(folder, "r.duckdb")
            shutil.copy(imported, target)
            return str(target)

        reconciled = folder / "reconciled.duckdb"
        shutil.copy(imported, reconciled)
        done = subprocess.run(
            haowu + ["--db", str(reconciled), "reconcile", str(settlement)],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        if done.returncode not in (0, 4):  # 4: differences found, which the file has
            raise SystemExit(f"reconcile failed (exit {done.returncode})")

        def copy_of_reconciled() -> str:
            target = fresh(folder, "a.duckdb")
            shutil.copy(reconciled, target)
            return str(target)

        results["bare join"] = median_run(
            lambda: [python, "-c", BARE_JOIN, copy_of_imported(), str(settlement)], args.repeat
        )
        results["haowu reconcile"] = median_run(
            lambda: haowu + ["--db", copy_of_imported(), "reconcile", str(settlement)],
            args.repeat,
        )
        results["reconcile again"] = median_run(
            lambda: haowu + ["--db", copy_of_reconciled(), "reconcile", str(settlement)],
            args.repeat,
        )
        lines = sum(1 for _ in settlement.open(encoding="utf-8-sig")) - 1
        print(
            f"{args.lines:,} export lines ({export.stat().st_size / 1e6:.0f} MB), "
            f"{lines:,} settlement lines; medians of {args.repeat}"
        )
        print(f"{'run':<18}{'seconds':>9}{'ratio':>8}{'CPU s':>9}{'ratio':>8}{'peak MiB':>10}")
        for name, (seconds, cpu, peak) in results.items():
            bare = results["bare read" if "import" in name or "read" in name else "bare join"]
            print(
                f"{name:<18}{seconds:>9.2f}{seconds / bare[0]:>8.2f}{cpu:>9.2f}"
                f"{cpu / bare[1]:>8.2f}{peak:>10,}"
            )


if __name__ == "__main__":
    main()
