"""`haowu commission` dates, through the installed `haowu`: `--paid-from/--paid-to` (alias
`--from/--to`) pick orders by the day they were paid, whenever they were imported; `--as-of`
is the ledger as it stood at the end of a day, and says on stderr which orders paid by then
it cannot show because they were imported later."""

from __future__ import annotations

import csv
import io
import json

# November orders of the demo's products, imported now (December or later): after their month.
NOVEMBER = (
    "订单编号,商品ID,达人ID,专场ID,购买数量,实付金额,支付时间,订单状态,退款金额,收货时间,"
    "佣金率,团长服务费率\n"
    "KS-NOV-1,1002020148105,A005,ZC-NOV,1,9.90,2026-11-03 20:00:01,已发货,,,40%,6%\n"
    "KS-NOV-2,1002020148105,A005,ZC-NOV,1,9.90,2026-11-04 20:00:02,已发货,,,40%,6%\n"
    "KS-NOV-3,1002020148105,A005,ZC-NOV,1,50.00,2026-11-20 20:00:02,已发货,,,40%,6%\n"
)


def base(ran) -> str | None:
    rows = [r for r in json.loads(ran.out) if r["party"] == "base"]
    return rows[0]["estimated"] if rows else None


def test_paid_dates_and_the_posting_day(haowu, demo_copy, tmp_path):
    (tmp_path / "november.csv").write_text(NOVEMBER, encoding="utf-8")
    ran = haowu("--db", demo_copy, "import", "--kind", "orders", "november.csv")
    assert ran.code == 0, ran

    # As of 5 November the ledger had none of them: the report says why, and what to use.
    as_of = haowu("--db", demo_copy, "commission", "--as-of", "2026-11-05", "-f", "json")
    assert as_of.code == 0, as_of
    assert base(as_of) is None
    assert (
        "2 orders paid on or before 2026-11-05 were imported after it and are not in the "
        "ledger as of 2026-11-05; every order paid by then, as known today: --paid-to "
        "2026-11-05 (without --as-of)"
    ) in as_of.err

    # The business-date view: every order paid by 5 November, as known today.
    paid = haowu("--db", demo_copy, "commission", "--paid-to", "2026-11-05", "-f", "json")
    assert paid.code == 0, paid
    assert base(paid) == "19.80" and "imported after" not in paid.err
    month = ("--paid-from", "2026-11-01", "--paid-to", "2026-11-30")
    november = haowu("--db", demo_copy, "commission", *month, "-f", "json")
    assert base(november) == "69.80"  # the demo's own orders are paid in December
    alias = haowu("--db", demo_copy, "commission", "--from", "2026-11-01", "--to", "2026-11-30")
    assert alias.code == 0 and "paid from 2026-11-01, paid to 2026-11-30" in alias.out

    by_day = haowu("--db", demo_copy, "commission", *month, "--by", "day", "-f", "csv")
    assert by_day.code == 0, by_day
    days = {r["day"]: r["base"] for r in csv.DictReader(io.StringIO(by_day.out))}
    assert days == {"2026-11-03": "9.90", "2026-11-04": "9.90", "2026-11-20": "50.00"}


def test_paid_dates_the_wrong_way_round_are_a_usage_error(haowu, demo_db):
    ran = haowu(
        "--db", demo_db, "commission", "--paid-from", "2026-12-31", "--paid-to", "2026-12-01"
    )
    assert ran.code == 2, ran
    assert "--paid-from 2026-12-31 is after --paid-to 2026-12-01" in ran.err and ran.out == ""
