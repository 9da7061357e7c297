"""A live session, simulated: order exports that grow while a plan's session runs, with time
compressed, for `haowu live` to follow.

    python benchmarks/simulate_live.py --db haowu.duckdb --plan 1 --out drop/
        [--orders 2000] [--speed 60] [--mode grow|files] [--seed 1]

Reads the plan's first session (products, slots, expected units) and writes orders in the
快手 back office's order export format (`kuaishou_order_export` in configs/sources.yaml:
payment time to the second, Beijing time) as the session goes: each product sells in its
slot, about in proportion to its expected units, with a room that runs hotter or colder by
product (seeded), and now and then a product that is not on the run sheet. `--speed` is
session minutes per real second (60: a 3-hour session in 3 minutes; 0: everything at once).
`--mode grow` saves one file again and again (订单导出.csv, the export saved anew);
`--mode files` drops a new file per minute of session. Prints each file as it is saved.
Follow it with `haowu live 1 --orders drop/` in another terminal.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from haowu_cli.live_simulation import HEADER, OFF_SHEET, simulate, write_export  # noqa: E402

__all__ = ["HEADER", "OFF_SHEET", "plan_session", "simulate", "write_export"]


def plan_session(db: Path, plan_id: int):
    """The plan's first session as `haowu_cli.live.SessionSheet`."""
    from haowu_cli import store
    from haowu_cli.live import session_sheet

    with store.Store(db).read() as con:
        items = store.plan_items(con, plan_id)
    sheet = session_sheet(plan_id, items, 1)
    if sheet is None:
        raise SystemExit(f"no plan {plan_id}")
    return sheet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--plan", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--speed", type=float, default=60.0, help="session minutes a second")
    parser.add_argument("--mode", choices=("grow", "files"), default="grow")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--until", help="HH:MM: stop at this session time")
    args = parser.parse_args()
    sheet = plan_session(args.db, args.plan)
    rows = simulate(sheet, args.orders, args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    end = sheet.start + timedelta(minutes=sheet.minutes)
    if args.until:
        hours, minutes = (int(x) for x in args.until.split(":"))
        end = min(end, sheet.start.replace(hour=hours, minute=minutes))
    written, minute = 0, sheet.start
    while minute < end:
        minute += timedelta(minutes=1)
        upto = written
        while upto < len(rows) and rows[upto][0] < minute:
            upto += 1
        if upto > written:
            if args.mode == "grow":
                path = args.out / "订单导出.csv"
                write_export(path, [r for _, r in rows[:upto]])
            else:
                path = args.out / f"订单导出_{minute:%H%M}.csv"
                write_export(path, [r for _, r in rows[written:upto]])
            print(f"{minute:%H:%M} {path.name}: {upto:,} orders so far", flush=True)
            written = upto
        if args.speed > 0:
            time.sleep(60 / args.speed / 60)


if __name__ == "__main__":
    main()
