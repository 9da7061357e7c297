"""Benchmark `haowu live replan` for a 4-hour session, against the first plan's solve and the
cheapest command, in the same run.

    python benchmarks/bench_replan.py [--size 2000] [--orders N] [--at 20:40] [--repeat 3]

Builds a database of `--size` generated, graded products and one anchor (`bench_plan.py`'s
`prepare`: the 240-minute brief of 30–40 products with category and role bounds), plans the
session (plan 1, from 19:00), simulates its orders (`haowu_cli.live_simulation`, a room hot
for 美妆 and cold for 食品) and imports those paid by `--at` with `haowu live 1 --once`. Then
it times, `--repeat` times each:
  baseline  the whole `haowu anchors --format csv`: process start and database open
  plan      the whole `haowu plan-session --brief … --dry-run --format json`: the first
            plan's solve (every candidate worked out, pruned, solved and proven optimal)
  replan    the whole `haowu live replan 1 --at HH:MM --dry-run --format json`: the orders
            so far read, the pace worked out, every candidate again with its remaining stock
            and updated expectations, the rest of the night solved and proven optimal
and prints medians with their ratios to the baseline and to the plan, peak memory, the
replan's status, variables and the solver's own seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_plan import brief_yaml, prepare  # noqa: E402
from harness import timed  # noqa: E402
from simulate_live import plan_session  # noqa: E402

from haowu_cli.live_simulation import paid_by, simulate, write_export  # noqa: E402

HAOWU = str(Path(sys.executable).parent / "haowu")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=2_000)
    parser.add_argument(
        "--orders", type=int, default=0, help="order lines [default: as the plan expects]"
    )
    parser.add_argument("--at", default="20:40")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["HAOWU_LANG"] = "en"
    haowu = [HAOWU, "--quiet"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db, brief = prepare(work, args.size, haowu)
        brief_file = work / "brief.yaml"
        brief_file.write_text(brief_yaml(brief), encoding="utf-8")
        subprocess.run(
            [*haowu, "--db", db, "plan-session", "--brief", str(brief_file)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        sheet = plan_session(Path(db), 1)
        hours, minutes = (int(x) for x in args.at.split(":"))
        moment = datetime.combine(sheet.session_date, datetime.min.time()).replace(
            hour=hours, minute=minutes
        )
        # About as many order lines as the plan expects units (1.6 units a line on average),
        # so that the pace is near 1 and the room's heat by category shows.
        count = args.orders or round(int(sheet.items["expected_units"].sum()) / 1.6)
        rows = simulate(sheet, count, seed=3, category_heat={"美妆": 1.8, "食品": 0.6})
        export = work / "orders.csv"
        write_export(export, paid_by(rows, moment))
        live = [*haowu, "--db", db, "live", "1", "--once", "--at", args.at, "-f", "json"]
        subprocess.run([*live, "--orders", str(export)], check=False, stdout=subprocess.DEVNULL)
        plan = [*haowu, "--db", db, "plan-session", "--brief", str(brief_file), "--dry-run"]
        replan = [*haowu, "--db", db, "live", "replan", "1", "--at", args.at, "--dry-run"]
        runs: dict[str, list[tuple[float, int]]] = {k: [] for k in ("baseline", "plan", "replan")}
        for _attempt in range(args.repeat):
            runs["baseline"].append(timed([HAOWU, "--db", db, "anchors", "--format", "csv"]))
            runs["plan"].append(timed([*plan, "--format", "json"]))
            runs["replan"].append(timed([*replan, "--format", "json"]))
        answer = subprocess.run(
            [*replan, "--format", "json"], check=True, capture_output=True, text=True
        )
        result = json.loads(answer.stdout)
    median = {k: statistics.median(s for s, _ in v) for k, v in runs.items()}
    peak = {k: max(m for _, m in v) for k, v in runs.items()}
    print(
        f"{args.size:,} products, {len(paid_by(rows, moment)):,} orders by {args.at}; replan "
        f"{result['status']}, {result['solver']['variables']:,} variables, solver "
        f"{result['solver']['seconds']:.2f} s, expected gain "
        f"¥{result['expected_gain_fen'] / 100:,.2f}"
        f" ({len(result['dropped'])} dropped, {len(result['added'])} added, "
        f"{len(result['moved'])} moved)"
    )
    print("pace:", json.dumps(result["pace"], ensure_ascii=False))
    for key in ("baseline", "plan", "replan"):
        print(
            f"{key:9} {median[key]:6.2f} s  ×{median[key] / median['baseline']:5.2f} baseline"
            f"  ×{median[key] / median['plan']:5.2f} plan  peak {peak[key]} MiB"
        )


if __name__ == "__main__":
    main()
