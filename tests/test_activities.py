"""招商活动: the activity file, the rule vocabulary, 报名 imports, the review and its history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from haowu_cli import activities
from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, UsageError
from tests.conftest import write_csv

CONFIGS = packaged_path("configs")
TODAY = dt.date(2026, 11, 22)

ACTIVITY = """\
id: T1
name: 测试活动
type: 3
apply_until: 2026-12-08 18:00
windows:
  - {name: 预热, start: 2026-12-09 00:00, end: 2026-12-11 23:59}
  - {name: 正式, start: 2026-12-12 19:00, end: 2026-12-12 23:00}
categories: [美妆, 食品]
rules:
  min_level: L3
  min_commission_rate: 0.20
  min_service_fee_rate: 0.02
  max_price_vs_list: 0.8
  max_price_vs_lowest: 1.0
  min_stock: 500
  sample_required: true
  min_shop_score: 4.6
"""

APP_HEADER = [
    "商品ID",
    "商家ID",
    "商品名称",
    "一级类目",
    "划线价",
    "近期最低价",
    "活动价",
    "活动库存",
    "佣金比例",
    "团长服务费率",
    "样品",
    "店铺评分",
]
GOOD = {
    "商品ID": "P1",
    "商家ID": "M1",
    "商品名称": "好物",
    "一级类目": "美妆",
    "划线价": "100.00",
    "近期最低价": "80.00",
    "活动价": "70.00",
    "活动库存": "1000",
    "佣金比例": "30%",
    "团长服务费率": "5%",
    "样品": "有",
    "店铺评分": "4.9",
}


def app_row(**changes) -> list[str]:
    row = {**GOOD, **changes}
    return [row[h] for h in APP_HEADER]


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setenv("HAOWU_TODAY", TODAY.isoformat())


def write_activity(tmp_path: Path, text: str = ACTIVITY, name: str = "act.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def setup_products(store, levels: dict[str, str]) -> None:
    """Products known to haowu, each with a grade of the given level as of TODAY."""
    with store.write() as con, db.transaction(con):
        for index, (pid, level) in enumerate(levels.items(), start=1):
            con.execute(
                "INSERT INTO products (product_id, merchant_id, title, category_l1, "
                "list_price_fen, live_price_fen, commission_rate, stock, shop_score, sample, "
                "created_import_id, updated_import_id) VALUES (?, 'M1', ?, '美妆', 10000, 9000, "
                "0.3, 5000, 4.9, true, 0, 0)",
                [pid, f"商品{index}"],
            )
            con.execute(
                "INSERT INTO grades VALUES (?, ?, 1, 50, 50, 50, 50, 50, 50, ?)",
                [TODAY, pid, level],
            )


def import_apps(store, tmp_path: Path, rows: list[list[str]], *, activity="T1", name="apps.csv"):
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_file

    kind = load_kind("applications", CONFIGS)
    from dataclasses import replace

    now = dt.datetime(2026, 11, 22, 12, 0)
    kind = replace(kind, hooks=activities.application_hooks(activity, now))
    path = write_csv(tmp_path / name, [APP_HEADER, *rows], encoding="utf-8-sig")
    return import_file(store, path, kind, ImportOptions(config_dir=CONFIGS, today=TODAY))


def outcome(store, product: str) -> tuple[str, list[str]]:
    """An application's standing decision after a review."""
    _activity, apps = activities.applications(store, "T1")
    row = apps.filter(apps["product_id"] == product).row(0, named=True)
    return row["status"], row["reasons"]


# --- the activity file -----------------------------------------------------------------------


def test_activity_file_is_read_with_its_windows_and_rules(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    activity = activities.load_activity_file(write_activity(tmp_path), book)
    assert activity.activity_type == 3
    assert [(w.name, w.kind) for w in activity.windows] == [("预热", "warmup"), ("正式", "sale")]
    assert activity.windows[1].starts_at == dt.datetime(2026, 12, 12, 19, 0)
    assert activity.rules["min_level"] == "L3"
    assert activity.rules["min_commission_rate"] == "0.2"
    assert activity.apply_until == dt.datetime(2026, 12, 8, 18, 0)


def test_rules_left_out_take_the_packaged_defaults(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    text = ACTIVITY.split("rules:")[0]
    activity = activities.load_activity_file(write_activity(tmp_path, text), book)
    assert activity.rules["min_level"] == book.specs["min_level"].default == "L2"
    assert activity.rules["min_stock"] == 50


def test_an_unknown_rule_is_refused_with_file_line_and_key(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    path = write_activity(tmp_path, ACTIVITY + "  max_wombats: 3\n")
    with pytest.raises(ConfigError) as caught:
        activities.load_activity_file(path, book)
    line = ACTIVITY.count("\n") + 1
    assert f"{path}:{line} rules.max_wombats: unknown rule 'max_wombats'" in caught.value.message
    assert caught.value.exit_code == 2


def test_every_problem_of_an_activity_file_is_reported_at_once(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    text = ACTIVITY.replace("type: 3", "type: 7").replace("min_level: L3", "min_level: L9")
    text = text.replace("end: 2026-12-12 23:00", "end: 2026-12-12 18:00")
    with pytest.raises(ConfigError) as caught:
        activities.load_activity_file(write_activity(tmp_path, text), book)
    problems = "\n".join(caught.value.problems)
    assert "type: expected 1 (普通), 2 (专属) or 3 (合作招商), got 7" in problems
    assert "rules.min_level: expected a level L0–L5, got 'L9'" in problems
    assert "windows.1.end: the window ends before it starts" in problems


def test_an_unknown_rule_in_the_vocabulary_is_refused(tmp_path):
    (tmp_path / "activities.yaml").write_text(
        "rules:\n  min_level: {default: L2}\n  min_wombats: {default: 3}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"activities.yaml:3 rules.min_wombats: unknown rule"):
        activities.load_rule_book(tmp_path)


# --- the review: every rule ------------------------------------------------------------------


@pytest.fixture
def activity_store(store, tmp_path):
    setup_products(store, {"P1": "L4", "P2": "L1", "P3": "L4"})
    activities.create_activity(store, write_activity(tmp_path), CONFIGS)
    return store


def test_an_application_meeting_every_rule_passes(activity_store, tmp_path):
    report = import_apps(activity_store, tmp_path, [app_row()])
    assert report.inserted == 1 and report.rejected == 0
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1") == ("passed", [])


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"商品ID": "P2"}, "等级L1低于活动要求L3"),
        ({"佣金比例": "15%"}, "佣金比例15%低于活动要求20%"),
        ({"团长服务费率": "1%"}, "服务费率1%低于活动要求2%"),
        # The sheet gives no list price (the import could not check it): the product's.
        (
            {"划线价": "", "活动价": "85.00", "近期最低价": "85.00"},
            "活动价¥85.00高于划线价¥100.00的80%",
        ),
        ({"活动价": "75.00", "近期最低价": "70.00"}, "活动价¥75.00高于近期最低价¥70.00"),
        ({"活动库存": "100"}, "活动库存100低于活动要求500"),
        ({"样品": "无"}, "未提供样品,活动要求寄样"),
        ({"店铺评分": "4.0"}, "店铺评分4低于活动要求4.6"),
    ],
)
def test_each_rule_rejects_with_its_reason_in_chinese(activity_store, tmp_path, changes, reason):
    import_apps(activity_store, tmp_path, [app_row(**changes)])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    status, reasons = outcome(activity_store, changes.get("商品ID", "P1"))
    assert status == "rejected"
    assert reasons == [reason]


def test_a_rejection_lists_every_failed_rule(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row(**{"商品ID": "P2", "活动库存": "10"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P2") == (
        "rejected",
        ["等级L1低于活动要求L3", "活动库存10低于活动要求500"],
    )


def test_a_rule_missed_within_its_margin_goes_to_a_person(activity_store, tmp_path):
    # 19.5% against 20% with a 5% margin (19%): 待人工, not 拒绝; 18.9% is rejected.
    import_apps(activity_store, tmp_path, [app_row(**{"佣金比例": "19.5%"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    status, reasons = outcome(activity_store, "P1")
    assert status == "manual"
    assert reasons == ["佣金比例19.5%低于活动要求20%(差距在容差内,待人工)"]
    import_apps(activity_store, tmp_path, [app_row(**{"佣金比例": "18.9%"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1")[0] == "rejected"


def test_the_lowest_recent_price_includes_prices_haowu_has_seen(activity_store, tmp_path):
    # The product was live at ¥60 earlier (a change recorded by an import today).
    with activity_store.write() as con, db.transaction(con):
        con.execute(
            "INSERT INTO imports (import_id, kind, file_name, started_at, finished_at) "
            "VALUES (99, 'products', 'x.csv', ?, ?)",
            [dt.datetime(2026, 11, 20), dt.datetime(2026, 11, 20)],
        )
        con.execute("INSERT INTO product_changes VALUES (99, 'P1', 'live_price', '6000', '9000')")
    import_apps(activity_store, tmp_path, [app_row(**{"活动价": "70.00", "近期最低价": ""})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1") == ("rejected", ["活动价¥70.00高于近期最低价¥60.00"])


def test_a_product_not_graded_yet_is_rejected_until_it_is(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row(**{"商品ID": "NEW1"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "NEW1") == ("rejected", ["商品尚未评级,活动要求L3"])


# --- decisions -------------------------------------------------------------------------------


def test_a_dry_run_records_nothing(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row()])
    result = activities.review(activity_store, "T1", CONFIGS, dry_run=True)
    assert result.summary["recorded"] == 1
    with activity_store.read() as con:
        assert db.decision_history(con, "T1").height == 0


def test_a_persons_decision_survives_every_later_review(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row(**{"佣金比例": "10%"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1")[0] == "rejected"
    activities.decide(activity_store, "T1", "P1", "pass", "品牌补贴,破例通过", "小王")
    again = activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1") == ("passed", ["品牌补贴,破例通过"])
    assert again.summary["recorded"] == 0 and again.summary["kept"] == 1
    assert again.summary["passed"] == 1
    # Even when the application changes and the rules would now decide otherwise.
    import_apps(activity_store, tmp_path, [app_row(**{"佣金比例": "5%", "样品": "无"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    assert outcome(activity_store, "P1")[0] == "passed"
    with activity_store.read() as con:
        history = db.decision_history(con, "T1", "P1")
    assert history["decided_by"].to_list() == ["review", "小王"]
    assert history["manual"].to_list() == [False, True]


def test_the_history_keeps_every_change_with_time_fingerprint_and_who(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row(**{"活动库存": "100"})])
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)  # no change: no new entry
    import_apps(activity_store, tmp_path, [app_row()])  # re-import fixes the stock
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    with activity_store.read() as con:
        history = db.decision_history(con, "T1", "P1")
        changes = con.execute(
            "SELECT field, old_value, new_value FROM application_changes"
        ).fetchall()
    assert history["status"].to_list() == ["rejected", "passed"]
    assert history["reasons"].to_list() == [["活动库存100低于活动要求500"], []]
    fingerprint = activities.require_activity(activity_store, "T1").fingerprint
    assert set(history["rules_fingerprint"]) == {fingerprint}
    assert history["level"].to_list() == ["L4", "L4"]
    assert all(isinstance(t, dt.datetime) for t in history["decided_at"])
    assert changes == [("stock", "100", "1000")]


def test_a_rejection_by_a_person_needs_a_reason(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row()])
    with pytest.raises(UsageError, match="needs a reason"):
        activities.decide(activity_store, "T1", "P1", "reject", "  ", "小王")
    with pytest.raises(UsageError, match="has no application for product P9"):
        activities.decide(activity_store, "T1", "P9", "pass", None, "小王")


def test_the_audit_json_has_the_platforms_shape(activity_store, tmp_path):
    import_apps(
        activity_store,
        tmp_path,
        [app_row(), app_row(**{"商品ID": "P2"}), app_row(**{"商品ID": "P3", "佣金比例": "19.5%"})],
    )
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    _activity, apps = activities.applications(activity_store, "T1")
    assert activities.audit_json(apps) == [
        {"itemId": "P1", "itemAuditStatus": 2, "reason": ""},
        {"itemId": "P2", "itemAuditStatus": 3, "reason": "等级L1低于活动要求L3"},
    ]  # P3 waits for a person (待人工): not sent


# --- 报名 imports ------------------------------------------------------------------------------


def test_bad_application_rows_are_rejected_with_their_reason(store, tmp_path):
    setup_products(store, {"P1": "L4"})
    text = ACTIVITY.replace("categories: [美妆, 食品]", "categories: [美妆, 食品]\nmerchants: [M1]")
    activities.create_activity(store, write_activity(tmp_path, text), CONFIGS)
    report = import_apps(
        store,
        tmp_path,
        [
            app_row(),
            app_row(**{"商品ID": "P2", "一级类目": "服饰"}),
            app_row(**{"商品ID": "P3", "活动价": "90.00"}),
            app_row(**{"商品ID": "P4", "商家ID": "M9"}),
        ],
    )
    reasons = {r["row"]: r["reason"] for r in report.rejections.iter_rows(named=True)}
    assert report.inserted == 1 and report.rejected == 3
    assert reasons[3] == "category 服饰 is not one of the activity's (美妆、食品)"
    assert reasons[4] == (
        "activity price above the rule: at most ¥80.00 (list price ¥100.00 × 0.8, "
        "max_price_vs_list)"
    )
    assert reasons[5] == "merchant M9 may not apply to activity T1"


def test_applications_after_the_deadline_or_for_an_unknown_activity_are_rejected(store, tmp_path):
    setup_products(store, {"P1": "L4"})
    text = ACTIVITY.replace("apply_until: 2026-12-08 18:00", "apply_until: 2026-11-21 18:00")
    activities.create_activity(store, write_activity(tmp_path, text), CONFIGS)
    late = import_apps(store, tmp_path, [app_row()])
    assert late.rejected == 1 and late.inserted == 0
    assert late.rejections["reason"][0] == "报名 closed on 2026-11-21 18:00"
    unknown = import_apps(store, tmp_path, [app_row()], activity="NOPE", name="b.csv")
    assert unknown.rejections["reason"][0].startswith("unknown activity NOPE")


def test_products_not_yet_known_come_in_with_their_application(activity_store, tmp_path):
    import_apps(activity_store, tmp_path, [app_row(**{"商品ID": "NEW1", "商品名称": "新品"})])
    with activity_store.read() as con:
        row = con.execute(
            "SELECT merchant_id, title, category_l1, live_price_fen, list_price_fen FROM products "
            "WHERE product_id = 'NEW1'"
        ).fetchall()
    assert row == [("M1", "新品", "美妆", 7000, 10000)]


def test_a_merchants_join_date_comes_from_the_application_sheet(activity_store, tmp_path):
    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_file

    kind = load_kind("applications", CONFIGS)
    from dataclasses import replace

    kind = replace(kind, hooks=activities.application_hooks("T1", dt.datetime(2026, 11, 22)))
    path = write_csv(
        tmp_path / "j.csv",
        [[*APP_HEADER, "加入快分销日期"], [*app_row(), "2026-11-10"]],
    )
    report = import_file(activity_store, path, kind, ImportOptions(config_dir=CONFIGS))
    assert report.inserted == 1, report.rejections
    with activity_store.read() as con:
        joined = con.execute("SELECT merchant_id, joined_on FROM merchants").fetchall()
    assert joined == [("M1", dt.date(2026, 11, 10))]


def test_planning_from_an_activity_takes_passed_products_at_its_terms(activity_store, tmp_path):
    import_apps(
        activity_store,
        tmp_path,
        [app_row(**{"活动价": "66.00", "活动库存": "800"}), app_row(**{"商品ID": "P2"})],
    )
    activities.review(activity_store, "T1", CONFIGS, dry_run=False)
    with activity_store.read() as con:
        planned = db.planning_products(con, activity="T1", today=TODAY)
        everything = db.planning_products(con, today=TODAY)
    assert planned["product_id"].to_list() == ["P1"]  # P2 was rejected (L1)
    row = planned.row(0, named=True)
    assert (row["live_price_fen"], row["stock"]) == (6600, 800)
    assert everything.filter(everything["product_id"] == "P1")["live_price_fen"][0] == 9000


PLATFORM_ACTIVITY = {
    "activityId": 7741203,
    "activityTitle": "双十二美妆专场",
    "activityType": 3,
    "activityStatus": 3,
    "activityBeginTime": 1797004800000,  # 2026-12-12 00:00 in Beijing
    "activityEndTime": 1797091199000,  # 2026-12-12 23:59:59
    "minItemCommissionRate": 200,  # ‰
    "minInvestmentPromotionRate": 25,
}


def write_json(tmp_path: Path, payload, name: str = "activity.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_the_platforms_activity_json_is_read_as_an_activity(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    envelope = {"result": 1, "data": {"total": 1, "result": [PLATFORM_ACTIVITY]}}
    for payload in (envelope, PLATFORM_ACTIVITY, [PLATFORM_ACTIVITY]):
        activity = activities.load_activity_file(write_json(tmp_path, payload), book)
        assert (activity.activity_id, activity.name, activity.activity_type) == (
            "7741203",
            "双十二美妆专场",
            3,
        )
        (window,) = activity.windows
        assert (window.kind, window.starts_at, window.ends_at) == (
            "sale",
            dt.datetime(2026, 12, 12, 0, 0),
            dt.datetime(2026, 12, 12, 23, 59, 59),
        )
        rules = activity.rules
        assert (rules["min_commission_rate"], rules["min_service_fee_rate"]) == ("0.2", "0.025")
        assert rules["min_level"] == book.resolve({})["min_level"]  # the others: defaults


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"activityStatus": 4}, "is 已失效 on the platform"),
        ({"activityEndTime": 0}, "has no begin or end time"),
        ({"activityType": 9}, r"expected 1 \(普通\), 2 \(专属\) or 3 \(合作招商\)"),
    ],
)
def test_a_platform_activity_haowu_cannot_plan_is_refused(tmp_path, changes, complaint):
    book = activities.load_rule_book(CONFIGS)
    path = write_json(tmp_path, {**PLATFORM_ACTIVITY, **changes})
    with pytest.raises(ConfigError, match=complaint) as caught:
        activities.load_activity_file(path, book)
    assert str(path) in str(caught.value)


def test_several_platform_activities_in_one_file_are_refused_with_their_ids(tmp_path):
    book = activities.load_rule_book(CONFIGS)
    other = {**PLATFORM_ACTIVITY, "activityId": 7741204}
    path = write_json(tmp_path, {"data": {"result": [PLATFORM_ACTIVITY, other]}})
    with pytest.raises(ConfigError, match=r"found 2 \(7741203, 7741204\)"):
        activities.load_activity_file(path, book)


def test_a_join_date_from_an_application_sheet_re_splits_the_merchants_orders(
    activity_store, tmp_path
):
    """The sheet's 加入快分销日期 makes M1 a new merchant: its orders already in the ledger are
    split again at the new-merchant fee, with reversing entries, as `haowu merchants joined`
    does; the same date again re-splits nothing."""
    from dataclasses import replace

    from haowu_cli.ingest.columns import load_kind
    from haowu_cli.ingest.pipeline import ImportOptions, import_file

    orders = write_csv(
        tmp_path / "orders.csv",
        [
            ["订单号", "商品ID", "实付金额", "支付时间", "订单状态"],
            ["O1", "P1", "100.00", "2026-11-12", "已付款"],
        ],
    )
    report = import_file(
        activity_store, orders, load_kind("orders", CONFIGS), ImportOptions(config_dir=CONFIGS)
    )
    assert report.rejected == 0, report.rejections

    def technical_fee() -> int:
        with activity_store.read() as con:
            return con.execute(
                "SELECT sum(amount_fen) FROM ledger WHERE item = 'technical_fee'"
            ).fetchall()[0][0]

    before = technical_fee()
    kind = replace(
        load_kind("applications", CONFIGS),
        hooks=activities.application_hooks("T1", dt.datetime(2026, 11, 22)),
    )
    sheet = [[*APP_HEADER, "加入快分销日期"], [*app_row(), "2026-11-10"]]
    for name in ("j.csv", "again.csv"):
        path = write_csv(tmp_path / name, sheet)
        assert (
            import_file(activity_store, path, kind, ImportOptions(config_dir=CONFIGS)).rejected == 0
        )
    assert before != 100 and technical_fee() == 100  # 1% of ¥100.00, under the cap
    with activity_store.read() as con:
        resplits = con.execute("SELECT count(*) FROM imports WHERE kind = 'resplit'").fetchall()
        reversed_ = con.execute(
            "SELECT count(*) FROM ledger WHERE entry = 'reverse' AND item = 'technical_fee'"
        ).fetchall()
    assert resplits == [(1,)] and reversed_ == [(1,)]
