"""Reports through the installed `haowu`: a session review with no order to measure says so
(terminal, JSON, page) instead of an all-zero review, and `report merchants` defaults to the
latest month that is not in the future. Today is `HAOWU_TODAY`."""

from __future__ import annotations

import json

DAY = {"HAOWU_TODAY": "2026-12-10"}  # after the demo session (2026-12-01) and its orders


def test_a_named_session_with_no_orders_says_none_matched(haowu, demo_db, tmp_path):
    args = ("--db", demo_db, "report", "session", "1", "--orders-session", "NOPE")
    ran = haowu(*args, "--format", "json", env=DAY)
    assert ran.code == 0, ran
    review = json.loads(ran.out)
    assert review["notes"][0].startswith("no orders matched 专场 NOPE: nothing to measure")
    figures = review["figures"]
    assert figures["orders"] == 0
    # Nothing was measured: null, not 0% and not "24 missed".
    assert figures["achievement"] is None and figures["verdicts"] is None
    assert figures["regulars"] is None and figures["refund_rate"] is None
    assert {row["verdict"] for row in review["tables"]["products"]} == {None}
    assert {row["achievement"] for row in review["tables"]["products"]} == {None}

    ran = haowu(*args, "--html", "review.html", env=DAY)
    assert ran.code == 0, ran
    assert ran.out.splitlines()[2].startswith("no orders matched 专场 NOPE")  # under the title
    assert "no orders matched 专场 NOPE" in (tmp_path / "review.html").read_text(encoding="utf-8")


def test_a_session_yet_to_come_has_no_orders_yet(haowu, demo_copy):
    planned = haowu(
        "--db", demo_copy, "plan-session", "--anchor", "A005", "--date", "2026-12-20",
        "--min-products", "5", env=DAY,
    )  # fmt: skip
    assert planned.code == 0, planned
    ran = haowu("--db", demo_copy, "report", "session", "2", "--format", "json", env=DAY)
    assert ran.code == 0, ran
    review = json.loads(ran.out)
    assert review["notes"][0] == (
        "no orders yet: the session is on 2026-12-20, after today (2026-12-10)"
    )
    assert review["figures"]["achievement"] is None
    ran = haowu("--db", demo_copy, "report", "session", "2", env=DAY)
    assert "no orders yet" in ran.out and " 0% " not in ran.out


ORDERS = (
    "订单编号,商品ID,达人ID,专场ID,购买数量,实付金额,支付时间,订单状态,退款金额,收货时间,"
    "佣金率,团长服务费率\n"
    "KS-NEXT-1,1002020148105,A005,ZC-NEXT,1,9.90,2027-01-15 20:00:01,已发货,,,40%,6%\n"
    "KS-NEXT-2,1002020148105,A005,ZC-NEXT,1,9.90,2027-01-15 20:00:02,已发货,,,40%,6%\n"
)


def test_merchants_default_to_the_latest_month_not_in_the_future(haowu, demo_copy, tmp_path):
    (tmp_path / "next.csv").write_text(ORDERS, encoding="utf-8")
    # Imported on a day they are not in the future, whatever the import checks.
    ran = haowu(
        "--db", demo_copy, "import", "--kind", "orders", "next.csv",
        env={"HAOWU_TODAY": "2027-02-01"},
    )  # fmt: skip
    assert ran.code == 0, ran

    ran = haowu("--db", demo_copy, "report", "merchants", "--format", "json", env=DAY)
    assert ran.code == 0, ran
    report = json.loads(ran.out)
    assert report["figures"]["month"] == "2026-12"
    assert (
        "2 orders are dated after this month (to 2027-01): see them with --month YYYY-MM"
        in (report["notes"])
    )
    named = haowu("--db", demo_copy, "report", "merchants", "--month", "2027-01", "-f", "json")
    assert json.loads(named.out)["figures"]["month"] == "2027-01"
    ran = haowu(
        "--db", demo_copy, "report", "merchants", "-f", "json", env={"HAOWU_TODAY": "2027-02-01"}
    )
    assert json.loads(ran.out)["figures"]["month"] == "2027-01"
