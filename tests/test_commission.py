"""Orders and the commission ledger: the split to the fen, refunds and status changes as
reversing entries, agencies, second-level leaders, pay-later, category rates, settlement."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from haowu_cli.reports.commission import commission_report
from tests.conftest import write_csv

CONFIGS = packaged_path("configs")
ORDER_HEADER = [
    "订单号",
    "商品ID",
    "达人ID",
    "专场ID",
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
LATER = dt.date(2027, 12, 31)


def order(
    oid,
    *,
    paid="100.00",
    status="已付款",
    refund="",
    received="",
    rate="20%",
    fee="5%",
    leader2="",
    rate2="",
    later="否",
    product="P1",
    anchor="A1",
    session="S1",
):
    return [
        oid,
        product,
        anchor,
        session,
        paid,
        "2026-12-01 20:00",
        status,
        refund,
        received,
        rate,
        fee,
        leader2,
        rate2,
        later,
    ]


@pytest.fixture
def world(store, tmp_path):
    """Two products (美妆 at shop score 4.9, 食品 at 4.6) and two anchors, one with an MCN."""
    write_csv(
        tmp_path / "p.csv",
        [
            [
                "商品ID",
                "商家ID",
                "商品名称",
                "一级类目",
                "直播价",
                "佣金率",
                "团长服务费率",
                "店铺评分",
            ],
            ["P1", "M1", "面霜", "美妆", "100", "20%", "5%", "4.9"],
            ["P2", "M2", "辣条", "食品", "10", "30%", "6%", "4.6"],
            ["P3", "M3", "袜子", "日百", "10", "30%", "6%", "4.0"],
        ],
    )
    write_csv(
        tmp_path / "a.csv",
        [
            ["达人ID", "达人昵称", "机构", "机构分成比例"],
            ["A1", "甲", "", ""],
            ["A2", "乙", "星光", "30%"],
        ],
    )
    assert import_file(store, tmp_path / "p.csv", load_kind("products", CONFIGS), ImportOptions())
    import_file(store, tmp_path / "a.csv", load_kind("anchors", CONFIGS), ImportOptions())
    return store


def import_orders(store, tmp_path, rows, name="o.csv", config_dir=CONFIGS):
    path = write_csv(tmp_path / name, [ORDER_HEADER, *rows])
    return import_file(
        store, path, load_kind("orders", CONFIGS), ImportOptions(config_dir=config_dir)
    )


def split(store, order_id) -> dict[str, int]:
    """The net ledger amount per account (platform per item) of one order, in fen."""
    with store.read() as con:
        rows = con.execute(
            "SELECT CASE WHEN account = 'platform' THEN item ELSE account END, sum(amount_fen) "
            "FROM ledger WHERE order_id = ? GROUP BY 1 HAVING sum(amount_fen) <> 0",
            [order_id],
        ).fetchall()
    return dict(rows)


def test_the_worked_example(world, tmp_path):
    report = import_orders(world, tmp_path, [order("O1", leader2="L2", rate2="3%")])
    assert report.rejected == 0 and report.ledger == (1, 0)
    assert split(world, "O1") == {
        "base": 10000,
        "anchor": 1800,
        "leader": 150,
        "second_leader": 300,
        "commission_cut": 200,
        "service_fee_cut": 50,
        "technical_fee": 500,
        "merchant": 7000,
    }


def test_a_partial_refund_lowers_the_base_and_a_full_one_leaves_nothing(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", refund="40"), order("O2", refund="100")])
    parts = split(world, "O1")
    assert parts["base"] == 6000
    assert parts["anchor"] + parts["commission_cut"] == 1200  # commission ¥12.00
    assert parts["leader"] + parts["service_fee_cut"] == 300  # service fee ¥3.00
    assert split(world, "O2") == {}


def test_a_status_change_adds_reversing_entries_and_keeps_history(world, tmp_path):
    import_orders(world, tmp_path, [order("O1")])
    with world.read() as con:
        first = con.execute("SELECT * FROM ledger ORDER BY ALL").fetchall()
    report = import_orders(world, tmp_path, [order("O1", status="已失效")], name="o2.csv")
    assert report.updated == 1 and report.ledger == (1, 1)
    with world.read() as con:
        entries = con.execute("SELECT * FROM ledger ORDER BY ALL").fetchall()
        reversed_ = con.execute(
            "SELECT count(*), sum(amount_fen) FROM ledger WHERE entry = 'reverse'"
        ).fetchone()
        changes = con.execute("SELECT field, old_value, new_value FROM order_changes").fetchall()
    assert all(row in entries for row in first)  # nothing rewritten
    assert reversed_ == (len(first), -10000 * 2)  # every entry undone (parts and base)
    assert split(world, "O1") == {}
    assert changes == [("status", "paid", "invalid")]


def test_reimporting_the_same_orders_posts_nothing(world, tmp_path):
    rows = [order("O1"), order("O2", product="P2", paid="59.90", anchor="A2")]
    import_orders(world, tmp_path, rows)
    again = import_orders(world, tmp_path, rows)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert again.ledger == (0, 0)


def test_the_agency_takes_its_share_of_the_anchors_net(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", anchor="A2")])
    parts = split(world, "O1")
    # commission ¥20.00, platform ¥2.00, net ¥18.00: the agency 30% = ¥5.40, anchor ¥12.60
    assert (parts["agency"], parts["anchor"]) == (540, 1260)


def test_pay_later_adds_to_the_technical_fee(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", later="是")])
    assert split(world, "O1")["technical_fee"] == 540  # 5% + 0.4 pt of ¥100


def test_a_second_level_rate_above_the_first_levels_net_is_refused(world, tmp_path):
    report = import_orders(world, tmp_path, [order("O1", leader2="L2", rate2="4.6%")])
    assert report.rejected == 1 and report.inserted == 0
    [reason] = report.rejections["reason"].to_list()
    assert reason == (
        "second-level rate 4.6% is above the first level's net rate 4.5% "
        "(the service fee less the platform's cut)"
    )


def test_missing_rates_come_from_the_product_and_the_import_says_so(world, tmp_path):
    report = import_orders(world, tmp_path, [order("O1", product="P2", rate="", fee="")])
    # Information, not a warning: silent under --quiet (issue 12).
    assert "1 orders had no commission_rate: their product's current rate was used" in report.info
    assert not report.notes
    with world.read() as con:
        rates = con.execute(
            "SELECT commission_rate, service_fee_rate, merchant_id, category_l1 FROM orders"
        ).fetchone()
    assert tuple(map(str, rates)) == ("0.300000", "0.060000", "M2", "食品")
    unknown = import_orders(world, tmp_path, [order("O9", product="P9", rate="")], name="u.csv")
    assert unknown.rejections["reason"].to_list() == [
        "no commission rate, and product P9 is not in the database to take it from"
    ]


def test_category_rates_come_from_the_config(world, tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    text = (CONFIGS / "commission.yaml").read_text(encoding="utf-8")
    (configs / "commission.yaml").write_text(
        text.replace("categories: {}  ", "categories: {食品: 0.02}"), encoding="utf-8"
    )
    import_orders(world, tmp_path, [order("O1"), order("O2", product="P2")], config_dir=configs)
    assert split(world, "O1")["technical_fee"] == 500
    assert split(world, "O2")["technical_fee"] == 200


def test_half_a_fen_rounds_up(world, tmp_path):
    # ¥0.05 at 10% commission: 0.5 fen -> 1 fen; the platform's 10% of it, 0.1 -> 0.
    import_orders(world, tmp_path, [order("O1", paid="0.05", rate="10%", fee="0%")])
    parts = split(world, "O1")
    assert parts["anchor"] == 1 and "commission_cut" not in parts
    assert sum(v for k, v in parts.items() if k != "base") == parts["base"] == 5


def test_settlement_dates_follow_the_shop_score(world, tmp_path):
    import_orders(
        world,
        tmp_path,
        [
            order("O1", status="已收货", received="2026-12-03"),  # score 4.9: 7 days
            order("O2", product="P2", status="已收货", received="2026-12-03"),  # 4.6: 15
            order("O3", product="P3", status="已收货", received="2026-12-03"),  # 4.0: 20
            order("O4"),  # not received: not settled
        ],
    )
    with world.read() as con:
        dates = dict(
            con.execute("SELECT DISTINCT order_id, settles_on FROM ledger ORDER BY 1").fetchall()
        )
    assert dates == {
        "O1": dt.date(2026, 12, 10),
        "O2": dt.date(2026, 12, 18),
        "O3": dt.date(2026, 12, 23),
        "O4": None,
    }
    on_the_10th = commission_report(world, by="party", as_of=dt.date(2026, 12, 10), filters={})
    base = on_the_10th.frame.filter(on_the_10th.frame["party"] == "base").row(0, named=True)
    assert (base["estimated"], base["settled"]) == ("400.00", "100.00")
    assert on_the_10th.balanced


def test_a_past_report_can_be_made_again(world, tmp_path):
    import_orders(world, tmp_path, [order("O1")])
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with world.write() as con:  # as if the first import had run two days ago
        db.run(con, "UPDATE ledger_postings SET posted_at = posted_at - INTERVAL 2 DAY")
    before = commission_report(world, by="party", as_of=yesterday, filters={}).frame
    import_orders(world, tmp_path, [order("O1", refund="50")], name="o2.csv")
    again = commission_report(world, by="party", as_of=yesterday, filters={})
    assert again.frame.equals(before)
    today = commission_report(world, by="party", as_of=LATER, filters={})
    base = today.frame.filter(today.frame["party"] == "base")["estimated"].item()
    assert base == "50.00" and today.balanced


def test_reports_by_group_add_up(world, tmp_path):
    import_orders(
        world,
        tmp_path,
        [order("O1"), order("O2", anchor="A2", product="P2"), order("O3", session="S2")],
    )
    report = commission_report(world, by="anchor", as_of=LATER, filters={"session": "S1"})
    assert report.frame["anchor_id"].to_list() == ["A1", "A2"]
    assert report.frame["check"].to_list() == ["0.00", "0.00"]
    assert report.frame["orders"].to_list() == [1, 1]


def test_orders_per_group_count_where_an_orders_base_stands(world, tmp_path):
    """An order counts in the group its latest posting is in: not where it was before it
    moved (another anchor or session), not once it is invalid, once after a correction; and
    as of an earlier day, where it stood then."""
    import_orders(
        world,
        tmp_path,
        [
            order("O1"),
            order("O2"),
            order("O3", anchor="A2", product="P2"),
            order("O4", session="S2"),
        ],
    )
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with world.write() as con:  # as if the first import had run two days ago
        db.run(con, "UPDATE ledger_postings SET posted_at = posted_at - INTERVAL 2 DAY")
    import_orders(
        world,
        tmp_path,
        [
            order("O1", anchor="A2"),  # moves to A2
            order("O2", status="已失效"),  # invalid: reversed, nothing posted
            order("O3", anchor="A2", product="P2", refund="5"),  # corrected in place
            order("O4"),  # moves to S1
        ],
        name="o2.csv",
    )

    def orders(by: str, as_of: dt.date) -> dict[str, int]:
        frame = commission_report(world, by=by, as_of=as_of, filters={}).frame
        return dict(zip(frame[f"{by}_id"], frame["orders"], strict=True))

    assert orders("anchor", LATER) == {"A1": 1, "A2": 2}
    assert orders("session", LATER) == {"S1": 3, "S2": 0}
    assert orders("anchor", yesterday) == {"A1": 3, "A2": 1}
    assert orders("session", yesterday) == {"S1": 3, "S2": 1}
    # Narrowed to one anchor: A1 keeps O4 alone, now in S1 (O1 left it, O2 is invalid).
    narrowed = commission_report(world, by="session", as_of=LATER, filters={"anchor": "A1"})
    assert dict(zip(narrowed.frame["session_id"], narrowed.frame["orders"], strict=True)) == {
        "S1": 1,
        "S2": 0,
    }


# Up to 80%: with a service fee up to 10% and the technical fee up to 5.4%, the merchant keeps
# a share. Rates that would leave a negative share are refused (see
# test_no_accepted_order_leaves_the_merchant_a_negative_share).
rates = st.integers(0, 800).map(lambda permille: f"{permille / 10:g}%")


def refunds(paid_fen: int):
    """A refund of at most what was paid (more is refused, see the test above)."""
    return st.integers(0, paid_fen).map(lambda fen: f"{fen // 100}.{fen % 100:02d}")


@st.composite
def order_rows(draw):
    rows = []
    for i in range(draw(st.integers(1, 12))):
        paid_fen = draw(st.integers(0, 10_000_000))
        paid = f"{paid_fen // 100}.{paid_fen % 100:02d}"
        refund = draw(st.one_of(st.just(""), refunds(paid_fen)))
        rate2 = draw(st.one_of(st.just(""), st.integers(0, 40).map(lambda p: f"{p / 10:g}%")))
        rows.append(
            order(
                f"O{i}",
                paid=paid,
                refund=refund,
                rate=draw(rates),
                fee=draw(st.sampled_from(["5%", "8%", "10%"])),
                leader2="L2" if rate2 else "",
                rate2=rate2,
                later=draw(st.sampled_from(["是", "否"])),
                anchor=draw(st.sampled_from(["A1", "A2", "A9"])),
                status=draw(st.sampled_from(["已付款", "已收货", "已失效"])),
                received="2026-12-02",
                product=draw(st.sampled_from(["P1", "P2", "P3", "P9"])),
            )
        )
    return rows


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=order_rows())
def test_the_parts_always_add_up_to_the_base_and_reimports_change_nothing(world, tmp_path, rows):
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    store = db.Store(folder / "h.duckdb")
    shutil.copy(world.path, store.path)
    import_orders(store, folder, rows)
    with store.read() as con:
        unbalanced = con.execute(
            "SELECT order_id FROM ledger GROUP BY order_id HAVING "
            "sum(amount_fen) FILTER (WHERE account = 'base') <> "
            "sum(amount_fen) FILTER (WHERE account <> 'base')"
        ).fetchall()
        count = con.execute("SELECT count(*) FROM ledger").fetchone()[0]
    assert unbalanced == []
    again = import_orders(store, folder, rows)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM ledger").fetchone()[0] == count
    assert again.ledger == (0, 0) and again.inserted == again.updated == 0


# --- what a review found ----------------------------------------------------------------------


def test_a_report_as_of_before_an_anchor_change_keeps_the_old_anchor(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", anchor="A1")])
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with world.write() as con:
        db.run(con, "UPDATE ledger_postings SET posted_at = posted_at - INTERVAL 2 DAY")
    before = commission_report(world, by="anchor", as_of=yesterday, filters={})
    import_orders(world, tmp_path, [order("O1", anchor="A2")], name="o2.csv")
    again = commission_report(world, by="anchor", as_of=yesterday, filters={})
    assert again.frame.equals(before.frame)
    assert again.frame["anchor_id"].to_list() == ["A1"]
    today = commission_report(world, by="anchor", as_of=LATER, filters={}).frame
    assert today.filter(today["anchor_id"] == "A1")["orders"].item() == 0  # moved away
    assert today.filter(today["anchor_id"] == "A2")["orders"].item() == 1
    with world.read() as con:
        moved = con.execute("SELECT field, old_value, new_value FROM order_changes").fetchall()
    assert ("anchor_id", "A1", "A2") in moved


def test_a_rate_correction_cannot_slip_past_the_second_level_check(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", leader2="L2", rate2="3%")])
    header = ["订单号", "商品ID", "实付金额", "订单状态", "团长服务费率"]
    path = write_csv(tmp_path / "fix.csv", [header, ["O1", "P1", "100", "已付款", "2%"]])
    report = import_file(
        world, path, load_kind("orders", CONFIGS), ImportOptions(config_dir=CONFIGS)
    )
    assert report.rejected == 1
    assert "second-level rate 3% is above the first level's net rate 1.8%" in (
        report.rejections["reason"].item()
    )
    assert split(world, "O1")["second_leader"] == 300  # unchanged


def test_the_agency_share_is_the_one_when_the_order_came_in(world, tmp_path):
    import_orders(world, tmp_path, [order("O1", anchor="A2")])
    write_csv(
        tmp_path / "a2.csv",
        [["达人ID", "达人昵称", "机构", "机构分成比例"], ["A2", "乙", "星光", "50%"]],
    )
    import_file(world, tmp_path / "a2.csv", load_kind("anchors", CONFIGS), ImportOptions())
    import_orders(world, tmp_path, [order("O1", anchor="A2", refund="10")], name="o2.csv")
    parts = split(world, "O1")
    # base ¥90: commission ¥18.00, platform ¥1.80, net ¥16.20; the agency's 30% then: ¥4.86
    assert (parts["agency"], parts["anchor"]) == (486, 1134)
    import_orders(world, tmp_path, [order("O2", anchor="A2")], name="o3.csv")
    assert split(world, "O2")["agency"] == 900  # a new order: today's 50% of ¥18.00


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (order("O1", rate2="3%"), "a second-level rate needs the second-level leader's ID"),
        (order("O1", leader2="L2"), "second-level leader L2 has no rate (二级团长服务费率)"),
        (order("O1", refund="150"), "the refund is more than the ¥100.00 paid"),
        (order("O1", rate="90%", fee="20%"), "commission 90% and service fee 20% add up to"),
        (
            order("O1", product="P9", fee="", leader2="L2", rate2="1%"),
            "a second-level rate, but the order has no service-fee rate",
        ),
    ],
)
def test_orders_that_cannot_be_split_are_refused(world, tmp_path, row, reason):
    report = import_orders(world, tmp_path, [row])
    assert report.rejected == 1 and report.inserted == 0
    assert reason in report.rejections["reason"].item()


def test_an_order_without_any_service_fee_is_noted(world, tmp_path):
    report = import_orders(world, tmp_path, [order("O1", product="P9", fee="")])
    assert report.inserted == 1
    assert (
        "1 orders have no service_fee_rate and no product to take it from: the team leader "
        "earns nothing on them" in report.notes
    )


def test_a_settlement_rule_from_a_score_of_zero_counts(world, tmp_path):
    configs = tmp_path / "configs"
    configs.mkdir()
    text = (CONFIGS / "commission.yaml").read_text(encoding="utf-8")
    text = text.replace("  - {days: 20}", "  - {min_shop_score: 0, days: 9}\n  - {days: 20}")
    (configs / "commission.yaml").write_text(text, encoding="utf-8")
    import_orders(
        world,
        tmp_path,
        [order("O1", product="P3", status="已收货", received="2026-12-03")],
        config_dir=configs,
    )
    with world.read() as con:
        [(settles,)] = con.execute("SELECT DISTINCT settles_on FROM ledger").fetchall()
    assert settles == dt.date(2026, 12, 12)


@st.composite
def order_changes(draw):
    """Orders as first imported, and the same orders later: refunds, statuses, rates."""
    first = draw(order_rows())
    later = []
    for row in first:
        row = list(row)
        if draw(st.booleans()):
            paid_fen = int(row[4].replace(".", ""))
            row[7] = draw(st.one_of(st.just(""), refunds(paid_fen)))
            row[6] = draw(st.sampled_from(["已付款", "已收货", "已结算", "已失效"]))
            row[9] = draw(rates)
        later.append(row)
    return first, later


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=order_changes())
def test_after_changes_the_ledger_nets_to_a_fresh_split(world, tmp_path, changes):
    """Posting changes as reversals and new entries leaves exactly what importing the final
    orders into an empty ledger would: per order and account, to the fen."""
    first, later = changes
    folder = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    changed, fresh = db.Store(folder / "changed.duckdb"), db.Store(folder / "fresh.duckdb")
    shutil.copy(world.path, changed.path)
    shutil.copy(world.path, fresh.path)
    import_orders(changed, folder, first, name="first.csv")
    import_orders(changed, folder, later, name="later.csv")
    import_orders(fresh, folder, later, name="later.csv")

    def net(store):
        with store.read() as con:
            return con.execute(
                "SELECT order_id, account, item, sum(amount_fen) FROM ledger GROUP BY ALL "
                "HAVING sum(amount_fen) <> 0 ORDER BY ALL"
            ).fetchall()

    assert net(changed) == net(fresh)
    report = commission_report(changed, by="party", as_of=LATER, filters={})
    assert report.balanced


# --- posting date and paid date ----------------------------------------------------------------


def paid_on(row: list, when: str) -> list:
    row[5] = when
    return row


def test_paid_dates_pick_orders_whenever_imported_and_as_of_is_the_posting_day(world, tmp_path):
    """November's orders: N1 imported on 4 November, N2 and N3 (paid 3 and 20 November)
    imported on 3 December. As of 5 November the ledger knew N1 only; the orders paid by
    5 November, as known today, are N1 and N2."""
    import_orders(world, tmp_path, [paid_on(order("N1"), "2026-11-02 10:00")], "early.csv")
    with world.write() as con:
        con.execute("UPDATE ledger_postings SET posted_at = TIMESTAMP '2026-11-04 09:00'")
    import_orders(
        world,
        tmp_path,
        [
            paid_on(order("N2", paid="50.00"), "2026-11-03 21:00"),
            paid_on(order("N3", paid="20.00"), "2026-11-20 21:00"),
        ],
        "late.csv",
    )
    with world.write() as con:
        con.execute(
            "UPDATE ledger_postings SET posted_at = TIMESTAMP '2026-12-03 09:00' "
            "WHERE order_id IN ('N2', 'N3')"
        )

    def base(**kwargs) -> str:
        report = commission_report(world, by="party", **kwargs)
        return report.frame.filter(party="base")["estimated"].item()

    november_5 = dt.date(2026, 11, 5)
    posted = commission_report(world, by="party", as_of=november_5, filters={})
    assert posted.frame.filter(party="base")["estimated"].item() == "100.00"  # N1 only
    assert posted.posted_later == 1  # N2: paid by then, imported after
    assert posted.later_note(november_5) == (
        "1 orders paid on or before 2026-11-05 were imported after it and are not in the ledger "
        "as of 2026-11-05; every order paid by then, as known today: --paid-to 2026-11-05 "
        "(without --as-of)"
    )
    assert base(as_of=LATER, filters={"end": november_5}) == "150.00"  # N1 and N2
    assert base(as_of=LATER, filters={"start": dt.date(2026, 11, 4)}) == "20.00"  # N3
    # Both: November's orders as the books stood on 1 December (N1 only).
    assert base(as_of=dt.date(2026, 12, 1), filters={"end": dt.date(2026, 11, 30)}) == "100.00"
    later = commission_report(world, by="party", as_of=LATER, filters={"end": november_5})
    assert later.posted_later == 0 and later.later_note(LATER) is None
