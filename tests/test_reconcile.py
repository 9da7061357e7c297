"""对账 through its core function: each category (matched, differs, only on the platform,
only in haowu), the settled order JSON, and the platform's settlement date in the ledger."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from haowu_cli.config import packaged_path
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_files
from haowu_cli.ingest.platform import load_sources
from haowu_cli.reconcile import reconcile

CONFIGS = packaged_path("configs")
SETTLED = 1742929200000  # 2025-03-26 03:00 in Beijing


@pytest.fixture
def sources():
    return load_sources(CONFIGS)


def order(oid: int, settled: int = SETTLED) -> dict:
    return {
        "oid": oid,
        "promotionId": 2288765432,
        "cpsOrderStatus": 60,
        "payTime": 1741436165000,
        "recvTime": 1741678800000,
        "settlementSuccessTime": settled,
        "payAmount": 12900,
        "settlementAmount": 12900,
        "regimentalPromotionRate": 50,
        "regimentalPromotionAmount": 645,
        "cpsOrderProductView": [{"itemId": 101, "sellerId": 9, "commissionRate": 205}],
    }


@pytest.fixture
def imported(store, sources, tmp_path):
    """Three settled orders of ¥129.00: commission 20.5% (¥26.45 at half up), service fee 5%
    (¥6.45), technical fee 5% (¥6.45), merchant ¥89.65."""
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"data": {"orderView": [order(1), order(2), order(3)]}}))
    kinds = {name: load_kind(name, CONFIGS) for name in ("products", "orders")}
    options = ImportOptions(
        sources=sources, kinds=kinds, kind_given=False, config_dir=CONFIGS, today=date(2026, 1, 1)
    )
    [report] = import_files(store, [path], kinds["orders"], options)
    assert report.inserted == 3, report.rejections
    return store


HEADER = ["订单号", "商品ID", "达人佣金（元）", "团长佣金(元)", "技术服务费(元)",
          "实际结算金额(元)", "快赚客佣金(元)", "实际结算时间"]  # fmt: skip


def settlement(tmp_path: Path, rows: list[list[str]]) -> Path:
    path = tmp_path / "结算明细.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def states(result) -> dict[str, str]:
    return dict(result.detail.select("platform_order_id", "state").unique().iter_rows())


def test_each_category(imported, sources, tmp_path):
    path = settlement(
        tmp_path,
        [
            ["1", "101", "26.45", "6.45", "6.45", "89.65", "0.00", "2025-03-26 03:00:00"],
            ["2", "101", "26.45", "6.95", "6.45", "89.15", "-", "2025/03/26"],
            ["9", "101", "1.00", "-", "-", "-", "-", "2025-03-26 10:00:00"],
        ],
    )
    result = reconcile(imported, [path], sources)
    assert states(result) == {
        "1": "matched",
        "2": "differs",
        "9": "only_platform",
        "3": "only_haowu",  # settled on the 26th in haowu, absent from the file
    }
    differs = result.detail.filter(pl.col("platform_order_id") == "2")
    by_party = {r["party"]: r["difference_fen"] for r in differs.iter_rows(named=True)}
    assert by_party == {"anchor": 0, "leader": 50, "technical_fee": 0, "merchant": -50}
    assert result.line_states() == {
        "matched": 1,
        "differs": 1,
        "only_platform": 1,
        "only_haowu": 1,
    }
    with imported.read() as con:
        kept = con.execute(
            "SELECT platform_order_id, party, amount_fen FROM platform_settlements "
            "WHERE platform_order_id = '2' ORDER BY party"
        ).fetchall()
    assert ("2", "leader", 695) in kept


def test_reading_again_replaces_the_kept_lines(imported, sources, tmp_path):
    row = ["1", "101", "26.45", "6.45", "6.45", "89.65", "0.00", "2025-03-26 03:00:00"]
    path = settlement(tmp_path, [row])
    reconcile(imported, [path], sources)
    result = reconcile(imported, [path], sources)
    assert states(result)["1"] == "matched"
    with imported.read() as con:
        assert con.execute("SELECT count(*) FROM platform_settlements").fetchone()[0] == 5


def test_settled_order_json(imported, sources, tmp_path):
    settled = [order(1), order(2), order(3)]
    settled[1]["regimentalPromotionAmount"] = 600
    path = tmp_path / "settled.json"
    path.write_text(json.dumps({"data": {"orderView": settled}}))
    result = reconcile(imported, [path], sources)
    assert result.files[0][1] == "快手开放平台已结算订单 JSON"
    assert states(result) == {"1": "matched", "2": "differs", "3": "matched"}


def test_settlement_date_from_the_platform(imported):
    with imported.read() as con:
        days = con.execute("SELECT DISTINCT settles_on FROM ledger").fetchall()
    assert days == [(date(2025, 3, 26),)]


def test_settled_order_json_of_several_items(store, sources, tmp_path):
    """An order of two items (¥600 + ¥400 of goods): imported as two lines, and its settled
    JSON's order-level 团长 fee (¥50.00) compared line by line, shared the same way."""
    two = order(7) | {
        "payAmount": 100000,
        "settlementAmount": 100000,
        "regimentalPromotionAmount": 5000,
        "cpsOrderProductView": [
            {"itemId": 101, "itemPrice": 30000, "num": 2, "sellerId": 9, "commissionRate": 200},
            {"itemId": 102, "itemPrice": 40000, "num": 1, "sellerId": 9, "commissionRate": 100},
        ],
    }
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"data": {"orderView": [two]}}))
    kinds = {name: load_kind(name, CONFIGS) for name in ("products", "orders")}
    options = ImportOptions(
        sources=sources, kinds=kinds, kind_given=False, config_dir=CONFIGS, today=date(2026, 1, 1)
    )
    [report] = import_files(store, [path], kinds["orders"], options)
    assert report.inserted == 2, report.rejections
    result = reconcile(store, [path], sources)
    leader = result.detail.filter(pl.col("party") == "leader")
    assert dict(leader.select("product_id", "platform_fen").iter_rows()) == {
        "101": 3000,
        "102": 2000,
    }
    assert set(leader["state"]) == {"matched"}
    two["regimentalPromotionAmount"] = 5001  # a fen more: on the larger line
    path.write_text(json.dumps({"data": {"orderView": [two]}}))
    result = reconcile(store, [path], sources)
    assert states_by_line(result) == {"101": "differs", "102": "matched"}


def states_by_line(result) -> dict[str, str]:
    return dict(result.detail.select("product_id", "state").unique().iter_rows())


def test_the_platforms_settlement_date_dates_orders_that_had_none(store, sources, tmp_path):
    """Orders received without a date (as the 订单导出 gives them) have no settlement date
    in haowu; the 结算明细's 实际结算时间 becomes theirs, ledger and all, once."""
    waiting = order(4, settled=0) | {"cpsOrderStatus": 50, "recvTime": 0}
    path = tmp_path / "orders.json"
    path.write_text(json.dumps({"data": {"orderView": [waiting]}}))
    kinds = {name: load_kind(name, CONFIGS) for name in ("products", "orders")}
    options = ImportOptions(
        sources=sources, kinds=kinds, kind_given=False, config_dir=CONFIGS, today=date(2026, 1, 1)
    )
    [report] = import_files(store, [path], kinds["orders"], options)
    assert report.inserted == 1, report.rejections

    def ledger():
        with store.read() as con:
            return con.execute(
                "SELECT account, item, settles_on, sum(amount_fen) FROM ledger "
                "GROUP BY ALL HAVING sum(amount_fen) <> 0 ORDER BY ALL"
            ).fetchall(), con.execute("SELECT count(*) FROM ledger").fetchone()[0]

    before, _rows = ledger()
    assert {day for _a, _i, day, _f in before} == {None}
    row = ["4", "101", "26.45", "6.45", "6.45", "89.65", "-", "2025-03-27 10:00:00"]
    result = reconcile(store, [settlement(tmp_path, [row])], sources)
    assert result.dated == 1 and states(result) == {"4": "matched"}
    assert result.detail["settles_on"].unique().to_list() == [date(2025, 3, 27)]
    after, rows = ledger()
    assert [(a, i, f) for a, i, _d, f in after] == [(a, i, f) for a, i, _d, f in before]
    assert {day for _a, _i, day, _f in after} == {date(2025, 3, 27)}
    with store.read() as con:
        assert con.execute("SELECT settled_at FROM orders").fetchone()[0].day == 27
        change = con.execute("SELECT field, old_value, new_value FROM order_changes").fetchall()
        kinds_seen = [k for (k,) in con.execute("SELECT kind FROM imports").fetchall()]
    assert change == [("settled_at", None, "2025-03-27 10:00:00")]
    assert "settlements" in kinds_seen
    again = reconcile(store, [settlement(tmp_path, [row])], sources)
    assert again.dated == 0 and ledger()[1] == rows  # read again: nothing moves


def test_a_line_that_dates_several_orders_is_recorded_in_lines(store, sources, tmp_path):
    """Two SKU lines of one product in one 订单导出 order are two of haowu's orders and one
    settlement line: the import record counts lines (read, updated, unchanged), never a
    negative number unchanged."""
    from tests.test_platform import EXPORT, export_row

    path = tmp_path / "订单导出.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(
            [
                EXPORT,
                export_row("5", "101", SKU编码="A"),
                export_row("5", "101", SKU编码="B"),
                export_row("6", "101"),
            ]
        )
    kinds = {name: load_kind(name, CONFIGS) for name in ("products", "orders")}
    options = ImportOptions(
        sources=sources, kinds=kinds, kind_given=False, config_dir=CONFIGS, today=date(2026, 1, 1)
    )
    [report] = import_files(store, [path], kinds["orders"], options)
    assert report.inserted == 3, report.rejections
    rows = [
        ["5", "101", "52.90", "12.90", "12.90", "179.30", "0.00", "2025-03-27 10:00:00"],
        ["6", "101", "26.45", "6.45", "6.45", "89.65", "0.00", "2025-03-28 10:00:00"],
    ]
    result = reconcile(store, [settlement(tmp_path, rows)], sources)
    assert result.dated == 3
    with store.read() as con:
        record = con.execute(
            "SELECT rows_read, updated, unchanged FROM imports WHERE kind = 'settlements'"
        ).fetchall()
    assert record == [(2, 2, 0)]
