"""`haowu match anchors`' core on small hand-checked data: the sessions the planner's model
fills, the fit factors and their reasons, the ranking and its ties, the goal's allocation with
shared stock, and match.yaml's checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, HaowuError
from haowu_cli.planner.anchors import (
    AnchorModel,
    Audience,
    age_band_key,
    load_anchor_model,
    rank_anchors,
    yuan_to_fen,
)
from haowu_cli.planner.brief import resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from haowu_cli.planner.rules import RoleRule, SalesModel, load_rules

PACKAGED = load_rules(packaged_path("configs"))
# One role of 10 minutes; strength 1 whatever the sales; affinity 1 in the anchor's
# categories, 0.5 outside; price fit 1 at any price: every number below can be worked by hand.
RULES = dataclasses.replace(
    PACKAGED,
    roles=(RoleRule("利润款", {}, 10),),
    sales=SalesModel(1_000_000, 1.0, 1.0, 1.0, 0.5, ((1.0, 1.0),)),
    service_fee_cut_ppm=0,
)
DAY = dt.date(2026, 12, 5)
MODEL = AnchorModel(
    weights={"category": 1, "price": 0, "female_share": 1, "age_band": 1, "history": 1},
    fit_weight=0.5,
    history_full_sessions=5,
    goal_max_sessions=30,
    audience={
        "美妆": Audience(0.8, ("25-34",)),
        "食品": Audience(0.6, ("18-24",)),
    },
)


def session(minutes: int = 20, rules=RULES):
    overrides = {"anchor": "-", "date": DAY, "minutes": minutes, "products": {"min": 0, "max": 40}}
    return resolve_brief(rules, None, overrides).sessions[0]


def products(*rows: dict) -> pl.DataFrame:
    base = {
        "merchant_id": "M1",
        "title": "t",
        "brand": "b",
        "category_l2": None,
        "category_l3": None,
        "commission_rate": Decimal("0.2"),
        "service_fee_rate": Decimal("0.05"),
        "stock": 1000,
        "sample": True,
        "mechanism": None,
        "level": "L3",
        "sales_strength": 0.5,
    }
    return pl.DataFrame(
        [base | row for row in rows],
        schema_overrides={
            "commission_rate": pl.Decimal(9, 6),
            "service_fee_rate": pl.Decimal(9, 6),
            "mechanism": pl.String,
            "level": pl.String,
            "category_l2": pl.String,
            "category_l3": pl.String,
        },
    )


# P1: ¥100 美妆 at 20% commission; P2: ¥50 食品 at 10%.
GOODS = products(
    {"product_id": "P1", "category_l1": "美妆", "live_price_fen": 10_000},
    {
        "product_id": "P2",
        "category_l1": "食品",
        "live_price_fen": 5_000,
        "commission_rate": Decimal("0.1"),
    },
)


def anchors(*rows: dict) -> pl.DataFrame:
    base = {
        "name": "n",
        "female_share": Decimal("0.8"),
        "age_band": "25-34",
        "avg_ticket_fen": 10_000,
        "gmv_per_hour_fen": 60_000,
        "categories": ["美妆"],
    }
    return pl.DataFrame(
        [base | row for row in rows],
        schema_overrides={
            "female_share": pl.Decimal(9, 6),
            "age_band": pl.String,
            "avg_ticket_fen": pl.Int64,
            "gmv_per_hour_fen": pl.Int64,
        },
    )


# A1 sells 美妆 at ¥600 an hour (¥10 a minute); A2 食品 at ¥1,200 an hour.
PEOPLE = anchors(
    {"anchor_id": "A1"},
    {
        "anchor_id": "A2",
        "female_share": Decimal("0.6"),
        "age_band": "18-24",
        "gmv_per_hour_fen": 120_000,
        "categories": ["食品"],
    },
)
HISTORY = pl.DataFrame(
    {"anchor_id": ["A1"], "sessions": [5], "orders": [40], "merchant_orders": [7]},
    schema_overrides={"sessions": pl.Int64, "orders": pl.Int64, "merchant_orders": pl.Int64},
)


def rank(goods=GOODS, people=PEOPLE, history=HISTORY, *, minutes=20, model=MODEL, goal=None):
    return rank_anchors(
        goods, people, history, session(minutes), RULES, model, on=DAY, goal_fen=goal
    )


def by_anchor(found) -> dict[str, dict]:
    return {row["anchor_id"]: row for row in found.anchors.to_dicts()}


def test_each_anchor_gets_the_session_the_planners_model_expects():
    rows = by_anchor(rank())
    # A1: P1 10 min × ¥10 × 1.0 = ¥100 → 1 unit; P2 10 × ¥10 × 0.5 = ¥50 → 1 unit.
    assert rows["A1"]["expected_gmv_fen"] == 15_000
    assert rows["A1"]["commission_fen"] == 2_000 + 500
    assert rows["A1"]["team_income_fen"] == 500 + 250
    # A2: P1 10 × ¥20 × 0.5 = ¥100 → 1 unit; P2 10 × ¥20 × 1.0 = ¥200 → 4 units.
    assert rows["A2"]["expected_gmv_fen"] == 30_000
    assert rows["A2"]["commission_fen"] == 2_000 + 2_000
    assert (rows["A2"]["session_products"], rows["A2"]["session_minutes"]) == (2, 20)


VARIED = products(
    *(
        {
            "product_id": f"V{i}",
            "category_l1": ["美妆", "食品", "酒水"][i % 3],
            "category_l2": [None, "护肤"][i % 2],
            "live_price_fen": 500 + 3_700 * i,
            "sales_strength": (i % 7) / 6,
            "stock": [3, 1000][i % 2],
            "commission_rate": Decimal("0.1") + Decimal(i % 5) / 20,
        }
        for i in range(30)
    )
)


@pytest.mark.parametrize(("rules", "goods"), [(RULES, GOODS), (PACKAGED, VARIED)])
def test_the_session_model_is_the_planners_own(rules, goods):
    """The same expected sales as the planner's candidate frame, product by product (with
    session.yaml's own roles, strength, affinity and price fit on varied products too)."""
    people = pl.concat(
        [
            PEOPLE,
            anchors(
                {"anchor_id": "A3", "avg_ticket_fen": None, "gmv_per_hour_fen": None},
                {"anchor_id": "A4", "avg_ticket_fen": 29_900, "categories": ["护肤", "酒水"]},
            ),
        ]
    )
    from haowu_cli.planner.anchors import _anchor_frame, _goods_frame, _pairs
    from haowu_cli.planner.candidates import eligibility_columns, money_columns

    frame = _goods_frame(eligibility_columns(goods, session(rules=rules)))
    pairs = money_columns(
        _pairs(frame, _anchor_frame(people), rules).join(
            frame.select("p_idx", "service_fee_ppm"), on="p_idx"
        ),
        rules,
    )
    for index, anchor in enumerate(people.sort("anchor_id").to_dicts()):
        planner = candidate_frame(goods, anchor, session(rules=rules), rules)
        planner = planner.filter(pl.col("eligible")).sort("product_id")
        mine = pairs.filter(pl.col("a_idx") == index).sort("p_idx")
        columns = ["minutes", "expected_units", "expected_gmv_fen", "commission_fen"]
        assert_frame_equal(mine.select(columns), planner.select(columns))


def test_a_short_session_takes_the_best_gmv_per_minute_first():
    rows = by_anchor(rank(minutes=10))
    assert rows["A1"]["expected_gmv_fen"] == 10_000  # P1 only
    assert rows["A2"]["expected_gmv_fen"] == 20_000  # P2 only
    assert rows["A2"]["session_products"] == 1


def test_the_fit_factors_and_their_reasons():
    rows = by_anchor(rank())
    a1, a2 = rows["A1"], rows["A2"]
    assert a1["categories_matched"] == ["美妆"] and a2["categories_matched"] == ["食品"]
    assert a1["category_score"] == a2["category_score"] == 0.5
    # Audience 80% women for P1, 60% for P2: A1 (80%) 1 and 0.8, A2 (60%) 0.8 and 1.
    assert a1["female_share_score"] == pytest.approx(0.9)
    assert a2["female_share_score"] == pytest.approx(0.9)
    assert a1["audience_female_share"] == pytest.approx(0.7)
    assert a1["audience_age_bands"] == ["18-24", "25-34"]
    assert a1["age_band_score"] == a2["age_band_score"] == 0.5
    assert (a1["history_sessions"], a1["history_orders"], a1["merchant_orders"]) == (5, 40, 7)
    assert (a1["history_score"], a2["history_score"]) == (1.0, 0.0)
    assert a1["price_score"] == 1.0  # flat price fit; weight 0 here
    assert a1["median_price_fen"] == 5_000 and a1["price_to_ticket"] == 0.5
    # Fit: mean of category, female share, age band, history (price weighs 0).
    assert a1["fit"] == pytest.approx((0.5 + 0.9 + 0.5 + 1.0) / 4)
    assert a2["fit"] == pytest.approx((0.5 + 0.9 + 0.5 + 0.0) / 4)


def test_rank_is_by_score_then_gmv_then_id():
    found = rank()
    assert found.anchors["anchor_id"].to_list() == ["A2", "A1"]  # ¥300 × 0.74 > ¥150 × 0.86
    # Rank by fit alone: A1's history wins.
    by_fit = rank(model=dataclasses.replace(MODEL, fit_weight=1.0, weights=MODEL.weights))
    scores = by_anchor(by_fit)
    assert scores["A1"]["score"] == pytest.approx(150 * 0.725)
    # Two anchors alike in everything but their ID: the smaller ID first.
    twins = anchors({"anchor_id": "B2"}, {"anchor_id": "B1"})
    assert rank(people=twins).anchors["anchor_id"].to_list() == ["B1", "B2"]


def test_the_fans_decide_between_anchors_that_sell_alike():
    model = dataclasses.replace(
        MODEL, weights={"category": 0, "price": 0, "female_share": 1, "age_band": 0, "history": 0}
    )
    people = anchors(
        {"anchor_id": "C1", "female_share": Decimal("0.2")},
        {"anchor_id": "C2", "female_share": Decimal("0.7")},
    )
    found = rank(people=people, model=model)
    assert found.anchors["anchor_id"].to_list() == ["C2", "C1"]
    assert found.anchors["expected_gmv_fen"].n_unique() == 1


def test_unknown_data_is_left_out_of_the_fit():
    people = anchors(
        {"anchor_id": "D1", "female_share": None, "age_band": None, "avg_ticket_fen": None}
    )
    model = dataclasses.replace(
        MODEL, weights={"category": 1, "price": 1, "female_share": 1, "age_band": 1, "history": 0}
    )
    row = rank(people=people, model=model, history=HISTORY.clear()).anchors.to_dicts()[0]
    assert row["price_score"] is None and row["price_to_ticket"] is None
    assert row["female_share_score"] is None and row["age_band_score"] is None
    assert row["fit"] == 0.5  # the category factor alone
    # No audience for the categories: the fan factors are unknown too.
    bare = dataclasses.replace(model, audience={})
    row = rank(people=anchors({"anchor_id": "D2"}), model=bare).anchors.to_dicts()[0]
    assert row["female_share_score"] is None and row["audience_female_share"] is None


def test_the_answer_does_not_depend_on_the_order_of_the_input():
    found = rank()
    shuffled = rank(goods=GOODS.reverse(), people=PEOPLE.reverse())
    assert_frame_equal(found.anchors, shuffled.anchors)


def test_a_goal_is_reached_in_rank_order_with_shared_stock():
    goods = GOODS.with_columns(pl.Series("stock", [1, 5]))
    found = rank(goods=goods, goal=35_000)
    goal = found.goal
    # A2 first: P1 1 unit and P2 4 units (¥300); A1 then finds P1 sold out and 1 P2 (¥50).
    assert [(s.anchor_id, s.expected_gmv_fen) for s in goal.sessions] == [
        ("A2", 30_000),
        ("A1", 5_000),
    ]
    assert goal.reachable and goal.stopped_by == "reached" and goal.shortfall_fen == 0
    assert goal.sessions[-1].cumulative_gmv_fen == 35_000


def test_an_unreachable_goal_says_why():
    goods = GOODS.with_columns(pl.Series("stock", [1, 5]))
    third = pl.concat([PEOPLE, anchors({"anchor_id": "A3"})])
    goal = rank(goods=goods, people=third, goal=40_000).goal
    assert not goal.reachable and goal.stopped_by == "stock"
    assert (goal.expected_gmv_fen, goal.shortfall_fen) == (35_000, 5_000)
    capped = rank(model=dataclasses.replace(MODEL, goal_max_sessions=1), goal=35_000).goal
    assert capped.stopped_by == "max_sessions" and len(capped.sessions) == 1
    # Past what one session of each anchor sells, the anchors come round again in rank
    # order, each repeat selling as its first did while the stock lasts.
    rounds = rank(model=dataclasses.replace(MODEL, goal_max_sessions=5), goal=10_000_000).goal
    assert [(s.anchor_id, s.expected_gmv_fen) for s in rounds.sessions] == [
        ("A2", 30_000),
        ("A1", 15_000),
        ("A2", 30_000),
        ("A1", 15_000),
        ("A2", 30_000),
    ]
    assert rounds.stopped_by == "max_sessions" and rounds.shortfall_fen == 10_000_000 - 120_000


def test_a_goal_the_anchors_cannot_sell_towards_stops_at_the_round_that_sells_nothing():
    # P1 (one in stock) sells out in the first session; P2 is priced so far above any
    # anchor's hourly GMV that no session expects to sell one: its stock is left, and the
    # second round, selling nothing, ends the search.
    goods = GOODS.with_columns(
        pl.Series("stock", [1, 1000]), pl.Series("live_price_fen", [10_000, 10**12])
    )
    goal = rank(goods=goods, goal=10_000_000).goal
    assert len(goal.sessions) == 1  # the first-ranked anchor sells P1 out
    assert goal.stopped_by == "anchors" and not goal.reachable


def test_no_eligible_product_is_an_error_naming_the_reasons():
    with pytest.raises(HaowuError, match="no product of merchant M1 is eligible"):
        rank(goods=GOODS.with_columns(pl.lit("L0").alias("level")))


def test_amounts_and_age_bands_as_people_write_them():
    assert yuan_to_fen("500万") == yuan_to_fen("¥5,000,000") == 500_000_000
    assert yuan_to_fen("１２.５元") == 1_250
    assert yuan_to_fen("0") is None and yuan_to_fen("abc") is None and yuan_to_fen("-3") is None
    assert age_band_key("２５～３４") == age_band_key("25 - 34") == "25-34"


def test_the_packaged_match_yaml_loads():
    model = load_anchor_model(packaged_path("configs"))
    assert sum(model.weights.values()) > 0 and "美妆" in model.audience


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("anchors:\n  weights: {category: -1}\n", "match.yaml:2 anchors.weights.category"),
        ("anchors:\n  weights: {colour: 1}\n", "match.yaml:2 anchors.weights.colour"),
        (
            "anchors:\n  weights: {category: 0, price: 0, female_share: 0, age_band: 0, "
            "history: 0}\n",
            "match.yaml:2 anchors.weights: at least one factor",
        ),
        ("anchors:\n  fit_weight: 2\n", "match.yaml:2 anchors.fit_weight"),
        ("anchors:\n  goal_max_sessions: 0\n", "match.yaml:2 anchors.goal_max_sessions"),
        ("audience:\n  美妆: {female_share: 1.5}\n", "match.yaml:2 audience.美妆.female_share"),
        ("audience:\n  美妆:\n    age_bands: 25-34\n", "match.yaml:3 audience.美妆.age_bands"),
        ("audience:\n  美妆: 0.8\n", "match.yaml:2 audience.美妆"),
        ("colour: 1\n", "match.yaml:1 colour"),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, text: str, where: str):
    (tmp_path / "match.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_anchor_model(tmp_path)
    assert any(where in problem for problem in raised.value.problems), raised.value.problems


def test_the_planner_counts_price_fit_1_for_an_anchor_without_an_average_ticket():
    """As its warning says (it used to take the curve's last point, 0.3 in session.yaml)."""
    rules = dataclasses.replace(PACKAGED, roles=(RoleRule("利润款", {}, 10),))
    one = session(rules=rules)
    at_par = {"anchor_id": "A", "avg_ticket_fen": 5_000, "gmv_per_hour_fen": 600_000}
    without = at_par | {"avg_ticket_fen": None}
    goods = GOODS.filter(pl.col("product_id") == "P2")  # ¥50: at par with a ¥50 ticket
    units = [
        candidate_frame(goods, anchor, one, rules)["expected_units"].item()
        for anchor in (at_par, without)
    ]
    assert units[0] == units[1] > 0


def _many_anchors(count: int) -> pl.DataFrame:
    """Varied anchors: tickets (none, 0 and many), GMV per hour (none, 0 and many) and
    categories (none, some of the goods', others)."""
    sets = [[], ["美妆"], ["食品", "护肤"], ["酒水"], ["服饰"], None]
    return anchors(
        *(
            {
                "anchor_id": f"X{i:03d}",
                "avg_ticket_fen": [None, 0, 990, 4_990, 29_900, 120_000][i % 6] or (i * 731),
                "gmv_per_hour_fen": [None, 0, 60_000, 2_000_000][i % 4],
                "categories": sets[i % len(sets)],
            }
            for i in range(count)
        )
    )


@pytest.mark.parametrize(("minutes", "most"), [(240, 40), (30, 40), (240, 3), (5, 40)])
def test_every_anchors_session_at_once_is_the_one_fill_gives(minutes, most):
    """The matrices of `anchor_sessions` give each anchor the session `_fill` gives it over
    `_pairs` (the planner's model, anchor by anchor), with session.yaml's own roles, strength,
    affinity and price fit, on varied goods and anchors, in small blocks too."""
    from haowu_cli.planner import anchor_sessions
    from haowu_cli.planner.anchors import _anchor_frame, _fill, _goods_frame, _pairs, _sessions
    from haowu_cli.planner.candidates import eligibility_columns

    brief = resolve_brief(
        PACKAGED,
        None,
        {"anchor": "-", "date": DAY, "minutes": minutes, "products": {"min": 0, "max": most}},
    ).sessions[0]
    # Twins of some products (another ID and commission rate) tie on GMV per minute: which
    # one a full session takes shows in its commission.
    twins = VARIED.head(12).with_columns(
        pl.concat_str(pl.lit("W"), "product_id").alias("product_id"),
        pl.lit(Decimal("0.33"), dtype=pl.Decimal(9, 6)).alias("commission_rate"),
    )
    both = pl.concat([VARIED, twins])
    goods = _goods_frame(eligibility_columns(both, brief).filter(pl.col("eligible")))
    people = _anchor_frame(pl.concat([PEOPLE, _many_anchors(60)], how="diagonal_relaxed"))
    expected = (
        _fill(_pairs(goods, people, PACKAGED), goods, brief, PACKAGED)
        .group_by("a_idx")
        .agg(
            pl.col("expected_gmv_fen").sum(),
            pl.col("commission_fen").sum(),
            pl.col("team_income_fen").sum(),
            pl.len().cast(pl.Int64).alias("session_products"),
            pl.col("minutes").sum().cast(pl.Int64).alias("session_minutes"),
        )
    )
    expected = people.select("a_idx").join(expected, on="a_idx", how="left").fill_null(0)
    assert expected["expected_gmv_fen"].sum() > 0
    for block in (anchor_sessions.BLOCK_CELLS, goods.height * 7):
        anchor_sessions.BLOCK_CELLS, saved = block, anchor_sessions.BLOCK_CELLS
        try:
            mine = _sessions(goods, people, brief, PACKAGED)
        finally:
            anchor_sessions.BLOCK_CELLS = saved
        assert_frame_equal(mine.sort("a_idx"), expected.sort("a_idx"), check_dtypes=False)


def test_a_brand_of_several_merchants_needs_one_named():
    from haowu_cli.planner.anchors import _one_merchant

    own = GOODS.with_columns(pl.Series("merchant_id", ["M1", "M2"]))
    with pytest.raises(HaowuError, match="brand b is sold by several merchants: M1, M2"):
        _one_merchant(own, None, "b")
    assert _one_merchant(own.head(1), None, "b") == "M1"
    assert _one_merchant(own, "M2", None) == "M2"
