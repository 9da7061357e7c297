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
    assert summary["applications"] == 5
    assert summary["decisions_recorded"] == 5
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
