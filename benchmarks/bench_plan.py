"""Benchmark `haowu plan-session` against the cheapest command, and its plan against a greedy.

    python benchmarks/bench_plan.py [--sizes 1000 10000 100000] [--multi-sizes 10000 100000]
                                    [--few-merchants 40000] [--repeat 3] [--before DIR]

For each size, imports a generated product sheet (`generate.py`) and one anchor, grades the
products, and plans one session of about 40 products (`BRIEF` below: product count, minutes,
level and commission floors, category and role bounds, at most so many per merchant). At the
`--multi-sizes` it also plans the same brief as two sessions with `allow_repeat: true`
(stock shared), four with it and four without; at `--few-merchants` one session over
products from only 3 merchants with `max_per_merchant: 3` (fewer than products.max can
come from them). Then it times, in the same run:
  baseline    the whole `haowu anchors --format csv` command: process start and database
              open, the least any command costs
  json        the whole `haowu plan-session --dry-run --format json` command (process start
              to exit), which works out every candidate (eligible, role, minutes, expected
              sales), prunes dominated ones, solves the MILP with HiGHS until it is proven
              optimal, and prints the plan with every candidate
  table       the same with `--format table`: the run sheet only, no candidates printed
and prints each median with its ratio to the baseline, the peak memory of the json and table
runs, the solver's status (optimal = proven) and the variables left after pruning, and the
objective against the planner's own greedy plan (`haowu_cli.planner.greedy`, the solver's
starting solution) computed here over every eligible candidate of the json run: best
value first, minimums first, every constraint of the brief kept, so its plan is one the
MILP could choose and the optimum is never below it.

With `--before DIR` (a folder holding another version's `haowu_cli`, `configs` and
`sample_data`, e.g. from `git archive COMMIT haowu_cli configs sample_data | tar -x -C DIR`)
the json and table commands also run from that code (DIR first on PYTHONPATH), in the same
turns, and a second line per case gives its figures, status, gap and variables.

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
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import measured  # noqa: E402

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


# The brief for products from 3 merchants at max_per_merchant 3: minimums that 9 products
# can meet.
FEW_MERCHANTS = {
    "products": {"min": 6, "max": 40},
    "max_per_merchant": 3,
    "categories": {"美妆": {"max": 4}},
    "roles": {"引流款": {"min": 2}, "主推款": {"max": 3}},
}


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


def greedy_fen(candidates: list[dict], brief_file: Path, configs: Path) -> int | None:
    """The planner's greedy plan over every eligible candidate the json run printed."""
    import polars as pl

    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.greedy import greedy_value
    from haowu_cli.planner.rules import load_rules

    rules = load_rules(configs)
    eligible = [c for c in candidates if c["eligible"]]
    if not eligible:
        return None
    frame = pl.DataFrame(
        {
            "session": [c["session"] - 1 for c in eligible],
            "product_id": [c["product_id"] for c in eligible],
            "merchant_id": [c["merchant_id"] for c in eligible],
            "category_l1": [c["category_l1"] for c in eligible],
            "role": [c["role"] for c in eligible],
            "minutes": [c["minutes"] for c in eligible],
            "value": [fen(c["objective_value"]) for c in eligible],
            "pinned": [False] * len(eligible),
            "expected_units": [c["expected_units"] for c in eligible],
            "stock": [c["stock"] for c in eligible],
        },
        schema_overrides={"category_l1": pl.String},
    )
    return greedy_value(frame, resolve_brief(rules, brief_file, {}), rules)


def few_merchants(sheet: Path) -> None:
    """Rewrite a generated sheet so that its products come from 3 merchants."""
    import polars as pl

    frame = pl.read_csv(sheet, infer_schema=False)
    merchant = pl.lit("FEW") + (pl.int_range(pl.len()) % 3).cast(pl.String)
    frame.with_columns(merchant.alias("商家ID"), merchant.alias("商家名称")).write_csv(sheet)


def multi_brief(brief: dict, sessions: int, allow_repeat: bool) -> str:
    """The brief as `sessions` sessions of the one anchor on consecutive days."""
    text = brief_yaml({k: v for k, v in brief.items() if k not in ("anchor", "date")})
    text += f"allow_repeat: {str(allow_repeat).lower()}\nsessions:\n"
    for day in range(sessions):
        text += f'  - {{anchor: "{brief["anchor"]}", date: "2026-11-{23 + day}"}}\n'
    return text


def read_plan(answer: Path) -> dict:
    text = answer.read_text(encoding="utf-8")
    # Tolerate anything printed before the object (HiGHS 1.16's banner, removed elsewhere).
    return json.loads(text[text.index("{") :])


def prepare(folder: Path, size: int, haowu: list[str], *, few: bool = False) -> tuple[str, dict]:
    """A database of `size` graded products and the anchor (from 3 merchants when `few`),
    and the one-session brief for it."""
    name = f"{size}{'_few' if few else ''}"
    sheet, db = folder / f"products_{name}.csv", str(folder / f"plan_{name}.duckdb")
    anchors = folder / "anchors.csv"
    anchors.write_text(ANCHORS_CSV, encoding="utf-8")
    # In a child process, as in bench_import.py: generate.write_sheet(size, sheet).
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), str(sheet)], check=True)
    if few:
        few_merchants(sheet)
    subprocess.run([*haowu, "--db", db, "import", str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", "--kind", "anchors", str(anchors)], check=True)
    subprocess.run([*haowu, "--db", db, "grade", "--as-of", "2026-11-22"], check=True)
    if few:  # 3 merchants × 3 products: at most 9 of products.max 40
        return db, BRIEF | FEW_MERCHANTS
    brief = dict(BRIEF)
    brief["max_per_merchant"] = max(2, math.ceil(brief["products"]["max"] / merchants_in(sheet)))
    return db, brief


def median(runs: list[tuple[float, int]]) -> float:
    return statistics.median(seconds for seconds, _ in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    parser.add_argument("--multi-sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--few-merchants", type=int, nargs="*", default=[40_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, help="a folder with another haowu_cli to compare")
    args = parser.parse_args()
    configs = ROOT / "configs"
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(configs)]
    before = (
        None
        if args.before is None
        else [
            "env",
            f"PYTHONPATH={args.before.resolve()}",
            *haowu[:5],
            str(args.before.resolve() / "configs"),
        ]
    )
    cases = []  # (label, size, few merchants, sessions, allow_repeat)
    for size in sorted(set(args.sizes) | set(args.multi_sizes)):
        if size in args.sizes:
            cases.append(("one session", size, False, 1, False))
        if size in args.multi_sizes:
            cases.append(("2 sessions, repeats", size, False, 2, True))
            cases.append(("4 sessions, repeats", size, False, 4, True))
            cases.append(("4 sessions, no repeats", size, False, 4, False))
    cases += [("3 merchants, cap 3", size, True, 1, False) for size in args.few_merchants]
    cases_run = []
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        databases: dict[tuple[int, bool], tuple[str, dict]] = {}
        # Time every case first and read the plans after: a parent grown by reading them
        # would pass its memory on to the commands it starts (harness.timed).
        for number, (label, size, few, sessions, repeat) in enumerate(cases):
            if (size, few) not in databases:
                databases[size, few] = prepare(folder, size, haowu, few=few)
            db, brief = databases[size, few]
            brief_file = folder / f"brief_{number}.yaml"
            text = brief_yaml(brief) if sessions == 1 else multi_brief(brief, sessions, repeat)
            brief_file.write_text(text, encoding="utf-8")
            plan = [*haowu, "--db", db, "plan-session", "--brief", str(brief_file), "--dry-run"]
            # A first run of the baseline warms the file cache and is not counted.
            cpu: dict[str, list[float]] = {}

            def timed(
                command: list[str],
                key: str,
                ok_codes: tuple[int, ...] = (0,),
                cpu: dict[str, list[float]] = cpu,
            ) -> tuple[float, int]:
                """(wall s, peak MiB) of the command; its CPU seconds kept under `key`."""
                seconds, used, peak = measured(command, ok_codes)
                cpu.setdefault(key, []).append(used)
                return seconds, peak

            base = [timed([*haowu, "--db", db, "anchors", "--format", "csv"], "warm-up")]
            as_json = [*plan, "--format", "json"]
            runs, table_runs = [], []
            old: dict[str, list[tuple[float, int]]] = {"json": [], "table": []}
            old_plan = (
                None
                if before is None
                else [*before, "--db", db, "plan-session", "--brief", str(brief_file), "--dry-run"]
            )
            for _ in range(args.repeat):
                base.append(timed([*haowu, "--db", db, "anchors", "--format", "csv"], "base"))
                runs.append(timed(as_json, "json", ok_codes=(0, 1)))  # 1: no plan meets it
                table_runs.append(timed([*plan, "--format", "table"], "table", ok_codes=(0, 1)))
                if old_plan is not None:
                    for fmt in ("json", "table"):
                        old[fmt].append(
                            timed([*old_plan, "--format", fmt], f"before {fmt}", ok_codes=(0, 1))
                        )
            answer = folder / f"plan_{number}.json"
            with answer.open("wb") as out:  # once more, to read what it printed
                subprocess.run(as_json, stdout=out, check=False)
            if old_plan is not None:
                with (folder / f"before_{number}.json").open("wb") as out:
                    subprocess.run([*old_plan, "--format", "json"], stdout=out, check=False)
            cases_run.append(
                (label, size, brief, brief_file, base[1:], runs, table_runs, answer, old, cpu)
            )

        print(
            f"median of {args.repeat} runs, {os.cpu_count()} cores; json/table: the whole "
            "plan-session --dry-run command with that --format; base: haowu anchors --format csv"
        )
        print(
            f"{'case':<22} {'candidates':>10} {'eligible':>8} {'variables':>9} {'cap':>3} "
            f"{'status':>8} {'gap':>6} {'json s':>7} {'÷ base':>6} {'table s':>7} {'÷ base':>6} "
            f"{'base s':>6} {'json MiB':>8} {'table MiB':>9} {'objective ¥':>12} "
            f"{'greedy ¥':>12} {'opt÷greedy':>10}"
        )
        for number, (
            label,
            size,
            brief,
            brief_file,
            base,
            runs,
            table_runs,
            answer,
            old,
            cpu,
        ) in enumerate(cases_run):
            plan = read_plan(answer)
            candidates = plan["candidates"] or []
            eligible = sum(1 for c in candidates if c["eligible"])
            optimum = fen((plan.get("objective") or {}).get("value"))
            best_greedy = greedy_fen(candidates, brief_file, configs)
            ratio = (
                f"{Decimal(optimum) / Decimal(best_greedy):.4f}"
                if optimum is not None and best_greedy
                else "—"
            )
            seconds, table, base_s = median(runs), median(table_runs), median(base)
            variables = (plan.get("solver") or {}).get("variables", 0)
            print(
                f"{label:<22} {len(candidates):>10,} {eligible:>8,} {variables:>9,} "
                f"{brief['max_per_merchant']:>3} {plan['status']:>8} {plan['gap']:>6.2%} "
                f"{seconds:7.2f} {seconds / base_s:6.2f} {table:7.2f} {table / base_s:6.2f} "
                f"{base_s:6.2f} {max(m for _, m in runs):8d} {max(m for _, m in table_runs):9d} "
                f"{yuan(optimum):>12} {yuan(best_greedy):>12} {ratio:>10}"
            )
            if best_greedy is not None and (optimum is None or best_greedy > optimum):
                print(f"  ! the greedy beats the plan ({label}, {size:,}): a bug in one of them")
            if old["json"]:
                was = read_plan(folder / f"before_{number}.json")
                json_s, table_s = median(old["json"]), median(old["table"])
                print(
                    f"  before: json {json_s:.2f} s ({json_s / base_s:.2f}), table "
                    f"{table_s:.2f} s ({table_s / base_s:.2f}), peak "
                    f"{max(m for _, m in old['json'])} / {max(m for _, m in old['table'])} MiB, "
                    f"{was['status']}, gap {was['gap'] or 0:.2%}, "
                    f"{(was.get('solver') or {}).get('variables') or 0:,} variables, objective "
                    f"{(was.get('objective') or {}).get('value')}; now ÷ before: json "
                    f"{seconds / json_s:.2f}, table {table / table_s:.2f}"
                )
            used = {key: statistics.median(values) for key, values in cpu.items()}
            print(
                "  CPU s (user + system, median; ÷ base): "
                + ", ".join(
                    f"{key} {value:.2f} ({value / used['base']:.2f})"
                    for key, value in used.items()
                    if key != "warm-up"
                )
                + (
                    f"; now ÷ before: json {used['json'] / used['before json']:.2f}, "
                    f"table {used['table'] / used['before table']:.2f}"
                    if "before json" in used
                    else ""
                )
            )
            base_times = [s for s, _ in base]
            print(
                f"  json runs {min(s for s, _ in runs):.2f}–{max(s for s, _ in runs):.2f} s, "
                f"base runs {min(base_times):.2f}–{max(base_times):.2f} s (the noise)"
            )
        print(
            "greedy: haowu_cli.planner.greedy over every eligible candidate: best value first, "
            "minimums first, every constraint of the brief kept; neither orders the run sheet"
        )


if __name__ == "__main__":
    main()
