"""A single-brand 专场 through the real process: the bundled brief plans anchor A001 with
merchant M1001 only; without its sequence override the same brief is infeasible, said in
the brief's words, and a bad override is a configuration error (exit 2)."""

from __future__ import annotations

import json

from haowu_cli.config import packaged_path

BRIEF = packaged_path("sample_data") / "brief_a001_huayang.yaml"


def test_the_single_brand_brief_plans_only_the_brands_products(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "plan-session", "--brief", BRIEF, "--dry-run", "-f", "json")
    assert ran.code == 0, ran
    plan = json.loads(ran.out)
    assert {item["merchant_id"] for item in plan["items"]} == {"M1001"}, ran
    assert float(plan["sessions"][0]["expected_gmv"]) >= 50_000, ran


def test_without_the_override_the_brief_says_why_it_is_infeasible(haowu, demo_copy, tmp_path):
    text = BRIEF.read_text(encoding="utf-8")
    brief = tmp_path / "brief.yaml"
    brief.write_text(
        "\n".join(line for line in text.splitlines() if not line.startswith("sequence:")),
        encoding="utf-8",
    )
    ran = haowu("--db", demo_copy, "plan-session", "--brief", brief, "--dry-run")
    assert ran.code != 0, ran
    assert "opens and closes with a deal" in ran.err and "open_with_deal: false" in ran.err, ran
    assert "Traceback" not in ran.err


def test_a_bad_sequence_override_is_a_configuration_error(haowu, demo_copy, tmp_path):
    brief = tmp_path / "brief.yaml"
    brief.write_text(
        BRIEF.read_text(encoding="utf-8").replace("deal_every: 0", "deal_every: often"),
        encoding="utf-8",
    )
    ran = haowu("--db", demo_copy, "plan-session", "--brief", brief, "--dry-run")
    assert ran.code == 2, ran
    assert "brief.yaml:14 sequence.deal_every: expected a whole number" in ran.err, ran
