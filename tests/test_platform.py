"""The platform's own files (configs/sources.yaml) through the import pipeline: every source,
every unit, every status word and code, and the awkward cells (`-`, mixed parentheses,
empty or absent nested lists, unknown codes)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, InputFileError
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_files
from haowu_cli.ingest.platform import detect, load_sources
from tests.conftest import write_csv, write_xlsx, written_to

CONFIGS = packaged_path("configs")
SAMPLES = packaged_path("sample_data") / "platform"

EXPORT = [
    "订单号",
    "赠品订单号",
    "活动订单编号",
    "订单创建时间",
    "订单支付时间",
    "预售定金支付时间",
    "订单状态",
    "实付款",
    "快递费",
    "店铺优惠",
    "平台补贴",
    "主播补贴",
    "混资活动优惠",
    "支付优惠",
    "支付方式",
    "成交数量",
    "买家留言",
    "账号类型",
    "账号明细",
    "订单备注",
    "旗帜颜色",
    "售后状态",
    "活动订单",
    "预售/承诺发货时间",
    "订单载体",
    "商品名称",
    "商品ID",
    "商品规格",
    "SKU编码",
    "商品单价",
    "渠道",
    "CPS达人ID",
    "CPS达人昵称",
    "预估推广佣金",
    "预估推广者分佣比例",
    "团长ID",
    "团长昵称",
    "快赚客ID",
    "快赚客昵称",
    "授权推广者ID",
    "授权推广者昵称",
    "收货人姓名",
    "收货人电话",
    "收货地址-省",
    "收货地址-市",
    "收货地址-区",
    "收货地址-街道",
    "收货地址",
    "发货时间",
    "快递公司",
    "快递单号",
    "物流信息",
    "集运类型",
    "直邮类型",
    "仓库名称",
    "仓库地址",
    "实名姓名",
    "服务门店ID",
    "服务门店名称",
    "服务门店地址",
    "国补/类国补/消费券",
]


def export_row(order: str, product: str, **cells: str) -> list[str]:
    row = dict.fromkeys(EXPORT, "-")
    row.update(
        {
            "订单号": order,
            "订单支付时间": "2025-03-08 20:15:42",
            "订单状态": "交易成功",
            "实付款": "¥129.00",
            "成交数量": "1",
            "商品ID": product,
            "渠道": "分销",
            "CPS达人ID": "3012456789",
            "预估推广者分佣比例": "20.0%",
            "收货人姓名": "欧阳娜娜",
            "收货人电话": "13912345678",
            "收货地址": "浙江省杭州市西湖区文三路1号",
            "买家留言": "欧阳娜娜要发顺丰",
        }
    )
    row.update(cells)
    return [row[h] for h in EXPORT]


@pytest.fixture
def sources():
    return load_sources(CONFIGS)


def run_import(store, sources, *paths: Path, kind: str = "products", given=False, **kw):
    kinds = {name: load_kind(name, CONFIGS) for name in ("products", "orders")}
    options = ImportOptions(
        sources=sources,
        kinds=kinds,
        kind_given=given,
        config_dir=CONFIGS,
        today=date(2026, 12, 1),
        **kw,
    )
    return import_files(store, list(paths), kinds[kind], options)


def orders(store) -> dict[str, dict]:
    with store.read() as con:
        cur = con.execute("SELECT * FROM orders ORDER BY order_id")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


# --- the config ----------------------------------------------------------------------------------


def test_packaged_sources_load(sources):
    assert {s.kind for s in sources.sources.values()} == {"orders", "products", "settlements"}
    assert sources.is_personal("收货地址-街道") and sources.is_personal("收货人电话")
    assert sources.is_personal("buyerOpenId") and not sources.is_personal("商品ID")


def test_config_problems_name_file_line_and_key(tmp_path):
    text = (CONFIGS / "sources.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "paid_amount: {from: 实付款, unit: yuan}", "paid_amount: {from: 实付款, unit: dollars}"
    )
    text = text.replace("      交易成功: received", "      交易成功: done")
    text = text.replace(
        "    label: 快手团长/机构订单表", "    label: 快手团长/机构订单表\n    lable: x"
    )
    text = text.replace(
        'split_by: {price: "cpsOrderProductView[].itemPrice", quantity',
        'split_by: {price: "itemPrice", quantity',
    )
    (tmp_path / "sources.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_sources(tmp_path)
    problems = "\n".join(caught.value.problems)
    assert "sources.yaml:" in problems
    assert "sources.kuaishou_order_export.columns.paid_amount: unknown unit 'dollars'" in problems
    assert "statuses.交易成功: 'done' is not one of" in problems
    assert "kuaishou_leader_workbook.lable: unknown key 'lable'; known: after_sale," in problems
    assert (
        "kuaishou_cps_order_json.split_by: expected {price: KEY, quantity: KEY}, keys of the "
        "line list cpsOrderProductView[]"
    ) in problems


# --- detection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("order_export.csv", "kuaishou_order_export"),
        ("leader_orders.xlsx", "kuaishou_leader_workbook"),
        ("cps_orders.json", "kuaishou_cps_order_json"),
        ("cps_orders.jsonl", "kuaishou_cps_order_json"),
        ("activity_items.json", "kuaishou_activity_items_json"),
        ("settlement.csv", "kuaishou_settlement"),
    ],
)
def test_each_sample_is_recognised(sources, name, source):
    assert detect(SAMPLES / name, sources).name == source


def test_a_sheet_of_haowu_shape_is_no_platform_file(sources):
    assert detect(packaged_path("sample_data") / "orders_a005.csv", sources) is None


def test_settlement_is_refused_by_import_with_a_pointer(store, sources):
    [report] = run_import(store, sources, SAMPLES / "settlement.csv")
    assert report.status == "failed"
    assert "haowu reconcile" in report.error.hint


def test_kind_given_and_file_of_another_kind_fails(store, sources):
    [report] = run_import(store, sources, SAMPLES / "order_export.csv", given=True)
    assert report.status == "failed" and "holds orders, not products" in report.error.message


# --- the order export ----------------------------------------------------------------------------


def test_export_units_statuses_and_lines(store, sources, tmp_path):
    rows = [
        EXPORT,
        export_row("2503081234567890", "101", 实付款="¥1,299.90", 成交数量="2"),
        export_row("2503081234567890", "102", 预估推广者分佣比例="30.0%"),  # a second line
        export_row("2503081234567891", "101", 订单状态="交易关闭", 售后状态="退款成功"),
        export_row("2503081234567892", "101", 订单状态="待发货", 订单支付时间="2025/03/09"),
        export_row("2503081234567893", "101", 订单状态="已发货", 售后状态="售后关闭"),
        export_row("2503081234567894", "101", 渠道="自营", CPS达人ID="-"),
        export_row("2503081234567895", "101", 订单状态="疑似刷单"),
        export_row("2503081234567896", "101", 售后状态="仲裁中"),
        export_row("2503081234567897", "101", 订单状态="交易关闭"),
        export_row("2503081234567898", "103", SKU编码="A"),
        export_row("2503081234567898", "103", SKU编码="B"),  # same product, another SKU
    ]
    path = write_csv(tmp_path / "export.csv", rows, encoding="utf-8-sig")
    [report] = run_import(store, sources, path, kind="products")
    assert report.status == "imported", report.error
    assert report.source == "快手商家后台订单导出"
    assert report.self_operated == [7]
    assert "收货人姓名" in report.personal_columns and "买家留言" in report.personal_columns
    reasons = {r["row"]: r for r in report.rejections.iter_rows(named=True)}
    assert reasons[8]["value"] == "疑似刷单" and "unknown status 疑似刷单" in reasons[8]["reason"]
    assert reasons[9]["column"] == "售后状态" and "仲裁中" in reasons[9]["reason"]
    counts = report.counts()
    assert counts["rows_read"] == 11 == sum(v for k, v in counts.items() if k != "rows_read")
    got = orders(store)
    first = got["2503081234567890-101"]
    assert first["platform_order_id"] == "2503081234567890"
    assert first["paid_amount_fen"] == 129990 and first["quantity"] == 2
    assert first["paid_time"] == datetime(2025, 3, 8, 20, 15, 42)
    assert first["paid_at"] == date(2025, 3, 8)
    assert first["anchor_id"] == "3012456789"
    assert first["commission_rate"] == Decimal("0.2")
    assert first["status"] == "received" and first["platform_status"] == "交易成功"
    assert got["2503081234567890-102"]["commission_rate"] == Decimal("0.3")
    refunded = got["2503081234567891-101"]
    assert refunded["status"] == "invalid" and refunded["refund_amount_fen"] == 12900
    assert refunded["platform_status"] == "交易关闭 / 退款成功"
    assert got["2503081234567892-101"]["status"] == "paid"
    assert got["2503081234567892-101"]["paid_time"] == datetime(2025, 3, 9)
    assert got["2503081234567893-101"]["status"] == "shipped"
    closed = got["2503081234567897-101"]
    assert closed["status"] == "invalid" and closed["refund_amount_fen"] is None
    assert {"2503081234567898-103", "2503081234567898-103-2"} <= set(got)
    assert not any(k.startswith("2503081234567894") for k in got)  # 自营: not split
    for order in got.values():
        assert "欧阳娜娜" not in (order["extra"] or "") and "139123" not in (order["extra"] or "")


def test_every_export_status_word_maps(store, sources, tmp_path):
    words = sources.sources["kuaishou_order_export"].statuses
    rows = [EXPORT] + [
        export_row(f"25030812345{i:05d}", "101", 订单状态=word) for i, word in enumerate(words)
    ]
    [report] = run_import(store, sources, write_csv(tmp_path / "e.csv", rows))
    assert report.rejected == 0, report.rejections
    states = {o["platform_status"]: o["status"] for o in orders(store).values()}
    assert states == dict(words)


def test_reimport_is_idempotent_and_dry_run_writes_nothing(store, sources):
    [dry] = run_import(store, sources, SAMPLES / "order_export.csv", dry_run=True)
    assert dry.status == "dry-run" and not written_to(store)
    [first] = run_import(store, sources, SAMPLES / "order_export.csv")
    [again] = run_import(store, sources, SAMPLES / "order_export.csv")
    assert first.inserted > 100 and again.inserted == again.updated == 0
    assert again.unchanged == first.inserted


def test_strict_imports_nothing_from_a_file_with_a_rejected_row(store, sources, tmp_path):
    rows = [EXPORT, export_row("2503081234567890", "101"), export_row("2", "1", 订单状态="?")]
    [report] = run_import(store, sources, write_csv(tmp_path / "e.csv", rows), strict=True)
    assert report.status == "failed" and not orders(store)


def test_a_missing_column_names_the_source(store, sources, tmp_path):
    header = [h for h in EXPORT if h != "商品ID"] + ["商品ID号"]
    rows = [header, ["1"] * len(header)]
    path = write_csv(tmp_path / "e.csv", rows)
    [report] = run_import(store, sources, path, source="kuaishou_order_export")
    assert report.status == "failed" and "no column 商品ID" in report.error.message


def test_gbk_export_with_full_width_parentheses(store, sources, tmp_path):
    header = [h.replace("预估推广者分佣比例", "预估推广者分佣比例") for h in EXPORT]
    rows = [header, export_row("2503081234567890", "101", 实付款="￥59.90")]
    path = write_csv(tmp_path / "e.csv", rows, encoding="gb18030")
    [report] = run_import(store, sources, path)
    assert report.encoding == "gb18030" and report.inserted == 1
    assert orders(store)["2503081234567890-101"]["paid_amount_fen"] == 5990


# --- the 团长 workbook ---------------------------------------------------------------------------


def test_leader_workbook_xlsx(store, sources, tmp_path):
    header = [
        "达人ID",
        "订单ID",
        "订单状态",
        "商品ID",
        "付款金额",
        "下单时间",
        "推广佣金率",
        "预估收入",
        "结算金额(元)",
        "结算时间",
        "收货时间",
    ]
    rows = [
        header,
        ["3012456789", "2503081234567890", "已结算", "101", "129.00", "2025/03/08", "20.0%",
         "25.80", "129.00", "2025-03-25 10:00:00", "2025/03/11"],
        ["3012456789", "2503081234567891", "已失效", "101", "59.90", "2025/03/08", "20.0%",
         "0", "-", "-", "-"],
    ]  # fmt: skip
    [report] = run_import(store, sources, write_xlsx(tmp_path / "w.xlsx", rows))
    assert report.source == "快手团长/机构订单表" and report.inserted == 2, report.rejections
    settled = orders(store)["2503081234567890-101"]
    assert settled["status"] == "settled" and settled["settled_amount_fen"] == 12900
    assert settled["settled_at"] == datetime(2025, 3, 25, 10)
    assert settled["received_at"] == date(2025, 3, 11)
    assert orders(store)["2503081234567891-101"]["status"] == "invalid"


def test_every_workbook_status_word_maps_and_parentheses_may_be_full_width(
    store, sources, tmp_path
):
    words = sources.sources["kuaishou_leader_workbook"].statuses
    header = ["达人ID", "订单ID", "订单状态", "商品ID", "付款金额", "下单时间", "推广佣金率",
              "预估收入", "结算金额（元）", "结算时间"]  # fmt: skip
    rows = [header] + [
        ["3012456789", f"25030812345{i:05d}", word, "101", "¥1,299.90", "2025/03/08", "20.0%",
         "-", "１２９.００" if i == 0 else "-", "2025-03-25 10:00:00" if i == 0 else "-"]
        for i, word in enumerate(words)
    ]  # fmt: skip
    [report] = run_import(store, sources, write_xlsx(tmp_path / "w.xlsx", rows))
    assert report.rejected == 0, report.rejections
    got = orders(store)
    assert {o["platform_status"]: o["status"] for o in got.values()} == dict(words)
    first = got["2503081234500000-101"]
    assert first["settled_amount_fen"] == 12900 and first["paid_amount_fen"] == 129990


def test_every_after_sale_word_maps(store, sources, tmp_path):
    words = sources.sources["kuaishou_order_export"].after_sale
    rows = [EXPORT] + [
        export_row(f"25030812345{i:05d}", "101", 售后状态=word) for i, word in enumerate(words)
    ]
    [report] = run_import(store, sources, write_csv(tmp_path / "e.csv", rows))
    assert report.rejected == 0, report.rejections
    got = orders(store)
    assert len(got) == len(words)
    for i, (word, state) in enumerate(words.items()):
        order = got[f"25030812345{i:05d}-101"]
        refunded = state == "refunded"
        assert (order["status"] == "invalid") == refunded, word
        assert order["refund_amount_fen"] == (12900 if refunded else None), word
        assert order["platform_status"] == ("交易成功 / " + word if refunded else "交易成功")


# --- open-platform JSON -------------------------------------------------------------------------


def cps_order(oid: int, code=60, products=1, **extra) -> dict:
    order = {
        "oid": oid,
        "promotionId": 2288765432,
        "buyerOpenId": "f3a9c1e07b5d4c2a9e81d6b0a4c7e255",
        "cpsOrderStatus": code,
        "payTime": 1741436165000,  # 2025-03-08 20:16:05 in Beijing
        "recvTime": 1741678800000,
        "settlementSuccessTime": 0,
        "payAmount": 12900,
        "settlementAmount": 12900,
        "regimentalPromotionRate": 50,
        "cpsOrderProductView": [
            {"itemId": 24301187765 + i, "sellerId": 1876543210, "commissionRate": 205, "num": 1}
            for i in range(products)
        ],
    }
    order.update(extra)
    return order


def write_json(path: Path, document) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("list_key", ["orderView", "orderList", "cpsOrderList"])
def test_order_json_units_and_envelopes(store, sources, tmp_path, list_key):
    document = {"result": 1, "msg": "success", "data": {"pcursor": "nomore", list_key: [
        cps_order(1, settlementSuccessTime=1742929200000),
        cps_order(2, code=80, orderRefundInfo=[{"refundFee": 12900, "refundStatus": "x"}]),
    ]}}  # fmt: skip
    [report] = run_import(store, sources, write_json(tmp_path / "o.json", document))
    assert report.source == "快手开放平台分销订单 JSON" and report.inserted == 2, report.rejections
    assert "buyerOpenId" in report.personal_columns
    got = orders(store)
    first = got["1-24301187765"]
    assert first["paid_amount_fen"] == 12900
    assert first["paid_time"] == datetime(2025, 3, 8, 20, 16, 5)
    assert first["received_at"] == date(2025, 3, 11)
    assert first["commission_rate"] == Decimal("0.205")
    assert first["service_fee_rate"] == Decimal("0.05")
    assert first["status"] == "settled" and first["platform_status"] == "60"
    assert first["settled_at"] == datetime(2025, 3, 26, 3, 0)
    assert first["merchant_id"] == "1876543210" and first["anchor_id"] == "2288765432"
    refunded = got["2-24301187765"]
    assert refunded["status"] == "invalid" and refunded["refund_amount_fen"] == 12900
    assert refunded["settled_at"] is None  # 0 means none
    assert "f3a9c1e07b5d" not in json.dumps([str(o) for o in got.values()])


def test_json_lines_codes_and_nested_lists(store, sources, tmp_path):
    pages = [
        {"data": {"orderView": [cps_order(1, code=30), cps_order(2, code=40)]}},
        {"data": {"orderView": [cps_order(3, code=50), cps_order(4, code=70)]}},
        {"data": {"orderView": [cps_order(5, cpsOrderProductView=[])]}},
        {"data": {"orderView": [{k: v for k, v in cps_order(6).items()
                                 if k != "cpsOrderProductView"}]}},
        {"data": {"orderView": [cps_order(7, products=2)]}},
        {"data": {"orderView": [cps_order(8, payAmount="12.9")]}},
    ]  # fmt: skip
    path = tmp_path / "o.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in pages), encoding="utf-8")
    [report] = run_import(store, sources, path)
    got = orders(store)
    assert [got[f"{i}-24301187765"]["status"] for i in (1, 2, 3)] == [
        "paid",
        "shipped",
        "received",
    ]
    reasons = report.rejections.rows(named=True)
    by_row = {r["row"]: r for r in reasons}
    assert "unknown status 70" in by_row[4]["reason"]
    assert by_row[5]["reason"] == "required value is missing"  # an empty product list
    assert by_row[6]["reason"] == "required value is missing"  # no product list at all
    assert "several product lines" in by_row[7]["reason"]
    assert by_row[8]["reason"] == "not a whole number of fen"
    assert report.rejected == 5


def multi_item_page() -> dict:
    """A 达人-side cursor page as the API gives it: one order of three items (two SKUs of one
    item among them) paid ¥1,000.00 after a coupon on ¥1,050.00 of goods, one of two items
    refunded in full, one of two items with an empty product list next to it."""
    three = cps_order(
        11,
        payAmount=100000,
        settlementAmount=0,
        cpsOrderProductView=[
            {
                "oid": 11,
                "itemId": 501,
                "itemTitle": "洁面乳",
                "itemPrice": 30000,
                "num": 2,
                "sellerId": 1876543210,
                "skuId": 1,
                "commissionRate": 200,
                "serviceRate": 50,
                "estimatedIncome": 11400,
            },
            {
                "oid": 11,
                "itemId": 502,
                "itemTitle": "面霜",
                "itemPrice": 45000,
                "num": 1,
                "sellerId": 1876543210,
                "skuId": 2,
                "commissionRate": 300,
                "serviceRate": 50,
            },
            {
                "oid": 11,
                "itemId": 502,
                "itemTitle": "面霜 小样",
                "itemPrice": 0,
                "num": 1,
                "sellerId": 1876543210,
                "skuId": 3,
                "commissionRate": 300,
                "serviceRate": 50,
            },
        ],
    )
    refunded = cps_order(
        12,
        code=80,
        payAmount=1001,
        orderRefundInfo=[{"refundFee": 1001, "refundStatus": "REFUND_SUCCESS",
                          "startRefundTime": 1741500000000, "endRefundTime": 1741600000000}],
        cpsOrderProductView=[
            {"itemId": 601, "itemPrice": 500, "sellerId": 1, "commissionRate": 100},
            {"itemId": 602, "itemPrice": 500, "sellerId": 1, "commissionRate": 100},
        ],
    )  # fmt: skip
    return {"result": 1, "msg": "success", "requestId": "r-1",
            "data": {"pcursor": "nomore", "orderView": [three, refunded]}}  # fmt: skip


def test_an_order_of_several_items_is_one_line_per_item(store, sources, tmp_path):
    [report] = run_import(store, sources, write_json(tmp_path / "p.json", multi_item_page()))
    assert report.inserted == 5 and report.rejected == 0, report.rejections
    got = orders(store)
    first, second, sample = got["11-501"], got["11-502"], got["11-502-2"]
    # ¥1,000.00 over ¥600 + ¥450 + ¥0 of goods: 571.42857… and 428.57142… to the fen,
    # the spare fen to the larger remainder; the shares add up to the order's amount.
    assert (first["paid_amount_fen"], second["paid_amount_fen"]) == (57143, 42857)
    assert sample["paid_amount_fen"] == 0
    assert first["quantity"] == 2 and second["quantity"] == 1
    assert first["commission_rate"] == Decimal("0.2") and second["commission_rate"] == Decimal(
        "0.3"
    )
    assert {o["platform_order_id"] for o in (first, second, sample)} == {"11"}
    assert json.loads(first["extra"])["shared_by_line_value"] == "payAmount, settlementAmount"
    # A full refund of a two-item order: each line's whole share goes back (an odd fen too).
    a, b = got["12-601"], got["12-602"]
    assert (a["paid_amount_fen"], b["paid_amount_fen"]) == (501, 500)
    assert (a["refund_amount_fen"], b["refund_amount_fen"]) == (501, 500)
    assert a["status"] == b["status"] == "invalid"
    with store.read() as con:
        bases = dict(
            con.execute(
                "SELECT order_id, sum(amount_fen) FROM ledger WHERE account = 'base' GROUP BY 1"
            ).fetchall()
        )
    assert bases["11-501"] + bases["11-502"] == 100000  # the split works per line
    assert "12-601" not in bases


def test_an_order_of_several_items_without_prices_is_refused(store, sources, tmp_path):
    page = {"data": {"orderView": [cps_order(21, products=2), cps_order(22)]}}
    [report] = run_import(store, sources, write_json(tmp_path / "p.json", page))
    assert report.inserted == 1
    reasons = report.rejections.rows(named=True)
    assert {r["row"] for r in reasons} == {1}
    assert "cpsOrderProductView[].itemPrice" in reasons[0]["reason"]


@pytest.mark.parametrize(
    ("amount", "weights", "shares"),
    [
        (100000, [60000, 45000, 0], [57143, 42857, 0]),
        (1001, [500, 500], [501, 500]),
        (-1001, [500, 500], [-501, -500]),
        (10, [1, 1, 1], [4, 3, 3]),
        (0, [3, 7], [0, 0]),
        (12900, [12900], [12900]),
    ],
)
def test_share_fen_adds_up_to_the_fen(amount, weights, shares):
    from haowu_cli.ingest.platform import share_fen

    assert share_fen(amount, weights) == shares and sum(shares) == amount


def test_case_varying_keys(store, sources, tmp_path):
    order = cps_order(1)
    order["PayAmount"] = order.pop("payAmount")
    order["serviceInCome"] = 3
    [report] = run_import(store, sources, write_json(tmp_path / "o.json", {"orderView": [order]}))
    assert orders(store)["1-24301187765"]["paid_amount_fen"] == 12900, report.rejections


def test_activity_items_are_products(store, sources):
    [report] = run_import(store, sources, SAMPLES / "activity_items.json")
    assert report.inserted == 40, report.rejections
    with store.read() as con:
        row = con.execute(
            "SELECT title, category_l1, category_l2, live_price_fen, commission_rate, "
            "service_fee_rate, listed_at, category_l3 FROM products "
            "WHERE product_id = '24301187765'"
        ).fetchone()
    assert row[:3] == ("山茶花洁面乳 120g", "美妆护肤", "面部护理")
    assert row[3] > 0 and row[4] > 0 and row[5] > 0 and row[6] == date(2025, 3, 1)
    assert row[7] == "洁面"  # the path's third level


def test_forced_source_for_an_unrecognised_file(store, sources, tmp_path):
    path = write_json(tmp_path / "o.txt", {"orderView": [cps_order(1)]})
    [report] = run_import(store, sources, path, source="kuaishou_cps_order_json")
    assert report.inserted == 1


def test_unreadable_json_is_a_failed_file(store, sources, tmp_path):
    path = tmp_path / "o.jsonl"
    path.write_text('{"orderView": []}\n{"orderView": [\n', encoding="utf-8")
    with pytest.raises(InputFileError):
        from haowu_cli.ingest.platform import read_platform

        read_platform(path, sources.sources["kuaishou_cps_order_json"], sources)


def test_a_large_export_read_in_parts_lands_the_same(tmp_path, sources, monkeypatch):
    """Parts of a few rows (an order's two lines split across parts among them) give the same
    orders, ledger and counts as the file read whole."""
    from haowu_cli.ingest import pipeline, platform
    from haowu_cli.store import Store

    def imported(name: str):
        store = Store(tmp_path / name, lock_timeout=10)
        run_import(store, sources, SAMPLES / "activity_items.json")
        [report] = run_import(store, sources, SAMPLES / "order_export.csv")
        with store.read() as con:
            rows = con.execute(
                "SELECT * EXCLUDE (created_import_id, updated_import_id) FROM orders "
                "ORDER BY order_id"
            ).fetchall()
            ledger = con.execute(
                "SELECT order_id, account, item, amount_fen FROM ledger ORDER BY ALL"
            ).fetchall()
        return report, rows, ledger

    whole, whole_rows, whole_ledger = imported("whole.duckdb")
    monkeypatch.setattr(pipeline, "PLATFORM_PART_BYTES", 3000)
    monkeypatch.setattr(platform, "CHUNK_BYTES", 0)
    parts, part_rows, part_ledger = imported("parts.duckdb")
    assert part_rows == whole_rows and part_ledger == whole_ledger
    assert parts.counts() == whole.counts()
    assert parts.self_operated == whole.self_operated
    assert parts.personal_columns == whole.personal_columns
    assert parts.info == whole.info and parts.notes == whole.notes
