"""A brief's categories at any level: quotas (`categories: {护肤: {max: 1}}`) and whitelists
(`categories: [面霜]`) may name a category_l1, l2 or l3, or an `A>B>C` path; keys that overlap
are refused, naming a product in both."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from haowu_cli.errors import HaowuError
from haowu_cli.planner.brief import Brief, resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from tests.test_brand_session import ANCHOR, RULES, _plan, products

BASE = {
    "anchor": "A1",
    "date": dt.date(2026, 12, 5),
    "products": {"min": 0, "max": 6},
    "max_per_merchant": 10,
    "objective": "gmv",
}
NO_DEALS = {"open_with_deal": False, "close_with_deal": False, "deal_every": 0}


def _brief(**overrides: object) -> Brief:
    return dataclasses.replace(resolve_brief(RULES, None, BASE | overrides), sequence=NO_DEALS)


# Six products at the anchor's ticket (no deals): 美妆>护肤>面霜 ×2, 美妆>护肤>精华 ×2 and
# 美妆>彩妆>口红 ×2, the better sellers last.
ROWS = products(
    [
        {"category_l2": l2, "category_l3": l3, "live_price_fen": 10_000, "sales_strength": s}
        for l2, l3, s in (
            ("护肤", "面霜", 0.1),
            ("护肤", "面霜", 0.2),
            ("护肤", "精华", 0.3),
            ("护肤", "精华", 0.4),
            ("彩妆", "口红", 0.5),
            ("彩妆", "口红", 0.6),
        )
    ]
)


def _chosen(categories: object) -> list[str]:
    solution, problems = _plan(_brief(categories=categories), ROWS)
    assert solution is not None, problems
    return sorted(solution.chosen["product_id"].to_list())


def test_without_bounds_the_plan_takes_every_product():
    assert _chosen({}) == ["P0", "P1", "P2", "P3", "P4", "P5"]


@pytest.mark.parametrize(
    ("categories", "chosen"),
    [
        ({"护肤": {"max": 1}}, ["P3", "P4", "P5"]),  # a category_l2
        ({"精华": {"max": 0}, "口红": {"max": 1}}, ["P0", "P1", "P5"]),  # category_l3s
        ({"美妆>彩妆": {"max": 0}}, ["P0", "P1", "P2", "P3"]),  # a path to the second level
        ({"美妆 ＞ 护肤 ＞ 面霜": {"max": 1}}, ["P1", "P2", "P3", "P4", "P5"]),  # full path
        ({"美妆": {"max": 2}}, ["P4", "P5"]),  # category_l1, as before
    ],
)
def test_a_quota_bounds_the_category_at_its_level(categories: dict, chosen: list[str]):
    assert _chosen(categories) == chosen


def test_a_minimum_at_the_third_level_takes_the_weaker_products_it_needs():
    brief = _brief(products={"min": 0, "max": 3}, categories={"面霜": {"min": 2}})
    solution, problems = _plan(brief, ROWS)
    assert solution is not None, problems
    assert sorted(solution.chosen["product_id"].to_list()) == ["P0", "P1", "P5"]


def test_a_minimum_no_product_can_meet_is_explained_in_the_briefs_words():
    solution, problems = _plan(_brief(categories={"美妆>护肤>面霜": {"min": 3}}), ROWS)
    assert solution is None
    assert any("categories.美妆>护肤>面霜.min = 3, but only 2 " in p for p in problems), problems


def test_a_whitelist_takes_any_level_and_paths():
    for categories, eligible in (
        (["口红"], [False, False, False, False, True, True]),
        (["美妆>护肤>精华", "面霜"], [True, True, True, True, False, False]),
        (["美妆>彩妆"], [False, False, False, False, True, True]),
        (["彩妆>口红"], [False] * 6),  # a path starts at the first level
    ):
        session = resolve_brief(RULES, None, BASE | {"categories": categories}).sessions[0]
        frame = candidate_frame(ROWS, ANCHOR, session, RULES)
        assert frame["eligible"].to_list() == eligible, categories


def test_overlapping_quotas_are_refused_naming_a_product_in_both():
    session = resolve_brief(
        RULES, None, BASE | {"categories": {"美妆": {"max": 4}, "面霜": {"min": 1}}}
    ).sessions[0]
    with pytest.raises(HaowuError) as raised:
        candidate_frame(ROWS, ANCHOR, session, RULES)
    assert "categories 美妆 and 面霜 overlap: product P0 is in both" in str(raised.value)


def test_every_product_counts_towards_the_key_it_is_in():
    session = resolve_brief(
        RULES, None, BASE | {"categories": {"面霜": {"max": 1}, "美妆>彩妆": {"min": 1}}}
    ).sessions[0]
    frame = candidate_frame(ROWS, ANCHOR, session, RULES)
    assert frame["category_key"].to_list() == [
        "面霜",
        "面霜",
        None,
        None,
        "美妆>彩妆",
        "美妆>彩妆",
    ]
    assert frame.schema["category_key"] == pl.String
