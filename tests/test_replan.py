"""场控: re-planning the rest of a session (haowu_cli.planner.replan) — the rest's plan against
brute force, the sequencing rules after the presented products, the pace, the stored brief,
and orders as JSON lines."""

from __future__ import annotations

import dataclasses
import itertools
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli.errors import InputFileError
from haowu_cli.live import orders_files_from_json_lines
from haowu_cli.planner.replan import brief_from_json, observed_pace, plan_rest, rest_rules
from haowu_cli.planner.rules import ReplanSettings, SequenceRules
from haowu_cli.planner.run_sheet import _run_lengths, order_items, rule_breaks
from tests.test_planner import DEALS, _meets, brief, candidates, rules_with

FIXED_SCHEMA = {
    "product_id": pl.String,
    "merchant_id": pl.String,
    "category_l1": pl.String,
    "role": pl.String,
    "minutes": pl.Int64,
    "objective_fen": pl.Int64,
    "expected_units": pl.Int64,
    "stock": pl.Int64,
    "expected_gmv_fen": pl.Int64,
}


def fixed_items(rows: list[dict]) -> pl.DataFrame:
    """Presented products, in order, as a plan's items hold them."""
    return pl.DataFrame(
        schema=FIXED_SCHEMA,
        data=[
            {
                "product_id": f"F{i}",
                "merchant_id": f"N{i}",
                "category_l1": "美妆",
                "role": "利润款",
                "minutes": 5,
                "objective_fen": 100,
                "expected_units": 10,
                "stock": 100,
                "expected_gmv_fen": 1000,
            }
            | row
            for i, row in enumerate(rows)
        ],
    )


def brute_force_rest(
    fixed: pl.DataFrame, pool: pl.DataFrame, plan_brief, sequence: SequenceRules
) -> int | None:
    """The best objective of the rest over every subset of `pool` such that the whole night
    (the presented products and the subset) meets the brief, and the subset, ordered after
    the presented products, keeps the sequencing rules (checked by ordering it)."""
    session = plan_brief.sessions[0]
    rest = rest_rules(sequence, fixed["role"].to_list())
    presented = [r | {"value": r["objective_fen"], "pinned": True} for r in fixed.to_dicts()]
    rows = pool.to_dicts()
    every = presented + rows
    best = None
    for size in range(len(rows) + 1):
        for subset in itertools.combinations(rows, size):
            if not _meets(presented + list(subset), session, every):
                continue
            if subset:
                ordered = order_items(
                    pl.DataFrame(list(subset)), session, rest.order, lead=rest.lead
                )
                if rule_breaks(ordered, rest.order, lead=rest.lead):
                    continue
            elif sequence.close_with_deal or (
                sequence.deal_every and rest.lead > sequence.deal_every
            ):
                continue  # the night must still close on a deal
            # Opening and closing take two deals, never one product doing both (the
            # planner's rule: see test_planner's products.max = 1 case); the deals counted
            # are those from the last presented one on (`rest.settled`).
            counted = [r for r, done in zip(presented, rest.settled, strict=True) if not done]
            deals = sum(r["role"] in sequence.deal_roles for r in counted + list(subset))
            if deals < rest.model.deal_slots_needed:
                continue
            value = sum(r["value"] for r in subset)
            best = value if best is None else max(best, value)
    return best


ROLES = ["引流款", "引流款", "主推款", "利润款"]


@st.composite
def rest_instances(draw):
    n = draw(st.integers(2, 7))
    rows = [
        {
            "merchant_id": draw(st.sampled_from(["M1", "M2", "M3"])),
            "category_l1": draw(st.sampled_from(["美妆", "食品", "日百"])),
            "role": draw(st.sampled_from(ROLES)),
            "minutes": draw(st.integers(1, 10)),
            "value": draw(st.integers(0, 1000)),
            "expected_units": draw(st.integers(0, 50)),
        }
        for _ in range(n)
    ]
    presented = [
        {
            "merchant_id": draw(st.sampled_from(["M1", "M2", "N9"])),
            "category_l1": draw(st.sampled_from(["美妆", "食品"])),
            "role": draw(st.sampled_from(ROLES)),
            "minutes": draw(st.integers(1, 8)),
            "objective_fen": draw(st.integers(0, 1000)),
        }
        for _ in range(draw(st.integers(0, 4)))
    ]
    low = draw(st.integers(0, 5))
    overrides = {
        "products": {"min": low, "max": draw(st.integers(max(low, 1), 9))},
        "minutes": draw(st.integers(10, 60)),
        "max_per_merchant": draw(st.integers(1, 3)),
        "categories": {"美妆": {"min": draw(st.integers(0, 2)), "max": draw(st.integers(2, 5))}},
        "roles": {"主推款": {"min": draw(st.integers(0, 1))}},
    }
    sequence = SequenceRules(
        DEALS,
        draw(st.booleans()),
        draw(st.booleans()),
        draw(st.integers(0, 3)),
        ("主推款",),
        0,
        30,
    )
    old_rest = draw(st.sets(st.integers(0, n - 1), max_size=3))
    return fixed_items(presented), candidates(rows), overrides, sequence, old_rest


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rest_instances())
def test_the_rest_of_the_night_is_as_good_as_brute_force(instance):
    fixed, pool, overrides, sequence, old_rest = instance
    rules = rules_with(sequence)
    plan_brief = brief(rules, **overrides)
    expected = brute_force_rest(fixed, pool, plan_brief, sequence)
    found = plan_rest(
        fixed,
        pool,
        plan_brief,
        rules,
        old_rest=[f"P{i}" for i in old_rest],
        time_limit=10,
    )
    if expected is None:
        assert found.chosen is None and found.status == "infeasible" and found.problems
        return
    assert found.chosen is not None and found.status == "optimal"
    assert found.value_fen == expected
    assert found.bound_gap_fen == 0
    assert not set(found.chosen["product_id"]) & set(fixed["product_id"])
    rest = found.sequence
    ordered = order_items(found.chosen, plan_brief.sessions[0], rest.order, lead=rest.lead)
    assert rule_breaks(ordered, rest.order, lead=rest.lead) == []


def test_of_plans_worth_as_much_the_old_rest_is_kept():
    pool = candidates([{"value": 500}, {"value": 500}, {"value": 500}])
    plan_brief = brief(rules_with(), products={"min": 0, "max": 1}, minutes=60)
    for keep in ("P0", "P1", "P2"):
        found = plan_rest(
            fixed_items([]), pool, plan_brief, rules_with(), old_rest=[keep], time_limit=10
        )
        assert found.chosen is not None and found.chosen["product_id"].to_list() == [keep]
        assert found.value_fen == 500


def test_presented_products_count_for_the_whole_night():
    """Two 美妆 presented under a 美妆 maximum of 3 leave room for one more; a merchant with
    two presented under max_per_merchant 2 gets none."""
    fixed = fixed_items([{"merchant_id": "M9"}, {"merchant_id": "M9"}])
    pool = candidates(
        [
            {"merchant_id": "M9", "category_l1": "食品", "value": 900},
            {"category_l1": "美妆", "value": 300},
            {"category_l1": "美妆", "value": 200},
        ]
    )
    plan_brief = brief(
        rules_with(), minutes=60, max_per_merchant=2, categories={"美妆": {"max": 3}}
    )
    found = plan_rest(fixed, pool, plan_brief, rules_with(), old_rest=[], time_limit=10)
    assert found.chosen is not None
    assert found.chosen["product_id"].to_list() == ["P1"]


def test_a_rest_that_cannot_meet_the_brief_says_why():
    fixed = fixed_items([{}, {}, {}])
    plan_brief = brief(rules_with(), products={"min": 0, "max": 2}, minutes=60)
    found = plan_rest(fixed, candidates([{}]), plan_brief, rules_with(), old_rest=[], time_limit=10)
    assert found.chosen is None and found.status == "infeasible"
    assert any("products" in p for p in found.problems), found.problems


def test_the_rules_after_the_presented_products():
    rules = SequenceRules(DEALS, True, True, 3, ("主推款",), 0, 30)
    assert rest_rules(rules, []).model == rules  # nothing presented: the plan's own rules
    after = rest_rules(rules, ["引流款", "利润款", "引流款", "利润款", "主推款"])
    assert after.lead == 2 and after.settled == [True, True, False, False, False]
    assert after.model.open_with_deal and not after.order.open_with_deal
    assert after.model.deal_every == 3 and after.model.close_with_deal
    no_deal = rest_rules(dataclasses.replace(rules, open_with_deal=False), ["利润款", "利润款"])
    assert no_deal.lead == 2 and no_deal.settled == [False, False]
    assert not no_deal.model.open_with_deal
    # a presented run longer than deal_every counts as deal_every: the rest opens on a deal
    long = rest_rules(rules, ["引流款", "利润款", "利润款", "利润款", "利润款", "利润款"])
    assert long.lead == 3 and long.settled == [False, True, True, False, False, False]


def test_runs_after_a_lead_are_even_with_it():
    assert _run_lengths(5, 1) == [3, 2]
    assert _run_lengths(5, 1, lead=2) == [2, 3]  # 2 + 2 and 3
    assert _run_lengths(1, 2, lead=3) == [0, 1, 0]  # the lead is longest: the rest starts on a deal


def test_the_pace_blends_what_the_room_did_with_the_prior():
    items = pl.DataFrame(
        {
            "product_id": ["A", "B", "C"],
            "category_l1": ["美妆", "食品", "美妆"],
            "role": ["引流款", "主推款", "主推款"],
            "start_minute": [0, 10, 30],
            "minutes": [10, 20, 10],
            "expected_gmv_fen": [100_000, 200_000, 100_000],
        }
    )
    sold = pl.DataFrame({"product_id": ["A", "B"], "gmv_fen": [300_000, 100_000]})
    settings = ReplanSettings(prior_gmv_fen=100_000, category_weight=0.5)
    # At minute 20: A's slot is over (100,000 expected), B half way (100,000); C not begun.
    pace = observed_pace(items, sold, 20.0, settings)
    room = (400_000 + 100_000) / (200_000 + 100_000)
    assert pace.room == pytest.approx(room)
    assert pace.categories["美妆"] == pytest.approx((300_000 + 100_000 * room) / 200_000)
    assert pace.roles["主推款"] == pytest.approx((100_000 + 100_000 * room) / 200_000)
    assert set(pace.categories) == {"美妆", "食品"}  # C is not presented yet
    multiplier = pl.DataFrame({"category_l1": ["美妆", "日百"], "role": ["主推款", "利润款"]})
    got = multiplier.select(pace.multiplier(settings)).to_series().to_list()
    expected = 0.5 * pace.categories["美妆"] + 0.5 * pace.roles["主推款"]
    assert got == pytest.approx([expected, room])  # a group not presented takes the room's
    # Nothing presented yet: the prior holds
    assert observed_pace(items, sold.clear(), -5.0, settings).room == 1.0


def test_the_stored_brief_comes_back_as_it_was():
    rules = rules_with()
    original = brief(
        rules,
        categories={"美妆": {"min": 1, "max": 4}},
        roles={"主推款": {"min": 1}},
        pinned=["P1"],
        exclude_merchants=["M9"],
    )
    again = brief_from_json(json.loads(json.dumps(original.as_json())))
    assert again == original


def test_orders_as_json_lines_become_one_orders_file(tmp_path: Path):
    lines = [
        json.dumps({"order_id": "J1", "product_id": "P1", "paid_amount": "9.90"}),
        "",
        json.dumps({"order_id": "J2", "product_id": "P2", "quantity": 2, "paid_amount": 19.8}),
    ]
    [path] = orders_files_from_json_lines(lines, tmp_path)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == ["order_id", "product_id", "paid_amount", "quantity"]
    assert frame.rows() == [("J1", "P1", "9.90", None), ("J2", "P2", "19.8", "2")]
    assert orders_files_from_json_lines(["", " "], tmp_path / "none") == []
    [timed] = orders_files_from_json_lines(
        [json.dumps({"order_id": "J3", "paid_at": "2026-12-01 20:00:30"})], tmp_path
    )
    assert pl.read_csv(timed, infer_schema=False).row(0) == (
        "J3",
        "2026-12-01 20:00:30",
        "2026-12-01 20:00:30",
    )
    with pytest.raises(InputFileError, match="stdin line 2"):
        orders_files_from_json_lines([lines[0], "{oops"], tmp_path)
    with pytest.raises(InputFileError, match="stdin line 1: expected an order"):
        orders_files_from_json_lines(["42"], tmp_path)


def test_open_platform_lines_go_apart_as_the_platform_file(tmp_path: Path):
    """An API response, one order with its item list, and a flat order with the source's
    keys are the platform's JSON lines; an order of haowu's columns goes to the CSV."""
    envelope = {"result": 1, "data": {"orderView": [{"oid": 1, "cpsOrderStatus": 30}]}}
    order = {"oid": 2, "cpsOrderStatus": 30, "cpsOrderProductView": [{"itemId": 7}]}
    flat = {"oid": 3, "cpsOrderStatus": 30}
    own = {"order_id": "J1", "product_id": "P1"}
    lines = [json.dumps(x) for x in (own, envelope, order, flat)]
    csv, jsonl = orders_files_from_json_lines(lines, tmp_path, [("oid", "cpsOrderStatus")])
    assert csv.name == "stdin.csv" and jsonl.name == "stdin.jsonl"
    assert [json.loads(x) for x in jsonl.read_text().splitlines()] == [envelope, order, flat]
    assert pl.read_csv(csv, infer_schema=False).rows() == [("J1", "P1")]


def test_a_replan_before_the_start_keeps_nothing_and_plans_the_whole_night():
    fixed = fixed_items([])
    pool = candidates([{"role": "引流款", "value": 10}, {"value": 50}, {"role": "引流款"}])
    sequence = SequenceRules(DEALS, True, True, 1, (), 0, 0)
    found = plan_rest(
        fixed,
        pool,
        brief(rules_with(sequence), minutes=60),
        rules_with(sequence),
        old_rest=[],
        time_limit=10,
    )
    assert found.chosen is not None and found.sequence.model == sequence
    assert found.value_fen == 160
    ordered = order_items(found.chosen, brief(rules_with(sequence)).sessions[0], sequence)
    assert ordered["role"].to_list() == ["引流款", "利润款", "引流款"]  # open, the other, close


def test_the_replan_settings_are_checked_with_their_line(tmp_path: Path):
    from haowu_cli.config import packaged_path
    from haowu_cli.errors import ConfigError
    from haowu_cli.planner.rules import load_rules

    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    packaged = load_rules(packaged_path("configs"))
    assert packaged.replan == ReplanSettings(500_000, 0.5, 0.2, 5.0)
    (tmp_path / "session.yaml").write_text(
        text.replace("prior_gmv: 5000 ", "prior_gmv: 800.5"), encoding="utf-8"
    )
    changed = load_rules(tmp_path)
    assert changed.replan.prior_gmv_fen == 80_050
    assert changed.fingerprint == packaged.fingerprint  # replanning changes no first plan
    lines = text.splitlines()
    weight = next(i for i, x in enumerate(lines, 1) if x.startswith("  category_weight:"))
    pace = next(i for i, x in enumerate(lines, 1) if x.startswith("  pace: {min"))
    (tmp_path / "session.yaml").write_text(
        text.replace("category_weight: 0.5", "category_weight: 2").replace(
            "pace: {min: 0.2, max: 5}", "pace: {min: 3, max: 5}"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_rules(tmp_path)
    message = str(caught.value)
    assert f"session.yaml:{weight} replan.category_weight" in message
    assert f"session.yaml:{pace} replan.pace.min" in message
