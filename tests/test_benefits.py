"""权益 (grading.yaml `benefits`) where haowu decides: an activity's review can require one
(`required_benefit`), and the planner can prefer products whose level grants 达人优选."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from haowu_cli import activities
from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, UsageError
from haowu_cli.planner.rules import load_rules
from tests.test_activities import (
    ACTIVITY,
    CONFIGS,
    app_row,
    import_apps,
    outcome,
    setup_products,
    write_activity,
)

WITH_BENEFIT = ACTIVITY.replace(
    "  min_level: L3\n", "  min_level: L3\n  required_benefit: 达人优选\n"
)


def test_an_activity_can_require_a_benefit_of_the_products_level(store, tmp_path):
    setup_products(store, {"P1": "L4", "P5": "L5"})
    activities.create_activity(store, write_activity(tmp_path, WITH_BENEFIT), CONFIGS)
    import_apps(store, tmp_path, [app_row(), app_row(**{"商品ID": "P5"})])
    activities.review(store, "T1", CONFIGS, dry_run=False)
    assert outcome(store, "P1") == ("rejected", ["等级L4没有活动要求的权益达人优选"])
    assert outcome(store, "P5") == ("passed", [])


def test_a_benefit_no_level_grants_is_refused(store, tmp_path):
    setup_products(store, {"P1": "L4"})
    text = WITH_BENEFIT.replace("达人优选", "免单")
    activities.create_activity(store, write_activity(tmp_path, text), CONFIGS)
    import_apps(store, tmp_path, [app_row()])
    with pytest.raises(UsageError, match="no level grants the 权益 免单"):
        activities.review(store, "T1", CONFIGS, dry_run=True)


def test_a_benefit_rule_that_is_not_a_name_is_reported_with_its_line(store, tmp_path):
    book = activities.load_rule_book(CONFIGS)
    path = write_activity(tmp_path, WITH_BENEFIT.replace("达人优选", "[1, 2]"))
    with pytest.raises(ConfigError) as raised:
        activities.load_activity_file(path, book)
    assert any("act.yaml:11 rules.required_benefit" in p for p in raised.value.problems)


# --- the planner's preference ----------------------------------------------------------------


def session_yaml(tmp_path: Path, prefer: str) -> Path:
    """A config folder whose session.yaml is the packaged one with this prefer_benefit."""
    folder = tmp_path / "configs"
    folder.mkdir(exist_ok=True)
    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    start = text.index("prefer_benefit:")
    end = text.index("\n\n", start)
    (folder / "session.yaml").write_text(text[:start] + prefer + text[end:], encoding="utf-8")
    return folder


def test_the_preference_is_off_in_the_packaged_config_and_read_when_set(tmp_path):
    assert load_rules(packaged_path("configs")).prefer is None
    folder = session_yaml(tmp_path, "prefer_benefit:\n  benefit: 达人优选\n  weight: 0.05")
    prefer = load_rules(folder).prefer
    assert prefer is not None and prefer.weight_ppm == 50_000 and prefer.levels == ("L5",)
    assert load_rules(folder).fingerprint != load_rules(packaged_path("configs")).fingerprint


@pytest.mark.parametrize(
    ("prefer", "where"),
    [
        ("prefer_benefit:\n  weight: 2", "prefer_benefit.weight"),
        ("prefer_benefit:\n  benefit: 免单\n  weight: 0.1", "no level grants the 权益 免单"),
        ("prefer_benefit:\n  colour: red", "prefer_benefit.colour"),
    ],
)
def test_a_bad_preference_is_reported_with_its_line(tmp_path, prefer, where):
    with pytest.raises(ConfigError) as raised:
        load_rules(session_yaml(tmp_path, prefer))
    assert any("session.yaml:" in p and where in p for p in raised.value.problems), raised.value


def test_the_planner_takes_the_preferred_product_within_its_weight(tmp_path):
    from haowu_cli.planner import _eligible
    from haowu_cli.planner.brief import resolve_brief
    from haowu_cli.planner.model import prune, solve

    base = {
        "session": 0,
        "merchant_id": "M1",
        "category_l1": "美妆",
        "role": "利润款",
        "minutes": 10,
        "pinned": False,
        "expected_units": 10,
        "stock": 100,
        "expected_gmv_fen": 10_000,
        "eligible": True,
    }
    # The L4 product is worth 3% more than the L5 one; a session has room for one.
    candidates = pl.DataFrame(
        [
            base | {"product_id": "P4", "level": "L4", "value": 10_300},
            base | {"product_id": "P5", "level": "L5", "value": 10_000},
        ]
    )
    brief = resolve_brief(
        load_rules(packaged_path("configs")),
        None,
        {"anchor": "A1", "date": dt.date(2026, 12, 1), "products": {"min": 1, "max": 1}},
    )

    def chosen(prefer: str) -> list[str]:
        rules = dataclasses.replace(
            load_rules(session_yaml(tmp_path, prefer)),
            sequence=dataclasses.replace(
                load_rules(packaged_path("configs")).sequence,
                open_with_deal=False,
                close_with_deal=False,
            ),
        )
        pool = prune(_eligible(candidates, rules), brief, rules)
        solution, _rows, _slack = solve(pool, brief, rules, time_limit=5)
        assert solution is not None
        return solution.chosen["product_id"].to_list()

    assert chosen("prefer_benefit:\n  weight: 0") == ["P4"]
    assert chosen("prefer_benefit:\n  weight: 0.05") == ["P5"]  # 10,000 × 1.05 > 10,300
    assert chosen("prefer_benefit:\n  weight: 0.02") == ["P4"]  # 10,200 < 10,300
    weighted = _eligible(
        candidates, load_rules(session_yaml(tmp_path, "prefer_benefit:\n  weight: 0.05"))
    )
    assert weighted["value"].to_list() == [10_300, 10_500]
    assert Decimal(10_500) == Decimal(10_000) * Decimal("1.05")
