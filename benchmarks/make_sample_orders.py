"""Write `sample_data/orders_a005.csv`: orders from the demo's planned session for anchor
A005 on 2026-12-01, as the platform's order export writes them (GBK-free UTF-8 with BOM).

    python benchmarks/make_sample_orders.py

The products and live prices are those of the demo's run sheet (sample_data/brief_a005.yaml).
A fixed seed makes the file the same every time. Most orders are received and settle by the
shop's score; some are refunded in part, some cancelled (已失效), a few paid later (先用后付),
some shared with a second-level team leader, and a few without rates (the products' are used).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION = "ZC20261201A005"
RUN_SHEET = [  # product, live price (fen), commission and service-fee rates when paid
    ("1002020148105", 990, "40%", "6%"),
    ("1007020037265", 12900, "40%", "6%"),
    ("1007020111966", 5900, "35%", "5%"),
    ("1007020185104", 4900, "20%", "5%"),
    ("1001020185237", 5900, "35%", "6%"),
    ("1002020259776", 1990, "35%", "5%"),
    ("1004020000711", 9900, "25%", "5%"),
    ("1006020111246", 39900, "35%", "5%"),
    ("1007020000677", 19900, "25%", "3%"),
    ("1004020074347", 9900, "30%", "2%"),
    ("1003020074829", 2990, "15%", "2%"),
    ("1006020185397", 29900, "20%", "3%"),
    ("1001020000493", 8900, "35%", "8%"),
    ("1001020074477", 5900, "30%", "6%"),
    ("1002020333657", 4990, "35%", "3%"),
    ("1002020185146", 2990, "25%", "3%"),
    ("1004020185416", 15900, "25%", "8%"),
    ("1001020037470", 12900, "20%", "6%"),
    ("1004020111411", 8900, "35%", "3%"),
    ("1003020000213", 1990, "15%", "5%"),
    ("1006020148402", 19900, "30%", "3%"),
    ("1003020111118", 4900, "25%", "2%"),
    ("1006020074170", 59900, "25%", "3%"),
    ("1003020185239", 990, "15%", "3%"),
]
HEADER = [
    "订单编号",
    "商品ID",
    "达人ID",
    "专场ID",
    "购买数量",
    "实付金额",
    "支付时间",
    "订单状态",
    "退款金额",
    "收货时间",
    "佣金率",
    "团长服务费率",
    "二级团长ID",
    "二级团长服务费率",
    "先用后付",
]


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def rows(rng: random.Random, count: int = 80) -> list[list[str]]:
    out = []
    for number in range(1, count + 1):
        product, price, commission, fee = rng.choice(RUN_SHEET)
        quantity = rng.choice([1, 1, 1, 2, 3])
        paid = price * quantity
        minute = rng.randrange(0, 180)
        paid_at = f"2026-12-01 {20 + minute // 60:02d}:{minute % 60:02d}:{rng.randrange(60):02d}"
        roll = rng.random()
        status, refund, received = "已收货", "", f"2026-12-0{rng.choice([3, 4, 5])}"
        if roll < 0.08:
            status, refund, received = "已失效", yuan(paid), ""
        elif roll < 0.18:
            refund = yuan(paid // (2 if quantity == 1 else quantity))
        elif roll < 0.35:
            status, received = "已发货", ""
        if rng.random() < 0.1:  # an export without rates: the products' current ones are used
            commission = fee = ""
        # A second-level team leader at 2%, where the first level's net fee leaves room.
        second = fee not in ("", "2%") and rng.random() < 0.3
        out.append(
            [
                f"KS{20261201000 + number}",
                product,
                "A005",
                SESSION,
                str(quantity),
                yuan(paid),
                paid_at,
                status,
                refund,
                received,
                commission,
                fee,
                "L2-0001" if second else "",
                "2%" if second else "",
                "是" if rng.random() < 0.15 else "否",
            ]
        )
    return out


def main() -> None:
    path = ROOT / "sample_data" / "orders_a005.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(random.Random(2026)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
