"""Benchmark `haowu live --once` with a session of 200,000 orders, against the first plan's
solve and the cheapest command, in the same run.

    python benchmarks/bench_live.py [--orders 200000] [--landing 200] [--repeat 3]

Builds the demo database (`haowu demo`: plan 1 for anchor A005), writes the session's orders
as one back-office export (`simulate_live.py`, every minute of the session) and imports it
with `haowu live 1 --orders FILE --once` (timed once: the first read of a whole night). Then
it times, `--repeat` times each:
  baseline  the whole `haowu anchors --format csv`: process start and database open
  landing   `haowu live 1 --orders NEW.csv --once --at 23:00 --format json`: a new export
            file of `--landing` orders lands (import, one transaction, ledger) and the
            snapshot is worked out over the whole session's orders (the live view's work
            when a file lands)
  snapshot  the same with an empty folder: the snapshot alone
  plan      `haowu plan-session --brief sample_data/brief_a005.yaml --dry-run`: the first
            plan's solve, whole command
and prints medians, ratios to the baseline and to the plan's solve, and peak memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import timed  # noqa: E402
from simulate_live import plan_session, simulate, write_export  # noqa: E402

HAOWU = str(Path(sys.executable).parent / "haowu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--landing", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["HAOWU_LANG"] = "en"
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db = work / "live.duckdb"
        timed([HAOWU, "--quiet", "--db", str(db), "demo"])
        sheet = plan_session(db, 1)
        night = work / "night.csv"
        rows = simulate(sheet, args.orders, seed=1)
        write_export(night, [r for _, r in rows])
        live = [HAOWU, "--quiet", "--db", str(db), "live", "1", "--once", "--at", "23:00"]
        first, first_mib = timed([*live, "--orders", str(night), "--format", "json"], (0, 3))
        print(
            f"first read of the night: {len(rows):,} order lines in {first:.2f} s, "
            f"peak {first_mib} MiB"
        )
        empty = work / "empty"
        empty.mkdir()
        runs: dict[str, list[tuple[float, int]]] = {
            k: [] for k in ("baseline", "landing", "snapshot", "plan")
        }
        for attempt in range(args.repeat):
            landing = work / f"landing_{attempt}.csv"
            extra = simulate(sheet, args.landing, seed=100 + attempt)
            write_export(landing, [[f"L{attempt}{r[0]}", *r[1:]] for _, r in extra])
            runs["baseline"].append(timed([HAOWU, "--db", str(db), "anchors", "--format", "csv"]))
            runs["landing"].append(
                timed([*live, "--orders", str(landing), "--format", "json"], (0, 3))
            )
            runs["snapshot"].append(timed([*live, "--orders", str(empty), "--format", "json"]))
            brief = str(ROOT / "sample_data" / "brief_a005.yaml")
            runs["plan"].append(
                timed(
                    [
                        HAOWU,
                        "--quiet",
                        "--db",
                        str(db),
                        "plan-session",
                        "--brief",
                        brief,
                        "--dry-run",
                        "--format",
                        "json",
                    ]
                )
            )
    median = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    peak = {k: max(m for _, m in v) for k, v in runs.items()}
    for key in ("baseline", "landing", "snapshot", "plan"):
        print(
            f"{key:9} {median[key]:6.2f} s  ×{median[key] / median['baseline']:5.2f} baseline"
            f"  ×{median[key] / median['plan']:5.2f} plan  peak {peak[key]} MiB"
        )


if __name__ == "__main__":
    main()
