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
import csv
import io
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

HEADER = [
    "订单号",
    "订单支付时间",
    "订单状态",
    "商品ID",
    "预估推广者分佣比例",
    "成交数量",
    "实付款",
    "CPS达人ID",
]
OFF_SHEET = "9900000000001"  # a product on no run sheet, in no database


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


def simulate(sheet, count: int, seed: int = 1) -> list[tuple[datetime, list[str]]]:
    """About `count` order lines over the session, sorted by payment time."""
    rng = random.Random(seed)
    items = list(sheet.items.iter_rows(named=True))
    weights = [max(int(i["expected_units"]), 1) for i in items]
    heat = [rng.uniform(0.5, 1.6) for _ in items]  # the room, product by product
    total = sum(w * h for w, h in zip(weights, heat, strict=True))
    rows = []
    for index, (item, weight, hot) in enumerate(zip(items, weights, heat, strict=True)):
        lines = max(1, round(count * weight * hot / total))
        begin = sheet.start + timedelta(minutes=int(item["start_minute"]))
        for line in range(lines):
            paid = begin + timedelta(seconds=rng.uniform(0, int(item["minutes"]) * 60))
            units = rng.choice((1, 1, 1, 2, 3))
            price = int(item["live_price_fen"])
            product = item["product_id"] if rng.random() > 0.01 else OFF_SHEET
            order_id = f"S{sheet.plan_id}{index:03d}{line:07d}"
            rows.append((paid, _row(order_id, paid, product, units, price, sheet.anchor_id)))
    rows.sort(key=lambda r: r[0])
    return rows


def _row(order_id, paid, product, units, price_fen, anchor) -> list[str]:
    amount = units * price_fen
    return [
        order_id,
        paid.strftime("%Y-%m-%d %H:%M:%S"),
        "已付款",
        product,
        "20.0%",
        str(units),
        f"¥{amount // 100}.{amount % 100:02d}",
        anchor,
    ]


def write_export(path: Path, rows: list[list[str]]) -> None:
    """Save an export whole (written aside, then renamed in: a reader never sees half)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    part = path.with_name(path.name + ".part")
    part.write_bytes(buffer.getvalue().encode("utf-8-sig"))
    os.replace(part, path)


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
