"""The seeds' merchant terms in the split: the new-merchant technical fee and its cap across
orders (to the fen), DSR relief, 降佣 for busy months, and re-splits as reversing entries."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from haowu_cli import commission
from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from tests.conftest import write_csv

TERMS = """
merchant_terms:
  new_merchant: {days: 30, gmv_cap_yuan: 1000000, technical_fee: 0.01}
  dsr_relief:
    - {min_shop_score: 4.8, relief: 0.01}
    - {min_shop_score: 4.6, relief: 0.005}
  activity_discount: {min_activities: 2, relief: 0.005}
"""
BASE = """
platform_cut: {commission: 0.10, service_fee: 0.10}
technical_fee: {default: 0.05, categories: {}, pay_later_extra: 0.004}
settlement: [{days: 20}]
"""
HEADER = [
    "订单号",
    "商品ID",
    "实付金额",
    "支付时间",
    "订单状态",
    "佣金率",
    "团长服务费率",
    "店铺评分",
]


def config(tmp_path: Path, terms: str = TERMS) -> Path:
    folder = tmp_path / "configs"
    if not folder.exists():
        shutil.copytree(packaged_path("configs"), folder)
    (folder / "commission.yaml").write_text(BASE + terms, encoding="utf-8")
    return folder


@pytest.fixture
def world(store):
    with store.write() as con, db.transaction(con):
        con.execute(
            "INSERT INTO products (product_id, merchant_id, title, category_l1, live_price_fen, "
            "commission_rate, created_import_id, updated_import_id) "
            "VALUES ('P1', 'M1', '好物', '美妆', 10000, 0.2, 0, 0)"
        )
    return store


def import_orders(store, tmp_path, configs, rows, name="orders.csv"):
    path = write_csv(tmp_path / name, [HEADER, *rows])
    kind = load_kind("orders", configs)
    report = import_file(
        store, path, kind, ImportOptions(config_dir=configs, today=dt.date(2027, 1, 31))
    )
    assert report.rejected == 0, report.rejections
    return report


def row(oid, paid, day, score="4.0", status="已付款"):
    return [oid, "P1", paid, day, status, "20%", "5%", score]


def technical_fees(store) -> dict[str, int]:
    with store.read() as con:
        return dict(
            con.execute(
                "SELECT order_id, sum(amount_fen) FROM ledger WHERE item = 'technical_fee' "
                "GROUP BY order_id ORDER BY order_id"
            ).fetchall()
        )


def join(store, merchant: str, day: dt.date) -> None:
    with store.write() as con, db.transaction(con):
        db.set_joined(con, merchant, day, "test", dt.datetime(2026, 11, 1))


def test_the_new_merchant_fee_caps_across_orders_to_the_fen(world, tmp_path):
    configs = config(tmp_path)
    join(world, "M1", dt.date(2026, 11, 1))
    import_orders(
        world,
        tmp_path,
        configs,
        [
            row("O1", "600000.00", "2026-11-05"),  # within the cap: 1% = ¥6,000.00
            # crosses it: ¥400,000.00 at 1% (¥4,000.00) + ¥100,000.01 at 5% (¥5,000.0005 →
            # ¥5,000.00)
            row("O2", "500000.01", "2026-11-06"),
            row("O3", "100.00", "2026-11-07"),  # past the cap: 5%
            row("O4", "100.00", "2026-12-01"),  # past the 30 days (11-01 … 11-30): 5%
        ],
    )
    assert technical_fees(world) == {"O1": 600000, "O2": 900000, "O3": 500, "O4": 500}


def test_the_cap_follows_payment_order_and_an_earlier_order_resplits_the_later(world, tmp_path):
    configs = config(tmp_path)
    join(world, "M1", dt.date(2026, 11, 1))
    import_orders(world, tmp_path, configs, [row("O2", "600000.00", "2026-11-20")], "a.csv")
    assert technical_fees(world) == {"O2": 600000}
    # An order paid earlier arrives later: it takes the cap first, O2 is split again.
    report = import_orders(
        world, tmp_path, configs, [row("O1", "500000.01", "2026-11-10")], "b.csv"
    )
    assert report.ledger == (2, 1)  # O1 posted, O2 re-posted with reversing entries
    # O1: ¥500,000.01 at 1% = ¥5,000.0001 → ¥5,000.00. O2: ¥499,999.99 at 1% (¥4,999.9999 →
    # ¥5,000.00) + ¥100,000.01 at 5% (¥5,000.0005 → ¥5,000.00).
    assert technical_fees(world) == {"O1": 500000, "O2": 1000000}
    with world.read() as con:
        entries = con.execute(
            "SELECT CAST(entry AS VARCHAR), amount_fen FROM ledger "
            "WHERE order_id = 'O2' AND item = 'technical_fee' ORDER BY import_id, entry"
        ).fetchall()
        base = con.execute("SELECT sum(amount_fen) FROM ledger WHERE account = 'base'").fetchall()
        total = con.execute("SELECT sum(amount_fen) FROM ledger WHERE account <> 'base'").fetchall()
    assert entries == [("post", 600000), ("post", 1000000), ("reverse", -600000)]
    assert base == total  # the parties still add up to the base, to the fen


def test_a_join_date_set_later_resplits_with_reversing_entries(world, tmp_path):
    configs = config(tmp_path)
    import_orders(world, tmp_path, configs, [row("O1", "1000.00", "2026-11-05")])
    assert technical_fees(world) == {"O1": 5000}
    join(world, "M1", dt.date(2026, 11, 1))
    rules = commission.load_rules(configs)
    with world.write() as con, db.transaction(con):
        posted = commission.resplit(con, rules, merchant="M1", what="test")
    assert posted == (1, 1)
    assert technical_fees(world) == {"O1": 1000}
    with world.write() as con, db.transaction(con):  # nothing changed: nothing posted
        assert commission.resplit(con, rules, what="again") == (0, 0)


@pytest.mark.parametrize(
    ("score", "fee_fen"),
    [("4.9", 400), ("4.8", 400), ("4.7", 450), ("4.6", 450), ("4.5", 500)],
)
def test_dsr_relief_takes_points_off_by_the_shops_score(world, tmp_path, score, fee_fen):
    configs = config(tmp_path)
    import_orders(world, tmp_path, configs, [row("O1", "100.00", "2026-11-05", score=score)])
    assert technical_fees(world) == {"O1": fee_fen}


def add_activity(store, activity_id: str, start: dt.datetime, status: str = "passed") -> None:
    with store.write() as con, db.transaction(con):
        con.execute(
            "INSERT INTO activity_windows VALUES (?, 1, '正式', 'sale', ?, ?)",
            [activity_id, start, start + dt.timedelta(hours=4)],
        )
        con.execute(
            "INSERT INTO applications (application_key, activity_id, product_id, merchant_id, "
            "activity_price_fen, created_import_id, updated_import_id) "
            "VALUES (?, ?, 'P1', 'M1', 9000, 0, 0)",
            [f"{activity_id}/P1", activity_id],
        )
        con.execute(
            "INSERT INTO decisions VALUES (nextval('decision_id_seq'), ?, 'P1', ?, ?, [], "
            "'review', false, 'x', 'L3')",
            [activity_id, start, status],
        )


def test_a_month_with_enough_activities_earns_the_discount(world, tmp_path):
    configs = config(tmp_path)
    add_activity(world, "X1", dt.datetime(2026, 12, 5, 19))
    add_activity(world, "X2", dt.datetime(2026, 12, 12, 19))
    add_activity(world, "X3", dt.datetime(2026, 11, 11, 19))
    add_activity(world, "X4", dt.datetime(2026, 11, 20, 19), status="rejected")
    import_orders(
        world,
        tmp_path,
        configs,
        [row("DEC", "100.00", "2026-12-20"), row("NOV", "100.00", "2026-11-20")],
    )
    # December: two activities taken part in → 5% − 0.5%; November: one passed, one rejected.
    assert technical_fees(world) == {"DEC": 450, "NOV": 500}
    # The merchants report shows the same: the month's activities and 降佣 eligibility.
    from haowu_cli.reports.merchants import merchants_report
    from haowu_cli.reports.settings import load_report_rules

    rules = load_report_rules(configs)
    for month, want in ((dt.date(2026, 12, 1), (2, True)), (dt.date(2026, 11, 1), (1, False))):
        report = merchants_report(world, rules, month, config_dir=configs)
        m1 = report.table("merchants").frame.filter(merchant_id="M1").to_dicts()[0]
        assert (m1["activities"], m1["discount_eligible"]) == want


def test_reliefs_never_take_the_fee_below_zero(world, tmp_path):
    configs = config(
        tmp_path,
        "merchant_terms:\n  dsr_relief: [{min_shop_score: 4.0, relief: 0.2}]\n",
    )
    import_orders(world, tmp_path, configs, [row("O1", "100.00", "2026-11-05", score="4.5")])
    assert technical_fees(world) == {}  # a zero entry is not posted
    with world.read() as con:
        assert con.execute("SELECT count(*) FROM ledger WHERE account = 'base'").fetchall() == [
            (1,)
        ]


def test_merchant_terms_are_checked_with_file_line_and_key(tmp_path):
    configs = config(
        tmp_path,
        "merchant_terms:\n  new_merchant: {days: 0, gmv_cap_yuan: 1000000, technical_fee: 2}\n"
        "  wombats: 1\n",
    )
    with pytest.raises(ConfigError) as caught:
        commission.load_rules(configs)
    problems = "\n".join(caught.value.problems)
    assert "commission.yaml:6 merchant_terms.new_merchant.days: expected 1–366 days" in problems
    assert "merchant_terms.new_merchant.technical_fee" in problems
    assert "commission.yaml:7 merchant_terms.wombats: unknown key" in problems


def test_an_order_landing_re_splits_only_the_orders_whose_part_under_the_cap_moved(world, tmp_path):
    """The cap spans a new merchant's orders, but an order landing re-posts only the orders
    whose part under the cap it moved; what the ledger holds is a full re-split's, to the
    fen, after orders past the cap, an earlier order arriving late and a refund."""
    configs = config(tmp_path)
    join(world, "M1", dt.date(2026, 11, 1))
    rules = commission.load_rules(configs)
    first = [row(f"O{i}", "300000.00", f"2026-11-{i + 1:02d}") for i in range(1, 6)]
    import_orders(world, tmp_path, configs, first, "a.csv")  # O4 crosses the cap, O5 past it
    # Past the cap, later in payment order: nothing else moves.
    report = import_orders(world, tmp_path, configs, [row("O9", "100.00", "2026-11-20")], "b.csv")
    assert report.ledger == (1, 0)
    # An earlier order (¥50,000): of the later ones only O4, which crosses the cap, has
    # another part under it (¥100,000 → ¥50,000); O1 … O3 stay under it, O5 and O9 past it.
    report = import_orders(world, tmp_path, configs, [row("O0", "50000.00", "2026-11-01")], "c.csv")
    assert report.ledger == (2, 1)
    # A refund of ¥200,000 on O2 frees as much of the cap: O4's part grows to ¥250,000,
    # O5 stays past it.
    refund = [[*HEADER, "退款金额"], [*row("O2", "300000.00", "2026-11-03"), "200000.00"]]
    kind = load_kind("orders", configs)
    path = write_csv(tmp_path / "d.csv", refund)
    options = ImportOptions(config_dir=configs, today=dt.date(2027, 1, 31))
    report = import_file(world, path, kind, options)
    assert report.rejected == 0 and report.updated == 1
    assert report.ledger == (2, 2)  # O2 and O4, each with reversing entries
    with world.write() as con, db.transaction(con):  # what a full re-split would post: nothing
        assert commission.resplit(con, rules, what="check") == (0, 0)


def test_the_split_stays_in_64_bit_integers_with_every_term_on(world, tmp_path):
    """Every share of the split is a BIGINT in fen, the new merchants' part under the cap
    too (a window's sum is 128-bit in DuckDB, and 128-bit arithmetic over a million orders
    took several times as long: bench_commission.py)."""
    join(world, "M1", dt.date(2026, 11, 1))
    rules = commission.load_rules(config(tmp_path))
    assert rules.terms.new_merchants and rules.terms.busy_relief_ppm
    query = commission.split_orders_query(rules)
    with world.read() as con:
        types = dict(
            (name, kind)
            for name, kind, *_ in con.execute(
                f"DESCRIBE {query.sql}", dict(query.params) or None
            ).fetchall()
        )
    money = [
        "base",
        "merchant",
        "anchor",
        "agency",
        "leader",
        "second_leader",
        "commission_cut",
        "service_fee_cut",
        "technical_fee",
    ]
    assert {name: types[name] for name in money} == dict.fromkeys(money, "BIGINT")


def test_an_import_in_parts_and_batches_posts_as_one_read_whole(world, tmp_path, monkeypatch):
    """A new merchant's cap spans the parts of a large file (a later part's order paid
    earlier moves an earlier part's): posted once after every part, in batches of a few
    orders, the ledger is the file read whole and posted at once, with no entry reversed
    within the import; a second file in parts re-splits the first's orders that its first
    part moved, across batches, the same way."""
    from haowu_cli.ingest import sources
    from haowu_cli.store import ledger

    configs = config(tmp_path)
    join(world, "M1", dt.date(2026, 11, 1))
    first = [row(f"O{i}", f"{100000 + i}.00", f"2026-11-{25 - i:02d}") for i in range(12)]
    # An early order in the second file's first part moves the first file's orders; its
    # later parts (paid past the window) do not.
    second = [row("OA", "300000.00", "2026-11-02")]
    second += [row(f"F{i}", "10.00", "2026-12-15") for i in range(8)]
    whole_store = db.Store(tmp_path / "whole.duckdb", lock_timeout=10)
    shutil.copy(world.path, whole_store.path)

    def entries(store):
        with store.read() as con:
            return con.execute(
                "SELECT order_id, CAST(entry AS VARCHAR), account, item, amount_fen "
                "FROM ledger ORDER BY ALL"
            ).fetchall()

    whole = [
        import_orders(whole_store, tmp_path, configs, rows, f"w{i}.csv").ledger
        for i, rows in enumerate((first, second))
    ]
    monkeypatch.setattr(sources, "STREAM_BYTES", 1)
    monkeypatch.setattr(sources, "PART_BYTES", 200)
    monkeypatch.setattr(ledger, "POST_BATCH_ORDERS", 3)
    parts = [
        import_orders(world, tmp_path, configs, rows, f"p{i}.csv").ledger
        for i, rows in enumerate((first, second))
    ]
    assert parts == whole and whole[0] == (12, 0) and whole[1][1] > 0
    assert entries(world) == entries(whole_store)
    with world.read() as con:
        reversed_first = con.execute(
            "SELECT count(*) FROM ledger WHERE entry = 'reverse' AND import_id = "
            "(SELECT min(import_id) FROM ledger)"
        ).fetchall()[0][0]
    assert reversed_first == 0
