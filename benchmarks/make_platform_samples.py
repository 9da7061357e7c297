"""Write `sample_data/platform/`: synthetic files in the shapes Kuaishou gives a team leader.

Every value is invented (names and phone numbers included); the shapes (headers, units,
status words, JSON envelopes) follow `PLATFORM_FORMATS.md`. Deterministic: run it again,
get the same files. Run: python benchmarks/make_platform_samples.py

- `activity_items.json`: an 已报名商品 page (activityItemDataList): the products, rates in ‰.
- `order_export.csv`: a 商家后台 订单导出 with all its columns (buyers' names, phones and
  addresses included, as the real export has them), `¥1,299.90` amounts, `-` for empty.
- `settlement.csv`: the 结算明细 of the export's completed orders, mixed （）/() headers; one
  line's 团长佣金 is ¥0.50 off and one line is an order the export lacks: `haowu reconcile`
  has something to show.
- `leader_orders.xlsx`: the 团长/MCN-side order workbook.
- `cps_orders.json` (one response) and `cps_orders.jsonl` (one response per line): the open
  platform's 团长 orders (orderView), fen and ‰, ms times.

`order_export_frame(lines)` makes an export of any size (benchmarks/bench_platform.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

OUT = Path(__file__).resolve().parents[1] / "sample_data" / "platform"
EPOCH_MS = 1_741_363_200_000  # 2025-03-08 00:00 Beijing
ACTIVITY = 7741203

EXPORT_HEADERS = [
    "订单号", "赠品订单号", "活动订单编号", "订单创建时间", "订单支付时间", "预售定金支付时间",
    "订单状态", "实付款", "快递费", "店铺优惠", "平台补贴", "主播补贴", "混资活动优惠", "支付优惠",
    "支付方式", "成交数量", "买家留言", "账号类型", "账号明细", "订单备注", "旗帜颜色", "售后状态",
    "活动订单", "预售/承诺发货时间", "订单载体", "国补类型", "商品名称", "商品ID", "商品规格",
    "SKU编码", "商品单价", "渠道", "CPS达人ID", "CPS达人昵称", "预估推广佣金", "预估推广者分佣比例",
    "团长ID", "团长昵称", "快赚客ID", "快赚客昵称", "授权推广者ID", "授权推广者昵称", "收货人姓名",
    "收货人电话", "收货地址-省", "收货地址-市", "收货地址-区", "收货地址-街道", "收货地址",
    "发货时间", "快递公司", "快递单号", "物流信息", "集运类型", "直邮类型", "仓库名称", "仓库地址",
    "发货类型", "实名姓名", "服务门店ID", "服务门店名称", "服务门店地址", "国补/类国补/消费券",
    "订单销售主体",
]  # fmt: skip

SETTLEMENT_HEADERS = [
    "商家ID", "订单号", "商品ID", "商品名称", "商品数量", "订单创建时间", "订单实付(元)",
    "政府补贴",
    "支付营销补贴", "平台补贴", "商家补贴(元)", "达人补贴", "达人补贴明细", "合计收入(元)",
    "订单退款(元)", "支付营销回退（元）", "技术服务费(元)", "预售增收技术服务费（元）", "达人ID",
    "MCN机构ID", "达人佣金(元)", "团长id", "团长佣金(元)", "佣金模式", "快赚客ID", "快赚客佣金(元)",
    "服务商ID", "服务商佣金(元)", "分账基数", "其他收费", "其他收费明细", "合计支出(元)",
    "实际结算金额(元)", "实际结算时间", "结算规则", "资金渠道", "账户名称", "结算商户号", "备注",
    "消费金信息", "运费",
]  # fmt: skip

WORKBOOK_HEADERS = [
    "达人ID", "达人昵称", "创作者ID", "创作者昵称", "订单ID", "订单状态", "订单类型", "商品ID",
    "商品名称", "商品图片", "商品价格", "赠品信息", "下单时间", "商家ID", "推广者身份", "订单金额",
    "付款金额", "货款基数", "推广佣金率", "分佣比例", "出让比例", "技术服务费", "预估收入",
    "结算金额(元)", "结算时间", "发货时间", "是否发货", "收货时间",
]  # fmt: skip

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华")
CITIES = [
    ("浙江省", "杭州市", "西湖区"),
    ("广东省", "广州市", "天河区"),
    ("四川省", "成都市", "武侯区"),
]
TITLES = ["山茶花洁面乳 120g", "玻尿酸保湿面霜 50g", "麻辣牛肉干 200g", "不锈钢保温杯 500ml",
          "纯棉四件套 1.8m", "和田玉手串", "儿童保暖内衣套装", "空气炸锅 4.5L"]  # fmt: skip
CATEGORIES = ["美妆护肤>面部护理>洁面", "美妆护肤>面部护理>面霜", "食品饮料>休闲零食>肉干",
              "家居日用>水杯>保温杯", "家纺>床品>四件套", "珠宝玉石>玉石>手串",
              "母婴>童装>内衣", "厨房家电>小家电>空气炸锅"]  # fmt: skip
STATUSES = ["交易成功", "已发货", "待发货", "交易关闭"]
STATUS_WEIGHTS = [0.6, 0.15, 0.15, 0.1]
PRODUCTS = 40
TECHNICAL_PPM = 50_000  # configs/commission.yaml: technical_fee.default (5%)


def products(count: int = PRODUCTS) -> list[dict]:
    """The activity's items (their rates are what the orders are split with)."""
    rng = np.random.default_rng(7)
    items = []
    for i in range(count):
        price = int(rng.choice([1990, 2990, 5990, 12900, 8990, 129990, 3990]))
        items.append(
            {
                "activityId": ACTIVITY,
                "itemId": 24301187765 + i * 17,
                "itemTitle": TITLES[i % len(TITLES)],
                "itemPrice": price,
                "itemStock": int(rng.integers(200, 5000)),
                "itemVolume": int(rng.integers(0, 3000)),
                "itemCategoryName": CATEGORIES[i % len(CATEGORIES)],
                "itemLeafCategoryId": 1000 + i % len(CATEGORIES),
                "itemCommissionRate": int(rng.choice([100, 150, 200, 250, 300])),
                "investmentPromotionRate": int(rng.choice([30, 50, 80])),
                "investmentPromotionRemiseRate": 0,
                "sellerId": 1876543210 + i % 5,
                "sellerNickName": ["花间集旗舰店", "川味坊", "简居日用", "玉缘坊", "小熊母婴"][
                    i % 5
                ],
                "shopId": 1876543210 + i % 5,
                "preActivityId": 0,
                "itemApplyTime": EPOCH_MS - 7 * 86_400_000 + i * 60_000,
                "cooperateBeginTime": EPOCH_MS - 86_400_000,
                "cooperateEndTime": 0,
                "itemAuditStatus": 2,
                "identity": 1,
                "itemStatus": 1,
                "baseOrderStatus": 0,
                "disabled": False,
                "contact": [],
                "contactUserType": [],
            }
        )
    return items


def _yuan(fen: pl.Expr) -> pl.Expr:
    """`¥1,299.90`, as the export writes amounts."""
    whole = (fen // 100).cast(pl.String)
    # thousands separators
    grouped = (
        whole.str.reverse().str.replace_all(r"(\d{3})", "$1,").str.reverse().str.strip_prefix(",")
    )
    return pl.lit("¥") + grouped + pl.lit(".") + (fen % 100).cast(pl.String).str.zfill(2)


def order_export_frame(lines: int, *, seed: int = 1, items: list[dict] | None = None):
    """An 订单导出 of `lines` SKU lines, every column filled as the export fills it."""
    items = items or products()
    rng = np.random.default_rng(seed)
    n = lines
    pick = rng.integers(0, len(items), n)
    # About one order in ten has a second line: it shares the previous line's order number.
    second = rng.random(n) < 0.1
    second[0] = False
    order_no = np.cumsum(~second) + 2503081234567890 - 1
    # The second line of an order is another product.
    pick = np.where(second, (np.roll(pick, 1) + 1) % len(items), pick)
    price = np.array([it["itemPrice"] for it in items])[pick]
    rate = np.array([it["itemCommissionRate"] for it in items])[pick]
    qty = rng.integers(1, 4, n)
    paid = price * qty
    status = rng.choice(STATUSES, n, p=STATUS_WEIGHTS)
    refunded = (status == "交易关闭") & (rng.random(n) < 0.5)
    self_operated = rng.random(n) < 0.04
    seconds = rng.integers(0, 20 * 86_400, n)
    anchor = rng.integers(0, 30, n)
    frame = pl.DataFrame(
        {
            "order_no": order_no,
            "product": np.array([it["itemId"] for it in items])[pick],
            "title": np.array([it["itemTitle"] for it in items])[pick],
            "price": price,
            "rate": rate,
            "qty": qty,
            "paid": paid,
            "status": status,
            "refunded": refunded,
            "self_operated": self_operated,
            "seconds": seconds,
            "anchor": anchor,
            "surname": rng.choice(SURNAMES, n),
            "given": rng.choice(GIVEN, n),
            "phone": rng.integers(13_000_000_000, 13_999_999_999, n),
            "city": rng.integers(0, len(CITIES), n),
        }
    )
    paid_time = (pl.lit(EPOCH_MS) + pl.col("seconds") * 1000).pipe(
        lambda ms: pl.from_epoch(ms, time_unit="ms")
    )
    paid_text = (paid_time + pl.duration(hours=8)).dt.strftime("%Y-%m-%d %H:%M:%S")
    commission = (pl.col("paid") * pl.col("rate") + 500) // 1000
    dash = pl.lit("-")
    name = pl.col("surname") + pl.col("given")
    province = pl.col("city").replace_strict({i: c[0] for i, c in enumerate(CITIES)})
    city = pl.col("city").replace_strict({i: c[1] for i, c in enumerate(CITIES)})
    district = pl.col("city").replace_strict({i: c[2] for i, c in enumerate(CITIES)})
    street = pl.lit("文三路") + (pl.col("seconds") % 300).cast(pl.String) + pl.lit("号")
    distribution = ~pl.col("self_operated")
    anchor_id = pl.lit(3_012_456_000) + pl.col("anchor")
    columns = {
        "订单号": pl.col("order_no").cast(pl.String),
        "赠品订单号": dash,
        "活动订单编号": pl.lit(str(ACTIVITY)),
        "订单创建时间": (paid_time + pl.duration(hours=8, seconds=-20)).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        ),
        "订单支付时间": paid_text,
        "预售定金支付时间": dash,
        "订单状态": pl.col("status"),
        "实付款": _yuan(pl.col("paid")),
        "快递费": pl.lit("¥0.00"),
        "店铺优惠": dash,
        "平台补贴": dash,
        "主播补贴": dash,
        "混资活动优惠": dash,
        "支付优惠": dash,
        "支付方式": pl.lit("微信支付"),
        "成交数量": pl.col("qty").cast(pl.String),
        "买家留言": pl.lit("请尽快发货，") + name,
        "账号类型": pl.lit("快手"),
        "账号明细": pl.lit("buyer_") + pl.col("phone").cast(pl.String),
        "订单备注": dash,
        "旗帜颜色": dash,
        "售后状态": pl.when(pl.col("refunded")).then(pl.lit("退款成功")).otherwise(pl.lit("-")),
        "活动订单": pl.lit("是"),
        "预售/承诺发货时间": dash,
        "订单载体": pl.lit("直播间"),
        "国补类型": dash,
        "商品名称": pl.col("title"),
        "商品ID": pl.col("product").cast(pl.String),
        "商品规格": pl.lit("默认"),
        "SKU编码": pl.lit("SKU") + pl.col("product").cast(pl.String),
        "商品单价": _yuan(pl.col("price")),
        "渠道": pl.when(distribution).then(pl.lit("分销")).otherwise(pl.lit("自营")),
        "CPS达人ID": pl.when(distribution).then(anchor_id.cast(pl.String)).otherwise(dash),
        "CPS达人昵称": pl.when(distribution)
        .then(pl.lit("好物达人") + pl.col("anchor").cast(pl.String))
        .otherwise(dash),
        "预估推广佣金": pl.when(distribution).then(_yuan(commission)).otherwise(dash),
        "预估推广者分佣比例": pl.when(distribution)
        .then((pl.col("rate") // 10).cast(pl.String) + pl.lit(".0%"))
        .otherwise(dash),
        "团长ID": pl.lit("2288765432"),
        "团长昵称": pl.lit("好物团长"),
        "快赚客ID": dash,
        "快赚客昵称": dash,
        "授权推广者ID": dash,
        "授权推广者昵称": dash,
        "收货人姓名": name,
        "收货人电话": pl.col("phone").cast(pl.String),
        "收货地址-省": province,
        "收货地址-市": city,
        "收货地址-区": district,
        "收货地址-街道": street,
        "收货地址": province + city + district + street,
        "发货时间": pl.when(pl.col("status").is_in(["交易成功", "已发货"]))
        .then((paid_time + pl.duration(hours=30)).dt.strftime("%Y-%m-%d %H:%M:%S"))
        .otherwise(dash),
        "快递公司": pl.lit("中通快递"),
        "快递单号": pl.lit("ZT") + pl.col("order_no").cast(pl.String),
        "物流信息": dash,
        "集运类型": dash,
        "直邮类型": dash,
        "仓库名称": pl.lit("杭州一号仓"),
        "仓库地址": pl.lit("杭州市余杭区仓前街道"),
        "发货类型": pl.lit("普通发货"),
        "实名姓名": name,
        "服务门店ID": dash,
        "服务门店名称": dash,
        "服务门店地址": dash,
        "国补/类国补/消费券": dash,
        "订单销售主体": pl.lit("花间集旗舰店"),
    }
    assert list(columns) == EXPORT_HEADERS
    return frame, frame.select(**columns)


def settlement_frame(facts: pl.DataFrame, items: list[dict]) -> pl.DataFrame:
    """The 结算明细 of the completed distribution lines, split as haowu's default rules do
    (commission and service fee on the amount paid, 5% technical fee); one line's 团长佣金
    ¥0.50 off, and one line of an order the export does not have."""
    fee = {it["itemId"]: it["investmentPromotionRate"] for it in items}
    done = facts.filter((pl.col("status") == "交易成功") & ~pl.col("self_operated"))
    rows = []
    seen: dict[tuple[int, int], int] = {}
    for index, row in enumerate(done.iter_rows(named=True)):
        base = row["paid"]
        commission = (base * row["rate"] * 1000 + 500_000) // 1_000_000
        service = (base * fee[row["product"]] * 1000 + 500_000) // 1_000_000
        technical = (base * TECHNICAL_PPM + 500_000) // 1_000_000
        if index == 0:
            service += 50  # the difference to show
        key = (row["order_no"], row["product"])
        seen[key] = seen.get(key, 0) + 1
        rows.append((row, base, commission, service, technical))
    extra = dict(done.row(0, named=True))
    extra.update(order_no=2599999999999999, product=items[0]["itemId"])
    base = extra["paid"]
    rows.append(
        (
            extra,
            base,
            (base * extra["rate"] + 500) // 1000,
            (base * items[0]["investmentPromotionRate"] + 500) // 1000,
            (base * TECHNICAL_PPM + 500_000) // 1_000_000,
        )
    )

    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    out = []
    for row, base, commission, service, technical in rows:
        spent = commission + service + technical
        cells = dict.fromkeys(SETTLEMENT_HEADERS, "-")
        cells.update(
            {
                "商家ID": "1876543210",
                "订单号": str(row["order_no"]),
                "商品ID": str(row["product"]),
                "商品名称": row["title"],
                "商品数量": str(row["qty"]),
                "订单创建时间": "2025-03-09 10:00:00",
                "订单实付(元)": yuan(base),
                "合计收入(元)": yuan(base),
                "订单退款(元)": "0.00",
                "技术服务费(元)": yuan(technical),
                "达人ID": str(3_012_456_000 + row["anchor"]),
                "达人佣金(元)": yuan(commission),
                "团长id": "2288765432",
                "团长佣金(元)": yuan(service),
                "佣金模式": "普通佣金",
                "快赚客佣金(元)": "0.00",
                "服务商佣金(元)": "0.00",
                "分账基数": yuan(base),
                "其他收费": "0.00",
                "合计支出(元)": yuan(spent),
                "实际结算金额(元)": yuan(base - spent),
                "实际结算时间": "2025/03/28 10:00:00",
                "结算规则": "确认收货后7天",
                "资金渠道": "微信",
                "账户名称": "花间集旗舰店",
            }
        )
        out.append(cells)
    return pl.DataFrame(out, schema={h: pl.String for h in SETTLEMENT_HEADERS})


def cps_orders(items: list[dict], count: int = 12) -> list[dict]:
    """团长 orders as `open.distribution.cps.leader.order.cursor.list` returns them."""
    orders = []
    codes = [30, 40, 50, 60, 80]
    for i in range(count):
        item = items[i % len(items)]
        code = codes[i % len(codes)]
        pay = EPOCH_MS + i * 3_600_000
        amount = item["itemPrice"] * (1 + i % 2)
        order = {
            "oid": 2503081300000000 + i,
            "activityId": ACTIVITY,
            "activityUserId": 3012456789,
            "promotionId": 2288765400 + i % 3,
            "promotionNickName": f"小鹿好物推荐{i % 3}",
            "promotionType": 1,
            "buyerOpenId": f"f3a9c1e07b5d4c2a9e81d6b0a4c7e{i:03d}",
            "cpsOrderStatus": code,
            "sendStatus": 1 if code >= 40 and code != 80 else 0,
            "orderCreateTime": pay - 20_000,
            "payTime": pay,
            "sendTime": pay + 86_400_000 if code in (40, 50, 60) else 0,
            "recvTime": pay + 3 * 86_400_000 if code in (50, 60) else 0,
            "settlementSuccessTime": pay + 15 * 86_400_000 if code == 60 else 0,
            "updateTime": pay + 86_400_000,
            "orderTradeAmount": amount,
            "payAmount": amount,
            "settlementAmount": amount if code == 60 else 0,
            "regimentalPromotionRate": item["investmentPromotionRate"],
            "regimentalPromotionAmount": (amount * item["investmentPromotionRate"] + 500) // 1000,
            "settlementBizType": 1,
            ("serviceInCome" if i % 2 else "serviceIncome"): 0,
            "cpsOrderProductView": [
                {
                    "itemId": item["itemId"],
                    "itemTitle": item["itemTitle"],
                    "itemPrice": item["itemPrice"],
                    "sellerId": item["sellerId"],
                    "sellerNickName": item["sellerNickName"],
                    "skuId": 30122456781 + i,
                    "commissionRate": item["itemCommissionRate"],
                    "num": 1 + i % 2,
                }
            ],
        }
        if code == 80:
            order["orderRefundInfo"] = [
                {
                    "startRefundTime": pay + 3_600_000,
                    "endRefundTime": pay + 7_200_000,
                    "refundFee": amount,
                    "refundStatus": "退款成功",
                }
            ]
        orders.append(order)
    return orders


def envelope(key: str, records: list[dict], cursor: str = "nomore") -> dict:
    return {
        "result": 1,
        "code": "",
        "msg": "success",
        "error_msg": "",
        "sub_code": "",
        "sub_msg": "",
        "requestId": "req-0001",
        "data": {"pcursor": cursor, key: records},
    }


def write_samples(out: Path = OUT, lines: int = 120) -> None:
    out.mkdir(parents=True, exist_ok=True)
    items = products()
    (out / "activity_items.json").write_text(
        json.dumps(
            {
                "result": 1,
                "msg": "success",
                "data": {"total": len(items), "activityItemDataList": items},
            },  # fmt: skip
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    facts, export = order_export_frame(lines, items=items)
    export.write_csv(out / "order_export.csv", include_bom=True)
    settlement_frame(facts, items).write_csv(out / "settlement.csv", include_bom=True)
    orders = cps_orders(items)
    (out / "cps_orders.json").write_text(
        json.dumps(envelope("orderView", orders), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    pages = [envelope("orderView", orders[:6], "c1"), envelope("orderView", orders[6:])]
    (out / "cps_orders.jsonl").write_text(
        "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8"
    )
    _write_workbook(out / "leader_orders.xlsx", facts.head(20), items)


def _write_workbook(path: Path, facts: pl.DataFrame, items: list[dict]) -> None:
    import xlsxwriter

    states = {"交易成功": "已收货", "已发货": "已发货", "待发货": "已付款", "交易关闭": "已失效"}
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": datetime(2025, 3, 1)})  # the same bytes every run
    sheet = book.add_worksheet("订单")
    sheet.write_row(0, 0, WORKBOOK_HEADERS)
    for r, row in enumerate(facts.iter_rows(named=True), start=1):
        paid = f"{row['paid'] // 100}.{row['paid'] % 100:02d}"
        cells = dict.fromkeys(WORKBOOK_HEADERS, "")
        cells.update(
            {
                "达人ID": str(3_012_456_000 + row["anchor"]),
                "达人昵称": f"好物达人{row['anchor']}",
                "订单ID": str(row["order_no"]),
                "订单状态": states[row["status"]],
                "订单类型": "普通订单",
                "商品ID": str(row["product"]),
                "商品名称": row["title"],
                "商品价格": f"{row['price'] / 100:.2f}",
                "下单时间": "2025/03/09",
                "商家ID": "1876543210",
                "推广者身份": "达人",
                "订单金额": paid,
                "付款金额": paid,
                "推广佣金率": f"{row['rate'] / 10:.1f}%",
                "结算金额(元)": "-",
                "结算时间": "-",
            }
        )
        sheet.write_row(r, 0, [cells[h] for h in WORKBOOK_HEADERS])
    book.close()


def settlement_for_all(facts: pl.DataFrame, items: list[dict]) -> pl.DataFrame:
    """The 结算明细 of every completed distribution line, with no difference: for the
    benchmark (vectorised; `settlement_frame` plants differences for the demo)."""
    fee = pl.DataFrame(
        {
            "product": [it["itemId"] for it in items],
            "fee": [it["investmentPromotionRate"] for it in items],
        }
    )
    done = facts.filter((pl.col("status") == "交易成功") & ~pl.col("self_operated")).join(
        fee, on="product", how="left"
    )
    base = pl.col("paid")
    commission = (base * pl.col("rate") + 500) // 1000
    service = (base * pl.col("fee") + 500) // 1000
    technical = (base * TECHNICAL_PPM + 500_000) // 1_000_000
    spent = commission + service + technical
    money = {
        "订单实付(元)": base,
        "合计收入(元)": base,
        "技术服务费(元)": technical,
        "达人佣金(元)": commission,
        "团长佣金(元)": service,
        "合计支出(元)": spent,
        "实际结算金额(元)": base - spent,
    }
    cells = {h: pl.lit("-") for h in SETTLEMENT_HEADERS}
    cells.update({h: _plain_yuan(v) for h, v in money.items()})
    cells.update(
        {
            "商家ID": pl.lit("1876543210"),
            "订单号": pl.col("order_no").cast(pl.String),
            "商品ID": pl.col("product").cast(pl.String),
            "商品名称": pl.col("title"),
            "商品数量": pl.col("qty").cast(pl.String),
            "达人ID": (pl.lit(3_012_456_000) + pl.col("anchor")).cast(pl.String),
            "团长id": pl.lit("2288765432"),
            "实际结算时间": pl.lit("2025/03/28 10:00:00"),
        }
    )
    return done.select(**cells)


def _plain_yuan(fen: pl.Expr) -> pl.Expr:
    return (fen // 100).cast(pl.String) + pl.lit(".") + (fen % 100).cast(pl.String).str.zfill(2)


def write_benchmark_files(folder: Path, lines: int) -> None:
    """activity_items.json, order_export.csv (`lines` lines) and settlement.csv in `folder`."""
    items = products()
    (folder / "activity_items.json").write_text(
        json.dumps({"data": {"activityItemDataList": items}}, ensure_ascii=False),
        encoding="utf-8",
    )
    facts, export = order_export_frame(lines, items=items)
    export.write_csv(folder / "order_export.csv", include_bom=True)
    del export
    settlement_for_all(facts, items).write_csv(folder / "settlement.csv", include_bom=True)


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3:  # FOLDER LINES: the benchmark's files
        write_benchmark_files(Path(sys.argv[1]), int(sys.argv[2]))
    else:
        write_samples()
        print(f"wrote {OUT}")
