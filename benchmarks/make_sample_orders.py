"""Write `sample_data/orders_a005.csv`: orders from the demo's planned session for anchor
A005 on 2026-12-01, as the platform's order export writes them (UTF-8 with BOM).

    python benchmarks/make_sample_orders.py

The products, live prices, slots and expected units are those of the demo's run sheet
(sample_data/brief_a005.yaml); each product sells around its expectation, some above, some
below, and one product the plan did not have sells too. A fixed seed makes the file the same
every time. Most orders are received and settle by the shop's score; some are refunded in
part, some cancelled (已失效), some paid later (先用后付), some shared with a second-level team
leader, and a few without rates (the products' are used).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSION = "ZC20261201A005"
RUN_SHEET = [  # product, live price (fen), rates when paid, start minute, minutes, expected units
    ("1002020148105", 990, "40%", "6%", 0, 3, 676),
    ("1007020037265", 12900, "40%", "6%", 3, 6, 82),
    ("1007020111966", 5900, "35%", "5%", 9, 6, 212),
    ("1007020185104", 4900, "20%", "5%", 15, 6, 223),
    ("1001020185237", 5900, "35%", "6%", 21, 6, 116),
    ("1002020259776", 1990, "35%", "5%", 27, 3, 437),
    ("1004020000711", 9900, "25%", "5%", 30, 6, 61),
    ("1006020111246", 39900, "35%", "5%", 36, 8, 8),
    ("1007020000677", 19900, "25%", "3%", 44, 6, 23),
    ("1004020074347", 9900, "30%", "2%", 50, 6, 52),
    ("1003020074829", 2990, "15%", "2%", 56, 3, 354),
    ("1006020185397", 29900, "20%", "3%", 59, 8, 9),
    ("1001020000493", 8900, "35%", "8%", 67, 10, 153),
    ("1001020074477", 5900, "30%", "6%", 77, 10, 248),
    ("1002020333657", 4990, "35%", "3%", 87, 10, 568),
    ("1002020185146", 2990, "25%", "3%", 97, 3, 330),
    ("1004020185416", 15900, "25%", "8%", 100, 10, 62),
    ("1001020037470", 12900, "20%", "6%", 110, 10, 70),
    ("1004020111411", 8900, "35%", "3%", 120, 10, 136),
    ("1003020000213", 1990, "15%", "5%", 130, 3, 273),
    ("1006020148402", 19900, "30%", "3%", 133, 10, 39),
    ("1003020111118", 4900, "25%", "2%", 143, 10, 150),
    ("1006020074170", 59900, "25%", "3%", 153, 8, 3),
    ("1003020185239", 990, "15%", "3%", 161, 3, 657),
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


# The anchor added a product the plan did not have (加播): sold in the peak, off the sheet.
UNPLANNED = ("1001020148650", 6900, "30%", "3%", 125, 6, 0)
# How each product sold against its expectation, drawn per product: some beat the plan,
# most land near it, some miss.
SOLD_AGAINST_PLAN = [0.35, 0.6, 0.8, 0.9, 1.0, 1.05, 1.15, 1.3, 1.6]


def rows(rng: random.Random) -> list[list[str]]:
    out = []
    for product, price, commission, fee, start, minutes, expected in [*RUN_SHEET, UNPLANNED]:
        units = round(expected * rng.choice(SOLD_AGAINST_PLAN)) if expected else 140
        refund_share = rng.choice([0.02, 0.05, 0.08, 0.2])  # some products come back more
        while units > 0:
            quantity = min(units, rng.choice([1, 1, 1, 2, 3]))
            units -= quantity
            out.append(
                order(rng, product, price * quantity, quantity, start, minutes, refund_share)
                | {"commission": commission, "fee": fee}
            )
    rng.shuffle(out)
    out.sort(key=lambda row: row["paid_at"])
    return [_line(number, row) for number, row in enumerate(out, start=1)]


def order(rng, product, paid, quantity, start, minutes, refund_share) -> dict:
    # Paid during the product's slot, or in the few minutes after it (the link stays up).
    second = (20 * 60 + start) * 60 + rng.randrange((minutes + 4) * 60)
    paid_at = f"2026-12-01 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    roll = rng.random()
    status, refund, received = "已收货", "", f"2026-12-0{rng.choice([3, 4, 5])}"
    if roll < refund_share * 0.4:
        status, refund, received = "已失效", yuan(paid), ""
    elif roll < refund_share:
        refund = yuan(paid // (2 if quantity == 1 else quantity))
    elif roll < refund_share + 0.17:
        status, received = "已发货", ""
    return {
        "product": product,
        "paid": paid,
        "quantity": quantity,
        "paid_at": paid_at,
        "status": status,
        "refund": refund,
        "received": received,
        "pay_later": rng.random() < 0.15,
        "no_rates": rng.random() < 0.02,  # an export without rates: the products' are used
        "second": rng.random() < 0.3,
    }


def _line(number: int, row: dict) -> list[str]:
    commission, fee = ("", "") if row["no_rates"] else (row["commission"], row["fee"])
    # A second-level team leader at 2%, where the first level's net fee leaves room.
    second = row["second"] and fee not in ("", "2%")
    return [
        f"KS{20261201000000 + number}",
        row["product"],
        "A005",
        SESSION,
        str(row["quantity"]),
        yuan(row["paid"]),
        row["paid_at"],
        row["status"],
        row["refund"],
        row["received"],
        commission,
        fee,
        "L2-0001" if second else "",
        "2%" if second else "",
        "是" if row["pay_later"] else "否",
    ]


def main() -> None:
    path = ROOT / "sample_data" / "orders_a005.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows(random.Random(2026)))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
