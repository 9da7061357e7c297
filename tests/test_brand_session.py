"""Brand 专场 and 混场 briefs: include-only merchants, brands and categories, a sales target
(min_expected_gmv) and the brief's own sequence rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError
from haowu_cli.planner.brief import brief_rules, resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from haowu_cli.planner.explain import obvious_problems
from haowu_cli.planner.model import solve
from haowu_cli.planner.rules import load_rules

RULES = load_rules(packaged_path("configs"))
ANCHOR = {"anchor_id": "A1", "avg_ticket_fen": 10000, "gmv_per_hour_fen": 6_000_000}


def write(tmp_path, text: str):
    path = tmp_path / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def products(rows: list[dict]) -> pl.DataFrame:
    base = {
        "merchant_id": "M1",
        "title": "t",
        "brand": "花漾",
        "category_l1": "美妆",
        "category_l2": "护肤",
        "category_l3": None,
        "live_price_fen": 5000,
        "commission_rate": Decimal("0.2"),
        "service_fee_rate": Decimal("0.05"),
        "stock": 1000,
        "sample": True,
        "mechanism": None,
        "level": "L3",
        "sales_strength": 0.5,
    }
    frame = [base | {"product_id": f"P{i}"} | row for i, row in enumerate(rows)]
    return pl.DataFrame(
        frame,
        schema_overrides={
            "commission_rate": pl.Decimal(9, 6),
            "service_fee_rate": pl.Decimal(9, 6),
            "mechanism": pl.String,
            "category_l3": pl.String,
            "level": pl.String,
            "brand": pl.String,
        },
    )


def test_the_whitelist_keys_are_read_in_english_and_chinese(tmp_path):
    text = (
        "达人: A1\n日期: 2026-12-05\n商家: [M1, M2]\n品牌: [花漾]\ncategories: [美妆, 食品]\n"
        "最低预期GMV: 5万\nsequence: {open_with_deal: false, deal_every: 0}\n"
    )
    brief = resolve_brief(RULES, write(tmp_path, text), {})
    [session] = brief.sessions
    assert session.merchants == ("M1", "M2") and session.brands == ("花漾",)
    assert session.only_categories == ("美妆", "食品") and session.categories == {}
    assert session.min_expected_gmv_fen == 5_000_000
    assert brief.sequence == {"open_with_deal": False, "deal_every": 0}
    sequence = brief_rules(RULES, brief).sequence
    assert sequence.open_with_deal is False and sequence.deal_every == 0
    assert sequence.close_with_deal is RULES.sequence.close_with_deal  # not overridden


def test_bad_whitelist_and_sequence_values_are_reported_with_their_line(tmp_path):
    text = (
        "anchor: A1\ndate: 2026-12-05\nmerchants: [true]\nmin_expected_gmv: lots\n"
        "sequence: {open_with_deal: 1, deal_every: -2, peak: 3}\n"
    )
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, write(tmp_path, text), {})
    text = "\n".join(caught.value.problems)
    assert "brief.yaml:3 merchants: True is not an ID" in text
    assert "brief.yaml:4 min_expected_gmv: expected an amount in yuan" in text
    assert "brief.yaml:5 sequence.open_with_deal: expected true or false, got 1" in text
    assert "brief.yaml:5 sequence.deal_every: expected a whole number" in text
    assert "brief.yaml:5 sequence.peak: unknown key 'peak'" in text


def test_only_the_whitelisted_merchants_brands_and_categories_are_eligible():
    base = {"anchor": "A1", "date": dt.date(2026, 12, 5), "products": {"min": 0}}
    rows = products(
        [
            {},
            {"merchant_id": "M2", "brand": "其他"},
            {"category_l1": "食品", "category_l2": "零食"},
            {"brand": None, "category_l3": "面霜"},
        ]
    )
    for key, value, eligible in (
        ("merchants", ["M1"], [True, False, True, True]),
        ("brands", ["花漾"], [True, False, True, False]),
        ("categories", ["护肤"], [True, True, False, True]),  # category_l2 counts too
        ("categories", ["面霜", "零食"], [False, False, True, True]),  # and category_l3
    ):
        session = resolve_brief(RULES, None, base | {key: value}).sessions[0]
        frame = candidate_frame(rows, ANCHOR, session, RULES)
        assert frame["eligible"].to_list() == eligible, key
    session = resolve_brief(RULES, None, base | {"merchants": ["M1"]}).sessions[0]
    reasons = candidate_frame(rows, ANCHOR, session, RULES)["reason"].to_list()
    assert reasons[1] == "merchant M2 is not among the brief's merchants"


def _plan(brief, rows):
    rules = brief_rules(RULES, brief)
    frame = candidate_frame(rows, ANCHOR, brief.sessions[0], rules)
    frame = frame.with_columns(
        pl.lit(0, dtype=pl.Int64).alias("session"),
        pl.col("expected_gmv_fen").alias("value"),
        pl.lit(False).alias("pinned"),
    )
    problems = obvious_problems(frame, brief, rules, [ANCHOR])
    if problems:
        return None, problems
    pool = frame.filter(pl.col("eligible")).with_row_index("_row")
    solution, _rows, _slack = solve(pool, brief, rules, time_limit=10)
    return solution, []


def test_a_single_brand_session_without_deals_plans_only_with_the_sequence_override():
    # Every product is priced at the anchor's ticket: none is a deal (引流款).
    rows = products([{"live_price_fen": 10000 + i} for i in range(6)])
    base = {"anchor": "A1", "date": dt.date(2026, 12, 5), "products": {"min": 3, "max": 6}}
    base |= {"merchants": ["M1"], "max_per_merchant": 6, "objective": "gmv"}
    solution, problems = _plan(resolve_brief(RULES, None, base), rows)
    assert solution is None and "opens and closes with a deal" in problems[0]
    assert "sequence: {open_with_deal: false, close_with_deal: false}" in problems[0]
    override = dataclasses.replace(
        resolve_brief(RULES, None, base),
        sequence={"open_with_deal": False, "close_with_deal": False, "deal_every": 0},
    )
    solution, problems = _plan(override, rows)
    assert problems == [] and solution is not None and solution.chosen.height == 6


def test_a_sales_target_is_met_or_explained_in_the_briefs_words():
    rows = products([{"live_price_fen": 10000 + i} for i in range(4)])
    base = {"anchor": "A1", "date": dt.date(2026, 12, 5), "products": {"min": 0, "max": 4}}
    base |= {"max_per_merchant": 4, "objective": "commission"}
    no_deals = {"open_with_deal": False, "close_with_deal": False, "deal_every": 0}
    total = int(
        candidate_frame(rows, ANCHOR, resolve_brief(RULES, None, base).sessions[0], RULES)[
            "expected_gmv_fen"
        ].sum()
    )
    reachable = resolve_brief(RULES, None, base | {"min_expected_gmv": total / 100})
    solution, problems = _plan(dataclasses.replace(reachable, sequence=no_deals), rows)
    assert problems == [] and int(solution.chosen["expected_gmv_fen"].sum()) >= total
    too_much = resolve_brief(RULES, None, base | {"min_expected_gmv": total / 100 + 1})
    solution, problems = _plan(dataclasses.replace(too_much, sequence=no_deals), rows)
    assert solution is None
    assert problems[0].startswith(f"min_expected_gmv = ¥{total / 100 + 1:,.2f}, but the 4")
