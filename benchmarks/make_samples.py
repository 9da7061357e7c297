"""Write the bundled `sample_data/` sheets (deterministic: run it again, get the same files).

They are what merchants really send: GBK CSV straight from Excel on Chinese Windows, "CSV
UTF-8" with a BOM, an XLSX with a title row and numeric cells, and one sheet full of the
mistakes people make. Run: python benchmarks/make_samples.py
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sample_data"

MERCHANTS = {
    "M1001": (
        "花漾美妆旗舰店",
        "美妆",
        ["护肤", "彩妆"],
        [
            ("花漾玻尿酸保湿面霜50g", 89, 199),
            ("花漾烟酰胺精华液30ml", 129, 299),
            ("花漾丝绒哑光口红", 59, 139),
            ("花漾补水面膜20片装", 49, 129),
            ("花漾清透防晒霜SPF50", 69, 159),
            ("花漾温和卸妆油200ml", 59, 119),
            ("花漾氨基酸洗面奶", 39, 89),
            ("花漾柔雾散粉", 49, 109),
            ("花漾眼霜淡纹紧致", 99, 259),
            ("花漾护手霜礼盒", 29.9, 79),
        ],
    ),
    "M1002": (
        "川味坊食品",
        "食品",
        ["休闲零食", "方便速食"],
        [
            ("柳州螺蛳粉330g*5袋", 39.9, 69.9),
            ("麻辣牛肉干250g", 49.9, 89),
            ("重庆火锅底料500g", 19.9, 39.9),
            ("每日坚果礼盒750g", 79, 159),
            ("经典辣条大礼包", 9.9, 29.9),
            ("酸辣粉6桶装", 29.9, 49.9),
            ("手撕鸭脖300g", 35.9, 59.9),
            ("红糖姜茶12条", 19.9, 45),
            ("黑芝麻丸礼盒", 39, 79),
            ("自热小火锅4盒", 49.9, 99),
        ],
    ),
    "M1003": (
        "义乌优品日用",
        "日百",
        ["收纳整理", "清洁用品"],
        [
            ("桌面收纳盒三件套", 19.9, 49),
            ("原木抽纸30包整箱", 39.9, 79.9),
            ("洗衣凝珠100颗", 29.9, 69),
            ("316不锈钢保温杯", 49, 129),
            ("厨房去油污清洁剂", 15.9, 39.9),
            ("一次性垃圾袋200只", 9.9, 25.9),
            ("真空压缩收纳袋", 25.9, 59),
            ("硅藻泥吸水地垫", 29.9, 69),
        ],
    ),
    "M1004": (
        "杭派女装工厂店",
        "服饰",
        ["女装", "鞋包"],
        [
            ("双面羊毛大衣女", 399, 1299),
            ("慵懒风针织开衫", 129, 299),
            ("高腰直筒牛仔裤", 99, 259),
            ("加绒卫衣女冬", 89, 199),
            ("真皮托特包", 299, 899),
            ("软底乐福鞋", 159, 359),
            ("羊绒围巾", 89, 239),
        ],
    ),
    "M1005": (
        "贝贝母婴优选",
        "母婴",
        ["尿裤湿巾", "喂养用品"],
        [
            ("超薄纸尿裤L码*54片", 79, 139),
            ("婴儿手口湿巾80抽*10包", 39.9, 89),
            ("宽口径玻璃奶瓶", 59, 128),
            ("婴儿洗护套装", 69, 159),
            ("儿童保温水杯", 49, 99),
            ("宝宝辅食米粉", 45, 88),
        ],
    ),
    "M1006": (
        "镇平玉缘珠宝",
        "珠宝玉石",
        ["和田玉", "翡翠"],
        [
            ("和田玉青白玉手镯", 1280, 3980),
            ("冰种翡翠平安扣吊坠", 899, 2680),
            ("和田玉籽料手串", 599, 1680),
            ("翡翠葫芦耳钉", 399, 1199),
            ("南红玛瑙转运珠", 199, 599),
            ("独山玉观音吊坠", 299, 899),
        ],
    ),
    "M1007": (
        "南通家纺家居",
        "家居",
        ["床上用品", "家居日用"],
        [
            ("60支长绒棉四件套", 199, 499),
            ("泰国乳胶枕一对", 129, 299),
            ("冬季加厚羽绒被", 299, 799),
            ("珊瑚绒毛毯", 59, 139),
            ("记忆棉坐垫", 39, 89),
            ("香薰蜡烛礼盒", 49, 129),
        ],
    ),
}
MECHANISMS = ["", "买一送一", "第二件半价", "拍2发3", "赠小样", "满199减30", "限时秒杀"]
BRANDS = {
    "M1001": "花漾",
    "M1002": "川味坊",
    "M1003": "优品",
    "M1004": "杭派",
    "M1005": "贝贝",
    "M1006": "玉缘",
    "M1007": "南通家纺",
}
HEADERS = [
    "商品ID",
    "商家ID",
    "商家名称",
    "商品名称",
    "品牌",
    "一级类目",
    "二级类目",
    "售价",
    "直播价",
    "佣金率",
    "团长服务费率",
    "库存",
    "近30天销量",
    "近30天GMV",
    "好评率",
    "退货率",
    "店铺评分",
    "发货时效(小时)",
    "上架日期",
    "样品",
    "机制",
]
TODAY = date(2026, 11, 22)


def product_rows(merchant_id: str, rng: random.Random) -> list[dict]:
    name, category, subcategories, items = MERCHANTS[merchant_id]
    shop_score = round(rng.uniform(4.55, 4.95), 2)
    rows = []
    for index, (title, live, list_price) in enumerate(items):
        new = index == len(items) - 1 and merchant_id in ("M1001", "M1003")
        sales = 0 if new else int(rng.choice([80, 300, 1200, 5000, 20000]) * rng.uniform(0.6, 1.4))
        rows.append(
            {
                "商品ID": f"{merchant_id[1:]}{20000 + index * 37:06d}{rng.randint(100, 999)}",
                "商家ID": merchant_id,
                "商家名称": name,
                "商品名称": title,
                "品牌": BRANDS[merchant_id],
                "一级类目": category,
                "二级类目": subcategories[index % len(subcategories)],
                "售价": f"{list_price:.2f}",
                "直播价": f"{live:.2f}",
                "佣金率": f"{rng.choice([10, 15, 20, 25, 30, 35, 40])}%",
                "团长服务费率": f"{rng.choice([2, 3, 5, 6, 8])}%",
                "库存": str(rng.choice([0, 150, 500, 2000, 8000, 30000]) if index % 5 else 3000),
                "近30天销量": str(sales),
                "近30天GMV": f"{sales * live:.2f}",
                "好评率": f"{rng.uniform(88, 99.5):.1f}%",
                "退货率": f"{rng.uniform(1.5, 22):.1f}%",
                "店铺评分": f"{shop_score:.2f}",
                "发货时效(小时)": str(rng.choice([24, 48, 48, 72])),
                "上架日期": (
                    TODAY - timedelta(days=5 if new else rng.randint(20, 400))
                ).isoformat(),
                "样品": rng.choice(["有", "有", "有", "无"]),
                "机制": rng.choice(MECHANISMS),
            }
        )
    return rows


# The daily-goods and home merchants' sheet also gives 三级类目 and the date each product
# joined 快分销 (grading's L0 counts from it): a week after listing, the new product the day
# after. Derived, not drawn: the other sheets stay as they were.
THIRD_LEVEL = {
    "桌面收纳盒三件套": "收纳盒",
    "原木抽纸30包整箱": "抽纸",
    "洗衣凝珠100颗": "洗衣凝珠",
    "316不锈钢保温杯": "保温杯",
    "厨房去油污清洁剂": "厨房清洁剂",
    "一次性垃圾袋200只": "垃圾袋",
    "真空压缩收纳袋": "压缩袋",
    "硅藻泥吸水地垫": "地垫",
    "60支长绒棉四件套": "四件套",
    "泰国乳胶枕一对": "枕头",
    "冬季加厚羽绒被": "被子",
    "珊瑚绒毛毯": "毛毯",
    "记忆棉坐垫": "坐垫",
    "香薰蜡烛礼盒": "香薰蜡烛",
}


def with_category_and_join_date(rows: list[dict]) -> list[dict]:
    for row in rows:
        listed = date.fromisoformat(row["上架日期"])
        joined = listed + timedelta(days=1 if row["近30天销量"] == "0" else 7)
        row["三级类目"] = THIRD_LEVEL[row["商品名称"]]
        row["加入快分销时间"] = min(joined, TODAY).isoformat()
    return rows


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def as_table(rows: list[dict], headers: list[str] = HEADERS) -> list[list[str]]:
    return [headers] + [[row.get(h, "") for h in headers] for row in rows]


def messy_rows(rng: random.Random) -> list[list[str]]:
    """Two merchants' sheet with the mistakes real sheets have, each on purpose."""
    rows = product_rows("M1004", rng) + product_rows("M1005", rng)
    table = as_table(rows, HEADERS + ["备注"])
    body = table[1:]
    body[0][8] = "¥99"  # currency sign
    body[1][8] = "￥129.00"  # full-width currency sign
    body[2][8] = "99元"
    body[3][7] = "1,299"  # thousands separator (quoted by the CSV writer)
    body[3][11] = "1.2万"
    body[4][9] = "２０％"  # full-width digits and percent sign
    body[4][11] = "１２３"
    body[5][18] = "2026/6/1"
    body[6][18] = "2026年3月8日"
    body[7][18] = "46100"  # an Excel serial day number
    body[7][19] = "否"
    body[8][14] = "—"  # missing
    body[8][20] = "无"
    body[9][3] = body[9][3] + "   "  # trailing spaces
    body[10][0] = "1.23457E+18"  # an ID Excel turned into a number: rejected
    body[11][11] = "-20"  # negative stock: rejected
    body[12][9] = "95%"  # commission above 90%: rejected
    body[1][18] = "2026-02-30"  # not a real date: rejected
    body[5][21] = "主播可加赠品"
    body[0][21] = "样品已寄出"
    duplicate = list(body[2])
    duplicate[11] = "999"  # the last row with this ID wins
    return [table[0]] + body[:6] + [[""] * len(table[0])] + [table[0]] + body[6:] + [duplicate]


def write_xlsx(path: Path, rows: list[dict]) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("商品报名")
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    percent = workbook.add_format({"num_format": "0%"})
    sheet.write(0, 0, "镇平玉缘珠宝 · 12月专场商品报名表", bold)
    sheet.write_row(1, 0, HEADERS, bold)
    for r, row in enumerate(rows, start=2):
        for c, header in enumerate(HEADERS):
            value = row[header]
            if header in ("售价", "直播价", "近30天GMV", "店铺评分"):
                sheet.write_number(r, c, float(value))
            elif header in ("库存", "近30天销量", "发货时效(小时)"):
                sheet.write_number(r, c, int(value))
            elif header in ("佣金率", "团长服务费率"):
                sheet.write_number(r, c, float(value.rstrip("%")) / 100, percent)
            elif header == "上架日期":
                sheet.write_datetime(r, c, date.fromisoformat(value), day)
            else:
                sheet.write_string(r, c, value)
    workbook.close()


ANCHORS = [
    [
        "达人ID",
        "达人昵称",
        "粉丝数",
        "女粉占比",
        "主要年龄段",
        "客单价",
        "主营类目",
        "场均时GMV",
        "机构",
        "机构分成比例",
    ],
    [
        "A001",
        "小美爱分享",
        "86.5万",
        "82%",
        "25-34",
        "¥89",
        "美妆、护肤、母婴",
        "5.2万",
        "星光MCN",
        "30%",
    ],
    [
        "A002",
        "川妹子吃货日记",
        "213万",
        "61%",
        "18-24",
        "¥45",
        "食品、日百",
        "12万",
        "蜀道传媒",
        "25%",
    ],
    ["A003", "杭州衣橱", "47.8万", "91%", "25-34", "¥239", "服饰、家居", "3.8万", "", ""],
    ["A004", "玉见镇平老王", "12.6万", "38%", "35-44", "¥680", "珠宝玉石", "2.1万", "", ""],
    [
        "A005",
        "宝妈团购站",
        "158万",
        "88%",
        "25-34",
        "¥76",
        "母婴、日百、食品、家居",
        "9.6万",
        "星光MCN",
        "30%",
    ],
]


# What the food merchant gives the host to say about each product (卖点), by title.
SELLING_POINTS = {
    "柳州螺蛳粉330g*5袋": "正宗柳州产，汤底浓郁，5袋囤货装",
    "麻辣牛肉干250g": "整块牛肉手撕，麻辣够味不塞牙",
    "重庆火锅底料500g": "牛油老火锅配方，一袋煮两锅",
    "每日坚果礼盒750g": "6种坚果果干，每日一包，送礼体面",
    "经典辣条大礼包": "童年味道，20包混合口味",
    "酸辣粉6桶装": "红薯粉筋道，3分钟即食",
    "手撕鸭脖300g": "卤足12小时，真空小包装",
    "红糖姜茶12条": "老姜红糖，冲泡方便，冬天暖身",
    "黑芝麻丸礼盒": "九蒸九晒，无蔗糖添加",
    "自热小火锅4盒": "15分钟自热，荤素搭配4种口味",
}


def main() -> None:
    rng = random.Random(20261122)
    OUT.mkdir(exist_ok=True)
    beauty = [["花漾美妆旗舰店 商品报名表（请勿修改表头）"] + [""] * (len(HEADERS) - 1)]
    write_csv(OUT / "m1001_beauty_gbk.csv", beauty + as_table(product_rows("M1001", rng)), "gbk")
    food = as_table(product_rows("M1002", rng))
    food[0] = [  # this merchant's template names the columns differently
        "商品编号",
        "商家ID",
        "商家名称",
        "商品标题",
        "品牌",
        "类目",
        "二级类目",
        "原价",
        "到手价",
        "佣金比例",
        "服务费率",
        "库存",
        "30天销量",
        "近30天销售额",
        "好评率",
        "退款率",
        "DSR",
        "发货时效",
        "上架时间",
        "是否有样品",
        "直播机制",
        "卖点",  # a column haowu has no field for: kept, and shown on the host's run sheet
    ]
    for row in food[1:]:
        row.append(SELLING_POINTS.get(row[3], ""))
    for row in food[1:]:  # this merchant writes rates as bare percents: 20 means 20%
        row[9], row[10] = row[9].rstrip("%"), row[10].rstrip("%")
    write_csv(OUT / "m1002_food_utf8bom.csv", food, "utf-8-sig")
    write_csv(
        OUT / "m1003_daily_m1007_home.csv",
        as_table(
            with_category_and_join_date(product_rows("M1003", rng) + product_rows("M1007", rng)),
            [*HEADERS[:7], "三级类目", *HEADERS[7:19], "加入快分销时间", *HEADERS[19:]],
        ),
        "utf-8",
    )
    write_xlsx(OUT / "m1006_jewelry.xlsx", product_rows("M1006", rng))
    write_csv(OUT / "m1004_m1005_messy.csv", messy_rows(rng), "utf-8")
    write_csv(OUT / "anchors.csv", ANCHORS, "utf-8-sig")


if __name__ == "__main__":
    main()
