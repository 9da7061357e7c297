"""A live session, simulated: the order lines a plan's session brings, in the 快手 back
office's order export format, for `haowu live` to follow (the demo's 跟播 step and
`benchmarks/simulate_live.py`, which writes them as growing exports with time compressed).

Each product sells in its slot, about in proportion to its expected units, with a room that
runs hotter or colder by product (seeded) and, if given, by category; now and then a product
that is not on the run sheet sells. Payment times are to the second, Beijing time
(`kuaishou_order_export` in configs/sources.yaml reads them).
"""

from __future__ import annotations

import csv
import io
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

from haowu_cli.live import SessionSheet

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


def simulate(
    sheet: SessionSheet,
    count: int,
    seed: int = 1,
    *,
    category_heat: dict[str, float] | None = None,
) -> list[tuple[datetime, list[str]]]:
    """About `count` order lines over the session, sorted by payment time: (paid, row)."""
    rng = random.Random(seed)
    items = list(sheet.items.iter_rows(named=True))
    weights = [max(int(i["expected_units"]), 1) for i in items]
    heat = [rng.uniform(0.5, 1.6) * (category_heat or {}).get(i["category_l1"], 1.0) for i in items]
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


def _row(
    order_id: str, paid: datetime, product: str, units: int, price_fen: int, anchor: str
) -> list[str]:
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


def paid_by(rows: list[tuple[datetime, list[str]]], moment: datetime) -> list[list[str]]:
    """The rows paid before `moment`: the export as the back office would save it then."""
    return [row for paid, row in rows if paid < moment]
