"""No order the import accepts leaves its merchant a negative share: commission, service fee
and technical fee (by category, with the pay-later extra) are checked together at import, on
the amounts as the split rounds them, whether the rates come from the sheet or the product."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli import commission
from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from tests.conftest import write_csv

HEADER = [
    "订单号",
    "商品ID",
    "一级类目",
    "实付金额",
    "退款金额",
    "订单状态",
    "佣金率",
    "团长服务费率",
    "先用后付",
]


def configs(folder: Path) -> Path:
    """The packaged settings, with a cheaper technical fee for 食品 and a dearer one for 珠宝."""
    folder.mkdir()
    for name in ("columns.yaml", "commission.yaml", "imports.yaml"):
        shutil.copy(packaged_path("configs") / name, folder / name)
    path = folder / "commission.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "categories: {}", "categories: {食品: 0.02, 珠宝: 0.08}"
    )
    path.write_text(text, encoding="utf-8")
    return folder


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


rate = st.integers(0, 900).map(lambda permille: f"{permille / 10:g}%")


@st.composite
def orders(draw):
    rows = []
    for i in range(draw(st.integers(1, 15))):
        # Small amounts too: there rounding each term to the fen matters most.
        paid = draw(st.one_of(st.integers(0, 300), st.integers(0, 10_000_000_000)))
        refund = draw(st.one_of(st.none(), st.integers(0, paid)))
        rows.append(
            [
                f"O{i}",
                draw(st.sampled_from(["P1", "P2"])),
                draw(st.sampled_from(["美妆", "食品", "珠宝", ""])),
                yuan(paid),
                "" if refund is None else yuan(refund),
                draw(st.sampled_from(["已付款", "已收货", "已结算", "已失效"])),
                draw(st.one_of(st.just(""), rate)),  # blank: the product's rate
                draw(st.one_of(st.just(""), rate)),
                draw(st.sampled_from(["是", "否"])),
            ]
        )
    return rows


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=orders())
def test_no_accepted_order_leaves_the_merchant_a_negative_share(tmp_path, rows):
    # The settings and the two products are imported once, into a database each example
    # starts from a copy of: the orders are what varies.
    config, template = tmp_path / "configs", tmp_path / "products.duckdb"
    if not template.exists():
        configs(config)
        products = write_csv(
            tmp_path / "p.csv",
            [
                ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率", "团长服务费率"],
                ["P1", "M1", "金镯", "珠宝", "100", "85%", "12%"],
                ["P2", "M2", "辣条", "食品", "10", "20%", "5%"],
            ],
        )
        importing = db.Store(template, lock_timeout=10)
        options = ImportOptions(config_dir=config)
        import_file(importing, products, load_kind("products", config), options)
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    store = db.Store(folder / "h.duckdb", lock_timeout=10)
    shutil.copy(template, store.path)
    options = ImportOptions(config_dir=config)
    sheet = write_csv(folder / "o.csv", [HEADER, *rows])
    report = import_file(store, sheet, load_kind("orders", config), options)
    rules = commission.load_rules(config)
    with store.read() as con:
        query = commission.split_orders_query(rules)
        split = con.execute(
            f"SELECT order_id, merchant FROM ({query.sql}) WHERE merchant < 0",
            dict(query.params),
        ).fetchall()
        accepted = con.execute("SELECT count(*) FROM orders").fetchone()[0]
    assert split == []
    assert accepted + report.rejected == len(rows)
