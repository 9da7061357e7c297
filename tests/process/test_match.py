"""`haowu match products` through the real process: ranked by the planner's expected GMV,
eligible under the brief defaults, 潜力好货 flagged by configs/match.yaml, bad input refused."""

from __future__ import annotations

import json
from decimal import Decimal

from haowu_cli.config import packaged_path


def _match(haowu, db, *extra):
    ran = haowu("--db", db, "match", "products", "--anchor", "A001", "--date", "2026-12-05", *extra)
    assert ran.code == 0, ran
    return json.loads(ran.out)


def test_products_are_ranked_by_expected_gmv_and_respect_min_level(haowu, demo_db):
    rows = _match(haowu, demo_db, "--min-level", "L3", "--limit", "8", "-f", "json")
    assert 0 < len(rows) <= 8
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    gmv = [Decimal(r["expected_gmv"]) for r in rows]
    assert gmv == sorted(gmv, reverse=True)
    assert {r["level"] for r in rows} <= {"L3", "L4", "L5"}
    wider = _match(haowu, demo_db, "--min-level", "L0", "--limit", "500", "-f", "json")
    assert len(wider) >= len(rows)


def test_potential_follows_the_rules_in_match_yaml(haowu, demo_db, tmp_path):
    rows = _match(haowu, demo_db, "--min-level", "L0", "--limit", "500", "-f", "json")
    config = tmp_path / "configs"
    config.mkdir()
    (config / "match.yaml").write_text(
        "potential:\n  max_level: L5\n  max_joined_days: 0\n  min_sales_strength: 0\n"
        "  max_price_to_ticket: 100\n  category_match: false\n",
        encoding="utf-8",
    )
    ran = haowu(
        "--config",
        config,
        "--db",
        demo_db,
        "match",
        "products",
        "--anchor",
        "A001",
        "--date",
        "2026-12-05",
        "--min-level",
        "L0",
        "--limit",
        "500",
        "-f",
        "json",
    )
    assert ran.code == 0, ran
    loose = json.loads(ran.out)
    assert len(loose) == len(rows)
    assert all(r["potential"] for r in loose)  # every rule met by every product


def test_bad_input_is_refused_without_a_traceback(haowu, demo_db, tmp_path):
    ran = haowu("--db", demo_db, "match", "products", "--anchor", "A999")
    assert ran.code == 1 and "anchor A999 is not in the database" in ran.err, ran
    ran = haowu("--db", demo_db, "match", "products", "--anchor", "A001", "--min-level", "L9")
    assert ran.code == 2 and "--min-level" in ran.err, ran
    config = tmp_path / "configs"
    config.mkdir()
    (config / "match.yaml").write_text("potential:\n  max_level: L7\n", encoding="utf-8")
    ran = haowu("--config", config, "--db", demo_db, "match", "products", "--anchor", "A001")
    assert ran.code == 2 and "match.yaml:2 potential.max_level" in ran.err, ran
    assert "Traceback" not in ran.err
    assert packaged_path("configs").joinpath("match.yaml").exists()


ANCHOR_KEYS = [
    "rank",
    "anchor_id",
    "anchor_name",
    "score",
    "fit",
    "expected_gmv",
    "expected_commission",
    "expected_team_income",
    "session_products",
    "session_minutes",
    "gmv_per_hour",
    "gmv_per_hour_default",
    "avg_ticket",
    "median_price",
    "price_to_ticket",
    "categories_matched",
    "category_score",
    "price_score",
    "female_share",
    "audience_female_share",
    "female_share_score",
    "age_band",
    "audience_age_bands",
    "age_band_score",
    "history_sessions",
    "history_orders",
    "merchant_orders",
    "history_score",
    "goal_session",
]


def _anchors(haowu, db, *extra):
    ran = haowu(
        "--db", db, "match", "anchors", "--merchant", "M1001", "--date", "2026-12-05", *extra
    )
    assert ran.code == 0, ran
    return ran


def test_anchors_for_a_merchant_as_json_with_stable_keys(haowu, demo_db):
    ran = _anchors(haowu, demo_db, "-f", "json")
    found = json.loads(ran.out)
    assert list(found) == [
        "merchant_id",
        "date",
        "products",
        "eligible",
        "not_eligible",
        "session_minutes",
        "session_max_products",
        "anchors",
        "goal",
    ]
    assert found["merchant_id"] == "M1001" and found["goal"] is None
    rows = found["anchors"]
    assert [list(r) for r in rows] == [ANCHOR_KEYS] * len(rows) and len(rows) == 5
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert all(Decimal(r["expected_gmv"]) > 0 for r in rows)  # money as exact yuan text
    assert rows[0]["anchor_id"] == "A001" and "美妆" in rows[0]["categories_matched"]
    assert "left out" in ran.err  # the products the brief defaults leave out are named
    again = _anchors(haowu, demo_db, "-f", "json")
    assert again.out == ran.out  # deterministic


def test_why_products_are_left_out_is_a_stable_code_in_every_language(haowu, demo_db):
    from haowu_cli.planner.candidates import REASON_CODES

    english = json.loads(_anchors(haowu, demo_db, "-f", "json").out)["not_eligible"]
    chinese = _anchors(haowu, demo_db, "-f", "json", "--lang", "zh")
    assert english and set(english) <= set(REASON_CODES), english
    assert json.loads(chinese.out)["not_eligible"] == english
    assert "无库存" in chinese.err, chinese  # people still read why, in Chinese


def test_anchors_as_csv_and_table(haowu, demo_db):
    csv_out = _anchors(haowu, demo_db, "-f", "csv", "--limit", "2").out.splitlines()
    assert csv_out[0].split(",") == ANCHOR_KEYS and len(csv_out) == 3
    table = _anchors(haowu, demo_db, "--product", "1001020000493").out
    assert "A001" in table and "anchors for merchant M1001" in table


def test_a_goal_says_which_sessions_reach_it_or_that_it_cannot(haowu, demo_db):
    small = json.loads(_anchors(haowu, demo_db, "--goal", "1000", "-f", "json").out)["goal"]
    assert small["reachable"] is True and small["stopped_by"] == "reached"
    assert [s["session"] for s in small["sessions"]] == [1]
    big = json.loads(_anchors(haowu, demo_db, "--goal", "500万", "-f", "json").out)
    goal = big["goal"]
    assert goal["goal"] == "5000000.00" and goal["reachable"] is False
    assert Decimal(goal["shortfall"]) == Decimal("5000000.00") - Decimal(goal["expected_gmv"])
    firsts: dict[str, int] = {}
    for s in goal["sessions"]:
        firsts.setdefault(s["anchor_id"], s["session"])
    assert {r["anchor_id"]: r["goal_session"] for r in big["anchors"]} == firsts
    assert len(goal["sessions"]) == goal["max_sessions"] == 30  # anchors come round again
    assert goal["stopped_by"] == "max_sessions"
    table = _anchors(haowu, demo_db, "--goal", "500万").out
    assert "not reachable" in table


def test_match_anchors_refuses_bad_input_without_a_traceback(haowu, demo_db, tmp_path):
    base = ("--db", demo_db, "match", "anchors")
    ran = haowu(*base, "--merchant", "M9999")
    assert ran.code == 1 and "merchant M9999 has no products" in ran.err, ran
    ran = haowu(*base, "--merchant", "M1001", "--product", "123")
    assert ran.code == 1 and "not products of merchant M1001: 123" in ran.err, ran
    ran = haowu(*base, "--merchant", "M1001", "--goal", "lots")
    assert ran.code == 2 and "--goal" in ran.err, ran
    config = tmp_path / "configs"
    config.mkdir()
    (config / "match.yaml").write_text(
        "anchors:\n  weights: {category: x}\naudience:\n  美妆: {female_share: 2}\n",
        encoding="utf-8",
    )
    ran = haowu("--config", config, *base, "--merchant", "M1001")
    assert ran.code == 2, ran
    assert "match.yaml:2 anchors.weights.category" in ran.err
    assert "match.yaml:4 audience.美妆.female_share" in ran.err
    assert "Traceback" not in ran.err


def test_anchors_for_a_brand_are_its_merchants_and_only_its_products(haowu, demo_db):
    """ "Which anchors for this brand?": `--brand 花漾` matches merchant M1001's 花漾 products,
    the same answer as `--merchant M1001` when the merchant sells only that brand."""
    by_brand = _anchors_for(haowu, demo_db, "--brand", "花漾")
    by_merchant = _anchors_for(haowu, demo_db, "--merchant", "M1001")
    assert by_brand["merchant_id"] == "M1001"
    assert by_brand == by_merchant
    both = _anchors_for(haowu, demo_db, "--merchant", "M1001", "--brand", "花漾")
    assert both == by_merchant
    base = ("--db", demo_db, "match", "anchors", "--date", "2026-12-05")
    ran = haowu(*base, "--merchant", "M1002", "--brand", "花漾")
    assert ran.code == 1 and "merchant M1002 has no products of brand 花漾" in ran.err, ran
    ran = haowu(*base, "--brand", "没有")
    assert ran.code == 1 and "no product of brand 没有 is in the database" in ran.err, ran
    ran = haowu(*base)
    assert ran.code == 2 and "--merchant M, --brand B or both" in ran.err, ran
    assert "Traceback" not in ran.err


def _anchors_for(haowu, db, *which):
    ran = haowu("--db", db, "match", "anchors", *which, "--date", "2026-12-05", "-f", "json")
    assert ran.code == 0, ran
    return json.loads(ran.out)


def test_no_eligible_product_is_an_empty_answer_in_every_format(haowu, demo_db, tmp_path):
    config = tmp_path / "configs"
    config.mkdir()
    session = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    (config / "session.yaml").write_text(
        session.replace("min_commission_rate: 0.10", "min_commission_rate: 0.99"),
        encoding="utf-8",
    )
    base = ("--config", config, "--db", demo_db, "match", "products", "--anchor", "A001")
    assert json.loads(haowu(*base, "-f", "json").out) == []
    csv_out = haowu(*base, "-f", "csv")
    assert csv_out.code == 0 and csv_out.out.splitlines()[0].startswith("rank,product_id,")
    table = haowu(*base)
    assert table.code == 0 and "Traceback" not in table.err, table
