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
        "potential:\n  max_level: L5\n  max_listed_days: 0\n  min_sales_strength: 0\n"
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
