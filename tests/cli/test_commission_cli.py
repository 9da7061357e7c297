"""`haowu import --kind orders`, `haowu commission` and `haowu export ledger|orders` as a
team leader and finance use them."""

from __future__ import annotations

import json

import pytest

from tests.conftest import write_csv

ORDERS = [
    [
        "订单号",
        "商品ID",
        "达人ID",
        "专场ID",
        "实付金额",
        "支付时间",
        "订单状态",
        "收货时间",
        "佣金率",
        "团长服务费率",
        "二级团长ID",
        "二级团长服务费率",
    ],
    [
        "O1",
        "P1",
        "A1",
        "S1",
        "¥100.00",
        "2026-12-01 20:00:00",
        "已收货",
        "2026-12-03",
        "20%",
        "5%",
        "L2",
        "3%",
    ],
    ["O2", "P1", "A1", "S1", "59.90", "2026/12/1", "paid", "", "20%", "5%", "", ""],
    ["O3", "P1", "A1", "S2", "10", "2026-12-02", "已完成?", "", "20%", "5%", "", ""],
]


@pytest.fixture
def ledger(cli, tmp_path):
    write_csv(
        tmp_path / "p.csv",
        [
            ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率", "店铺评分"],
            ["P1", "M1", "面霜", "美妆", "100", "20%", "4.9"],
        ],
    )
    write_csv(tmp_path / "a.csv", [["达人ID", "达人昵称"], ["A1", "甲"]])
    assert cli("--db", "h.duckdb", "import", "p.csv").code == 0
    assert cli("--db", "h.duckdb", "import", "--kind", "anchors", "a.csv").code == 0
    result = cli(
        "--db", "h.duckdb", "import", "--kind", "orders", write_csv(tmp_path / "o.csv", ORDERS)
    )
    assert result.code == 3, result.err  # O3's status is unreadable: rejected, the rest in
    assert "row 4, 订单状态 '已完成?': not an order status" in result.err
    assert "ledger: posted the split of 2 orders" in result.err
    return lambda *args: cli("--db", "h.duckdb", *args)


def test_commission_by_party_with_the_check_line(ledger):
    result = ledger("commission", "--as-of", "2027-01-01")
    assert result.code == 0
    assert (
        "merchant 商家" in result.out and "¥111.92" in result.out
    )  # 70.00 + 41.92 (¥59.90 less 11.98, 3.00, 3.00)
    assert (
        "check: estimated: parts ¥159.90 add up to the base ¥159.90; settled: parts ¥100.00"
        in result.err
    )


def test_commission_json_is_one_row_per_party_and_item(ledger):
    rows = json.loads(ledger("commission", "--as-of", "2027-01-01", "--format", "json").out)
    assert rows[0] == {"party": "base", "item": "base", "estimated": "159.90", "settled": "100.00"}
    assert {r["party"] for r in rows} == {
        "base",
        "merchant",
        "anchor",
        "leader",
        "second_leader",
        "platform",
    }


def test_commission_by_day_and_filters(ledger):
    result = ledger("commission", "--by", "day", "--session", "S1", "--format", "csv")
    assert result.out.splitlines() == [
        "day,orders,base,merchant,anchor,agency,leader,second_leader,platform,settled_base,check",
        "2026-12-01,2,159.90,111.92,28.78,0.00,4.20,3.00,12.00,0.00,0.00",
    ]
    none = ledger("commission", "--from", "2026-12-02", "--format", "csv")
    assert none.out.strip() == "party,item,estimated,settled"


def test_export_ledger_and_orders_for_excel(ledger, tmp_path):
    assert ledger("export", "ledger", "--excel", "--out", "l.csv").code == 0
    lines = (tmp_path / "l.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == (
        "import_id,posted_at,order_id,merchant_id,anchor_id,session_id,paid_on,entry,account,item,"
        "party_id,settles_on,amount"
    )
    assert any(
        ",O1,M1,A1,S1,2026-12-01,post,second_leader,net,L2,2026-12-10,3.00" in line
        for line in lines
    )
    result = ledger("export", "orders")
    assert result.out.splitlines()[1].startswith("O1,P1,M1,美妆,A1,S1,,100.00,2026-12-01,received")


def test_from_after_to_is_a_usage_error(ledger):
    result = ledger("commission", "--from", "2026-12-31", "--to", "2026-12-01")
    assert result.code == 2 and "--paid-from 2026-12-31 is after --paid-to 2026-12-01" in result.err


def test_a_dry_run_says_it_would_post(ledger, tmp_path):
    rows = [
        ORDERS[0],
        ["O9", "P1", "A1", "S1", "10", "2026-12-02", "已付款", "", "20%", "5%", "", ""],
    ]
    result = ledger("import", "--kind", "orders", "--dry-run", write_csv(tmp_path / "d.csv", rows))
    assert "ledger: would post the split of 1 orders" in result.err
