"""Benchmark `haowu plan-session` against the cheapest command, and its plan against a greedy.

    python benchmarks/bench_plan.py [--sizes 1000 10000 100000] [--repeat 3]

For each size, imports a generated product sheet (`generate.py`) and one anchor, grades the
products, and plans one session of about 40 products (`BRIEF` below: product count, minutes,
level and commission floors, category and role bounds, at most so many per merchant). Then
it times, in the same run:
  baseline    the whole `haowu anchors --format csv` command: process start and database
              open, the least any command costs
  json        the whole `haowu plan-session --dry-run --format json` command (process start
              to exit), which works out every candidate (eligible, role, minutes, expected
              sales), prunes dominated ones, solves the MILP with HiGHS until it is proven
              optimal, and prints the plan with every candidate
  table       the same with `--format table`: the run sheet only, no candidates printed
and prints each median with its ratio to the baseline, the json run's peak memory, the
solver's status (optimal = proven) and the variables left after pruning, and the objective
against a greedy plan computed here from the json run's candidates:

  greedy      best objective value first, every constraint of the MILP kept: it first meets
              the minimums (the deals the run sheet opens and closes with, then each category
              and role minimum) with the best products that fit, then adds the best remaining
              ones until products.max or the minutes run out. A product that fits but would
              break the deal spacing (at most `deal_every` other items per deal, session.yaml
              `sequence`) brings the best deal that fits in with it. The greedy keeps the
              same counts as the MILP, so its plan is one the MILP could choose: the optimum
              is never below it. Neither orders the run sheet (peak window, first and last
              deal): that is done after choosing and is not part of the choice.

The generator gives about 200 products per merchant, so 1,000 products come from only 5
merchants; max_per_merchant is therefore the smallest cap (at least 2) that lets
products.max products in at that size, and is printed.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import timed  # noqa: E402

# One anchor whose main categories are among the generator's (generate.CATEGORIES). At a
# ¥299 ticket about a tenth of the products are deals (引流款, at most 0.4 × the ticket) and
# a tenth image items (形象款, at least 3 ×).
ANCHORS_CSV = (
    "达人ID,达人昵称,粉丝数,女粉占比,主要年龄段,客单价,主营类目,场均时GMV,机构,机构分成比例\n"
    "B001,基准主播,120万,75%,25-34,¥299,美妆、食品、日百,8万,,\n"
)
BRIEF = {
    "anchor": "B001",
    "date": "2026-11-23",
    "minutes": 240,  # tight: the plans fill it, so the minutes act as a knapsack
    "products": {"min": 30, "max": 40},
    "min_level": "L2",
    "min_commission_rate": 0.1,
    "max_per_merchant": 2,  # raised where there are too few merchants (prepare)
    "categories": {
        "美妆": {"min": 6, "max": 12},
        "食品": {"min": 5, "max": 10},
        "日百": {"min": 3, "max": 8},
        "珠宝玉石": {"max": 3},
    },
    "roles": {
        "引流款": {"min": 6},
        "主推款": {"min": 4, "max": 14},
        "形象款": {"max": 4},
    },
    "objective": "team_income",
}
TARGET_SIZE, TARGET_SECONDS = 100_000, 3.0


def brief_yaml(brief: dict) -> str:
    """The brief as YAML: strings quoted (a bare 2026-11-23 would be a date), bounds in
    flow style."""
    lines = []
    for key, value in brief.items():
        if isinstance(value, dict) and key != "products":
            lines.append(f"{key}:")
            for name, bounds in value.items():
                lines.append(f"  {name}: {flow(bounds)}")
        elif isinstance(value, dict):
            lines.append(f"{key}: {flow(value)}")
        elif isinstance(value, str):
            lines.append(f'{key}: "{value}"')
        else:
            lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"


def flow(bounds: dict) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in bounds.items()) + "}"


def merchants_in(sheet: Path) -> int:
    with sheet.open(encoding="utf-8", newline="") as handle:
        return len({row["商家ID"] for row in csv.DictReader(handle)})


def fen(yuan: str | None) -> int | None:
    return None if yuan is None else int(Decimal(yuan) * 100)


def yuan(amount: int | None) -> str:
    return "—" if amount is None else f"{amount // 100:,}.{amount % 100:02d}"


def greedy(candidates: list[dict], brief: dict, sequence) -> int | None:
    """The greedy plan's objective in fen (see the module docstring), or None when it
    cannot meet the brief's minimums."""
    pool = [c | {"fen": fen(c["objective_value"])} for c in candidates if c["eligible"]]
    pool.sort(key=lambda c: (-c["fen"], c["minutes"], c["product_id"]))
    deal_roles = set(sequence.deal_roles)
    deals_needed, deal_every = sequence.deal_slots_needed, sequence.deal_every
    categories, roles = brief["categories"], brief["roles"]
    most, cap = brief["products"]["max"], brief["max_per_merchant"]
    chosen: list[dict] = []
    taken: set[str] = set()
    count = Counter()  # "merchant:M1", "category:美妆", "role:引流款", "deals", "others", "minutes"

    def is_deal(c: dict) -> bool:
        return c["role"] in deal_roles

    def keys(c: dict) -> list[str]:
        return [
            f"merchant:{c['merchant_id']}",
            f"category:{c['category_l1']}",
            f"role:{c['role']}",
            "deals" if is_deal(c) else "others",
        ]

    def fits(c: dict) -> bool:
        """Every constraint but the deal spacing holds with c added."""
        return (
            c["product_id"] not in taken
            and len(chosen) < most
            and count["minutes"] + c["minutes"] <= brief["minutes"]
            and count[f"merchant:{c['merchant_id']}"] < cap
            and count[f"category:{c['category_l1']}"]
            < categories.get(c["category_l1"], {}).get("max", math.inf)
            and count[f"role:{c['role']}"] < roles.get(c["role"], {}).get("max", math.inf)
        )

    def spaced(c: dict) -> bool:
        """The deal spacing holds with c added: others ≤ deal_every × (deals + 1 − needed)."""
        if is_deal(c) or not deal_every:
            return True
        return count["others"] + 1 <= deal_every * (count["deals"] + 1 - deals_needed)

    def take(c: dict) -> None:
        chosen.append(c)
        taken.add(c["product_id"])
        count.update(keys(c))
        count["minutes"] += c["minutes"]

    def drop(c: dict) -> None:
        chosen.remove(c)
        taken.discard(c["product_id"])
        count.subtract(keys(c))
        count["minutes"] -= c["minutes"]

    def add(c: dict) -> bool:
        """Add c, with the best deal that fits if c needs one for the spacing."""
        if spaced(c):
            take(c)
            return True
        deal = next((d for d in pool if is_deal(d) and fits(d)), None)
        if deal is None:
            return False
        take(deal)
        if fits(c) and spaced(c):
            take(c)
            return True
        drop(deal)
        return False

    minimums = [("deals", is_deal, deals_needed)]
    minimums += [
        (f"category:{name}", lambda c, n=name: c["category_l1"] == n, b.get("min", 0))
        for name, b in categories.items()
    ]
    minimums += [
        (f"role:{name}", lambda c, n=name: c["role"] == n, b.get("min", 0))
        for name, b in roles.items()
    ]
    for key, member, least in sorted(minimums, key=lambda m: m[0] != "deals"):
        rejected: set[str] = set()
        while count[key] < least:
            c = next(
                (c for c in pool if member(c) and c["product_id"] not in rejected and fits(c)),
                None,
            )
            if c is None:
                return None
            if not add(c):
                rejected.add(c["product_id"])
    for c in pool:
        if len(chosen) >= most:
            break
        if fits(c):
            add(c)
    if len(chosen) < brief["products"].get("min", 0):
        return None
    return sum(c["fen"] for c in chosen)


def prepare(folder: Path, size: int, haowu: list[str]) -> tuple[list[str], dict]:
    """A database of `size` graded products and the anchor, and the brief for it: the
    plan-session command (without --format) and the brief as planned."""
    sheet, db = folder / f"products_{size}.csv", str(folder / f"plan_{size}.duckdb")
    anchors, brief_file = folder / "anchors.csv", folder / f"brief_{size}.yaml"
    anchors.write_text(ANCHORS_CSV, encoding="utf-8")
    # In a child process, as in bench_import.py: generate.write_sheet(size, sheet).
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", "--kind", "anchors", str(anchors)], check=True)
    subprocess.run([*haowu, "--db", db, "grade", "--as-of", "2026-11-22"], check=True)
    brief = dict(BRIEF)
    most = brief["products"]["max"]
    brief["max_per_merchant"] = max(2, math.ceil(most / merchants_in(sheet)))
    brief_file.write_text(brief_yaml(brief), encoding="utf-8")
    return [*haowu, "--db", db, "plan-session", "--brief", str(brief_file), "--dry-run"], brief


def median(runs: list[tuple[float, int]]) -> float:
    return statistics.median(seconds for seconds, _ in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configs = ROOT / "configs"
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(configs)]
    measured = []
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        # Time every size first and read the plans after: a parent grown by reading them
        # would pass its memory on to the commands it starts (harness.timed).
        for size in args.sizes:
            plan, brief = prepare(folder, size, haowu)
            db = plan[plan.index("--db") + 1]
            # A first run of the baseline warms the file cache and is not counted.
            base = [timed([*haowu, "--db", db, "anchors", "--format", "csv"])]
            as_json = [*plan, "--format", "json"]
            runs, table_runs = [], []
            for _ in range(args.repeat):
                base.append(timed([*haowu, "--db", db, "anchors", "--format", "csv"]))
                runs.append(timed(as_json, ok_codes=(0, 1)))  # 1: no plan meets the brief
                table_runs.append(timed([*plan, "--format", "table"], ok_codes=(0, 1)))
            answer = folder / f"plan_{size}.json"
            with answer.open("wb") as out:  # once more, to read what it printed
                subprocess.run(as_json, stdout=out, check=False)
            measured.append((size, brief, median(base[1:]), runs, median(table_runs), answer))

        from haowu_cli.planner.rules import load_rules

        sequence = load_rules(configs).sequence
        print(
            f"median of {args.repeat} runs, {os.cpu_count()} cores; json/table: the whole "
            "plan-session --dry-run command with that --format; base: haowu anchors --format csv"
        )
        print(
            f"{'candidates':>10} {'eligible':>8} {'variables':>9} {'per merch.':>10} "
            f"{'status':>8} {'json s':>7} {'÷ base':>7} {'table s':>7} {'÷ base':>7} "
            f"{'base s':>6} {'peak MiB':>8} {'objective ¥':>11} {'greedy ¥':>11} "
            f"{'opt÷greedy':>10}"
        )
        verdict = None
        for size, brief, base, runs, table, answer in measured:
            plan = json.loads(answer.read_text(encoding="utf-8"))
            candidates = plan["candidates"] or []
            eligible = sum(1 for c in candidates if c["eligible"])
            optimum = fen(plan["objective"]["value"])
            best_greedy = greedy(candidates, brief, sequence)
            ratio = (
                f"{Decimal(optimum) / Decimal(best_greedy):.4f}"
                if optimum is not None and best_greedy
                else "—"
            )
            seconds = median(runs)
            print(
                f"{len(candidates):>10,} {eligible:>8,} {plan['solver']['variables']:>9,} "
                f"{brief['max_per_merchant']:>10} {plan['status']:>8} {seconds:7.2f} "
                f"{seconds / base:7.2f} {table:7.2f} {table / base:7.2f} {base:6.2f} "
                f"{max(m for _, m in runs):8d} {yuan(optimum):>11} {yuan(best_greedy):>11} "
                f"{ratio:>10}"
            )
            if best_greedy is not None and optimum is not None and best_greedy > optimum:
                print(f"  ! the greedy beats the 'optimum' at {size:,}: a bug in one of them")
            if size == TARGET_SIZE:
                met = plan["status"] == "optimal" and seconds < TARGET_SECONDS
                verdict = (
                    f"target: {TARGET_SIZE:,} candidates proven optimal in under "
                    f"{TARGET_SECONDS:g} s (json): {'met' if met else 'NOT met'} "
                    f"({plan['status']}, {seconds:.2f} s)"
                )
        print(
            "greedy: best value first, minimums first, with every constraint of the MILP "
            "(counts, minutes, per merchant, deal spacing); neither orders the run sheet"
        )
        if verdict:
            print(verdict)


if __name__ == "__main__":
    main()
