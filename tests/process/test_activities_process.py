"""招商活动 through the installed `haowu`: exit codes, the audit JSON, the files written."""

from __future__ import annotations

import json

from haowu_cli.config import packaged_path

SAMPLES = packaged_path("sample_data")
TODAY = {"HAOWU_TODAY": "2026-11-22"}


def test_an_activity_runs_end_to_end(haowu, tmp_path):
    assert haowu("import", SAMPLES / "m1001_beauty_gbk.csv", "-q", env=TODAY).code == 0
    assert haowu("grade", "-q", env=TODAY).code == 0
    created = haowu("activity", "create", SAMPLES / "activity_1212.yaml", env=TODAY)
    assert created.code == 0, created
    assert "created activity A1212" in created.err
    applied = haowu(
        "import",
        "--kind",
        "applications",
        "--activity",
        "A1212",
        SAMPLES / "applications_m1001.csv",
        "--rejects",
        tmp_path / "rejects.csv",
        env=TODAY,
    )
    assert applied.code == 3, applied  # two rows refused: category outside, price above rule
    assert (tmp_path / "rejects.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    reviewed = haowu("activity", "review", "A1212", "--format", "json", env=TODAY)
    assert reviewed.code == 0, reviewed
    summary = json.loads(reviewed.out)
    assert summary["applications"] == 4
    assert summary["decisions_recorded"] == 4
    audit = haowu("activity", "export", "A1212", "--format", "json", env=TODAY)
    assert audit.code == 0, audit
    items = json.loads(audit.out)
    assert {item["itemAuditStatus"] for item in items} <= {2, 3}
    assert all(set(item) == {"itemId", "itemAuditStatus", "reason"} for item in items)
    written = haowu("activity", "export", "A1212", "--out", "审核结果.xlsx", env=TODAY)
    assert written.code == 0, written
    assert (tmp_path / "审核结果.xlsx").read_bytes()[:2] == b"PK"


def test_an_activity_file_with_an_unknown_rule_exits_2_naming_file_line_and_key(haowu, tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(
        "id: X\nname: x\nwindows:\n  - {name: 正式, start: 2026-12-12, end: 2026-12-12}\n"
        "rules:\n  min_wombats: 3\n",
        encoding="utf-8",
    )
    ran = haowu("activity", "create", path)
    assert ran.code == 2, ran
    assert f"{path}:6 rules.min_wombats: unknown rule 'min_wombats'" in ran.err
    assert "Traceback" not in ran.err
    assert not (tmp_path / "haowu.duckdb").exists() or ran.out == ""


def test_an_unknown_activity_is_a_usage_error(haowu):
    ran = haowu(
        "import", "--kind", "applications", "--activity", "NOPE", SAMPLES / "applications_m1002.csv"
    )
    assert ran.code == 2, ran
    assert "no activity NOPE" in ran.err
    shown = haowu("activity", "show", "NOPE")
    assert shown.code == 2, shown


def test_the_demo_plans_reports_and_lists_merchants_of_its_activity(haowu, demo_copy):
    planned = haowu("--db", demo_copy, "plan-session", "--brief", SAMPLES / "brief_a1212.yaml")
    assert planned.code == 0, planned
    report = haowu("--db", demo_copy, "report", "activity", "A1212", "--format", "json")
    assert report.code == 0, report
    data = json.loads(report.out)
    assert data["figures"]["applications"] == 11
    statuses = {row["status"]: row["applications"] for row in data["tables"]["by_status"]}
    assert statuses["passed"] + statuses["rejected"] + statuses["manual"] == 11
    windows = data["tables"]["by_window"]
    assert [w["name"] for w in windows] == ["预热", "正式"]
    assert windows[0]["planned_gmv"] is None  # the plan is for the 正式 window
    assert windows[1]["planned_gmv"] is not None
    csv_out = haowu(
        "--db",
        demo_copy,
        "report",
        "activity",
        "A1212",
        "--format",
        "csv",
        "--table",
        "by_merchant",
    )
    assert csv_out.code == 0 and csv_out.out.startswith("merchant_id,applications,passed")
    merchants = haowu(
        "--db",
        demo_copy,
        "merchants",
        "--month",
        "2026-11",
        "--format",
        "json",
        env={"HAOWU_TODAY": "2026-11-22"},
    )
    assert merchants.code == 0, merchants
    rows = {r["merchant_id"]: r for r in json.loads(merchants.out)}
    assert rows["M1001"]["joined_on"] == "2026-11-10"
    assert rows["M1001"]["new_until"] == "2026-12-09"
    assert rows["M1001"]["new_merchant"] is True
    assert rows["M1003"]["joined_on"] is None and rows["M1003"]["new_merchant"] is False


def test_a_join_date_by_hand_resplits_through_the_real_process(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "merchants", "joined", "M1002", "2026-11-25")
    assert ran.code == 0, ran
    assert "orders re-posted" in ran.err
    again = haowu("--db", demo_copy, "merchants", "resplit")
    assert again.code == 0 and "ledger: 0 orders re-posted" in again.err
    bad = haowu("--db", demo_copy, "merchants", "joined", "M1002", "2026-13-01")
    assert bad.code == 2


def test_a_brief_outside_the_activitys_windows_is_refused(haowu, demo_copy, tmp_path):
    brief = tmp_path / "b.yaml"
    brief.write_text(
        (SAMPLES / "brief_a1212.yaml")
        .read_text(encoding="utf-8")
        .replace("date: 2026-12-12", "date: 2026-12-13"),
        encoding="utf-8",
    )
    ran = haowu("--db", demo_copy, "plan-session", "--brief", brief)
    assert ran.code == 1, ran
    assert "not inside a window of activity A1212" in ran.err


def test_an_activity_from_the_platforms_json_through_the_real_process(haowu, tmp_path):
    record = {
        "activityId": 7741203,
        "activityTitle": "双十二美妆专场",
        "activityType": 3,
        "activityStatus": 3,
        "activityBeginTime": 1797004800000,
        "activityEndTime": 1797091199000,
        "minItemCommissionRate": 200,
    }
    good, gone = tmp_path / "good.json", tmp_path / "gone.json"
    good.write_text(json.dumps({"data": {"result": [record]}}), encoding="utf-8")
    gone.write_text(json.dumps({**record, "activityStatus": 5}), encoding="utf-8")
    assert haowu("activity", "create", good).code == 0
    shown = haowu("activity", "show", "7741203", "--format", "json")
    assert shown.code == 0, shown
    assert json.loads(shown.out)["windows"][0]["start"] == "2026-12-12T00:00:00"
    refused = haowu("activity", "create", gone)
    assert refused.code == 2 and "7741203" in refused.err and "Traceback" not in refused.err
