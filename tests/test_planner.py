"""The session planner's core: candidates, the MILP against brute force, pruning, the run
sheet's order, infeasibility explanations, several sessions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli.config import packaged_path
from haowu_cli.planner.brief import Brief, resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from haowu_cli.planner.explain import obvious_problems, relaxation_problems
from haowu_cli.planner.model import prune, solve
from haowu_cli.planner.rules import SequenceRules, load_rules
from haowu_cli.planner.run_sheet import order_items, rule_breaks

RULES = load_rules(packaged_path("configs"))
NO_SEQUENCE = SequenceRules((), False, False, 0, (), 0, 0)
DEALS = ("引流款",)


def rules_with(sequence: SequenceRules = NO_SEQUENCE):
    return dataclasses.replace(RULES, sequence=sequence)


def brief(rules=RULES, **overrides):
    products = {"min": 0, "max": 40} | overrides.pop("products", {})
    base = {"anchor": "A1", "date": dt.date(2026, 12, 1), "products": products}
    return resolve_brief(rules, None, base | overrides)


def candidates(rows: list[dict], session: int = 0) -> pl.DataFrame:
    """Candidate rows as the model reads them; keys left out take plain values."""
    filled = [
        {
            "session": session,
            "product_id": f"P{i}",
            "merchant_id": f"M{i}",
            "category_l1": "美妆",
            "role": "利润款",
            "minutes": 5,
            "expected_units": 10,
            "stock": 100,
            "value": 100,
            "pinned": False,
            "eligible": True,
            "reason": None,
        }
        | row
        for i, row in enumerate(rows)
    ]
    return pl.DataFrame(filled, schema_overrides={"reason": pl.String})


def chosen_ids(solution) -> set[str]:
    return set(solution.chosen["product_id"])


# --- candidates: eligibility, roles, minutes, expected sales --------------------------------


def products(rows: list[dict]) -> pl.DataFrame:
    base = {
        "merchant_id": "M1",
        "title": "t",
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
        },
    )


ANCHOR = {
    "anchor_id": "A1",
    "avg_ticket_fen": 10000,
    "gmv_per_hour_fen": 6_000_000,
    "categories": ["美妆"],
}


def test_each_filter_gives_its_reason():
    session = brief(
        min_level="L2",
        min_commission_rate="15%",
        require_sample=True,
        exclude_products=["P0"],
        exclude_merchants=["M9"],
    ).sessions[0]
    frame = candidate_frame(
        products(
            [
                {},
                {"merchant_id": "M9"},
                {"level": None},
                {"level": "L1"},
                {"commission_rate": Decimal("0.12")},
                {"sample": False},
                {"live_price_fen": 0},
                {"stock": 0},
                {},
            ]
        ),
        ANCHOR,
        session,
        RULES,
    )
    assert frame["reason"].to_list() == [
        "excluded by exclude_products",
        "merchant M9 excluded by exclude_merchants",
        "not graded yet (run haowu grade)",
        "level L1 is below min_level L2",
        "commission 12% is below min_commission_rate 15%",
        "no sample (require_sample)",
        "no live price",
        "out of stock",
        None,
    ]
    assert frame["eligible"].to_list() == [False] * 8 + [True]


def test_roles_and_minutes_follow_the_rules_in_order():
    # The anchor's average ticket is ¥100: ≤ ¥40 is a deal, ≥ ¥300 an image item, strong
    # sellers heroes, the rest margin items (configs/session.yaml).
    frame = candidate_frame(
        products(
            [
                {"live_price_fen": 3990, "sales_strength": 1.0},
                {"live_price_fen": 30000},
                {"live_price_fen": 8000, "sales_strength": 0.7},
                {"live_price_fen": 8000, "sales_strength": 0.69},
            ]
        ),
        ANCHOR,
        brief().sessions[0],
        RULES,
    )
    assert frame["role"].to_list() == ["引流款", "形象款", "主推款", "利润款"]
    assert frame["minutes"].to_list() == [3, 8, 10, 6]


def test_an_anchor_without_average_ticket_gets_no_price_roles():
    anchor = ANCHOR | {"avg_ticket_fen": None}
    frame = candidate_frame(products([{"live_price_fen": 990}]), anchor, brief().sessions[0], RULES)
    assert frame["role"].to_list() == ["利润款"]


def test_expected_sales_follow_the_model_and_money_is_exact():
    # ¥60,000 an hour × 6 min / 60 × strength (0.5 + 1 × 0.5) × affinity 1.2 (美妆 is the
    # anchor's) × price fit 1.0 (price = ticket) = ¥7,200 → 72 units of ¥100.
    frame = candidate_frame(
        products(
            [
                {"live_price_fen": 10000, "commission_rate": Decimal("0.123456")},
                {"live_price_fen": 10000, "category_l1": "食品", "category_l2": "零食"},
                {"live_price_fen": 10000, "stock": 30},
            ]
        ),
        ANCHOR,
        brief().sessions[0],
        RULES,
    )
    assert frame["expected_units"].to_list() == [72, 36, 30]  # other category: × 0.6; stock
    assert frame["expected_gmv_fen"].to_list() == [720000, 360000, 300000]
    # 720000 × 0.123456 = 88888.32 → 88888; 720000 × 0.05 × 0.9 = 32400
    assert frame["commission_fen"][0] == 88888
    assert frame["team_income_fen"].to_list() == [32400, 16200, 13500]


def test_an_anchor_selling_a_third_level_category_has_its_affinity():
    anchor = ANCHOR | {"categories": ["坚果"]}
    rows = [
        {"live_price_fen": 10000, "category_l1": "食品", "category_l2": "零食", "category_l3": c}
        for c in ("坚果", "辣条")
    ]
    frame = candidate_frame(products(rows), anchor, brief().sessions[0], RULES)
    assert frame["expected_units"].to_list() == [72, 36]  # affinity 1.2 against 0.6


def test_commission_rounds_half_up_to_the_fen():
    frame = candidate_frame(
        products([{"live_price_fen": 1001, "stock": 1, "commission_rate": Decimal("0.5")}]),
        ANCHOR,
        brief().sessions[0],
        RULES,
    )
    assert frame["expected_gmv_fen"][0] == 1001
    assert frame["commission_fen"][0] == 501  # 500.5 fen


# --- the MILP against brute force -------------------------------------------------------------


def brute_force(frame: pl.DataFrame, plan_brief, rules) -> int | None:
    """The best objective over every subset that meets the brief and can be ordered by the
    sequencing rules (checked by ordering it), or None when none can."""
    session = plan_brief.sessions[0]
    rows = frame.to_dicts()
    best = None
    for size in range(len(rows) + 1):
        for subset in itertools.combinations(rows, size):
            if not _meets(subset, session, rows):
                continue
            if subset:
                ordered = order_items(pl.DataFrame(list(subset)), session, rules.sequence)
                if rule_breaks(ordered, rules.sequence):
                    continue
            value = sum(r["value"] for r in subset)
            best = value if best is None else max(best, value)
    return best


def _meets(subset, session, rows) -> bool:
    count = len(subset)
    if session.products.min is not None and count < session.products.min:
        return False
    if session.products.max is not None and count > session.products.max:
        return False
    if sum(r["minutes"] for r in subset) > session.minutes:
        return False
    if not all(
        any(s["product_id"] == r["product_id"] for s in subset) for r in rows if r["pinned"]
    ):
        return False
    for key, bounds in (("category_l1", session.categories), ("role", session.roles)):
        for name, bound in bounds.items():
            n = sum(1 for r in subset if r[key] == name)
            if (bound.min is not None and n < bound.min) or (
                bound.max is not None and n > bound.max
            ):
                return False
    merchants = [r["merchant_id"] for r in subset]
    return all(merchants.count(m) <= session.max_per_merchant for m in merchants)


@st.composite
def instances(draw):
    n = draw(st.integers(3, 8))
    rows = [
        {
            "merchant_id": draw(st.sampled_from(["M1", "M2", "M3"])),
            "category_l1": draw(st.sampled_from(["美妆", "食品", "日百"])),
            "role": draw(st.sampled_from(["引流款", "引流款", "主推款", "利润款"])),
            "minutes": draw(st.integers(1, 10)),
            "value": draw(st.integers(0, 1000)),
            "expected_units": draw(st.integers(0, 50)),
        }
        for _ in range(n)
    ]
    pinned = draw(st.sets(st.integers(0, n - 1), max_size=1))
    for i in pinned:
        rows[i]["pinned"] = True
    low = draw(st.integers(2, 3))
    overrides = {
        "products": {"min": low, "max": draw(st.integers(low, 6))},
        "minutes": draw(st.integers(8, 50)),
        "max_per_merchant": draw(st.integers(1, 3)),
        "categories": {"美妆": {"min": draw(st.integers(0, 1)), "max": draw(st.integers(1, 4))}},
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
    return candidates(rows), overrides, sequence


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_the_plan_is_as_good_as_brute_force(instance):
    frame, overrides, sequence = instance
    rules = rules_with(sequence)
    plan_brief = brief(rules, **overrides)
    expected = brute_force(frame, plan_brief, rules)
    for pool in (frame, prune(frame, plan_brief, rules)):
        solution, _, _ = solve(pool, plan_brief, rules, time_limit=10)
        if expected is None:
            assert solution is None
        else:
            assert solution is not None and solution.status == "optimal"
            assert solution.objective_fen == expected
            ordered = order_items(solution.chosen, plan_brief.sessions[0], rules.sequence)
            assert rule_breaks(ordered, rules.sequence) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(1, 3), st.integers(0, 99)),
        min_size=10,
        max_size=60,
    ),
    st.integers(1, 6),
    st.integers(1, 3),
)
def test_pruning_keeps_the_optimum_and_drops_dominated_candidates(rows, most, cap):
    frame = candidates(
        [
            {
                "merchant_id": f"M{m}",
                "category_l1": ["美妆", "食品", "日百"][c],
                "minutes": minutes,
                "value": value,
            }
            for m, c, minutes, value in rows
        ]
    )
    plan_brief = brief(
        rules_with(),
        products={"min": 1, "max": most},
        max_per_merchant=cap,
        categories={"美妆": {"max": 2}},
        minutes=10,
    )
    rules = rules_with()
    pool = prune(frame, plan_brief, rules)
    full, _, _ = solve(frame, plan_brief, rules, time_limit=10)
    pruned, _, _ = solve(pool, plan_brief, rules, time_limit=10)
    assert (full is None) == (pruned is None)
    if full is not None:
        assert pruned.objective_fen == full.objective_fen
    # Nothing survives that `most` better, no longer candidates of other merchants beat.
    assert pool.height <= frame.height


def test_pruning_shrinks_a_large_pool():
    frame = candidates(
        [
            {"merchant_id": f"M{i % 50}", "value": (i * 7919) % 10_000, "minutes": 3 + i % 3}
            for i in range(5000)
        ]
    )
    plan_brief = brief(rules_with(), products={"min": 5, "max": 10})
    pool = prune(frame, plan_brief, rules_with())
    assert pool.height < 200
    full, _, _ = solve(frame, plan_brief, rules_with(), time_limit=30)
    pruned, _, _ = solve(pool, plan_brief, rules_with(), time_limit=30)
    assert pruned.objective_fen == full.objective_fen


def test_pinned_products_are_in_and_excluded_ones_never_are():
    frame = candidates([{"value": 1}, {"value": 500}, {"value": 400, "pinned": True}])
    plan_brief = brief(rules_with(), products={"max": 1}, pinned=["P2"])
    solution, _, _ = solve(frame, plan_brief, rules_with(), time_limit=10)
    assert chosen_ids(solution) == {"P2"}


def test_same_inputs_give_the_same_plan():
    frame = candidates([{"value": 100, "merchant_id": f"M{i % 3}"} for i in range(30)])
    plan_brief = brief(rules_with(), products={"min": 4, "max": 6}, max_per_merchant=2)
    first = solve(frame, plan_brief, rules_with(), time_limit=10)[0]
    again = solve(frame, plan_brief, rules_with(), time_limit=10)[0]
    assert first.chosen["product_id"].to_list() == again.chosen["product_id"].to_list()


# --- several sessions ------------------------------------------------------------------------


def two_sessions(rules, *, allow_repeat: bool = False, pinned: tuple = ()) -> Brief:
    one = brief(rules, products={"min": 1, "max": 2}).sessions[0]
    return Brief(
        sessions=(one, dataclasses.replace(one, anchor="A2")),
        objective="team_income",
        allow_repeat=allow_repeat,
        pinned=pinned,
    )


def test_a_product_appears_in_one_session_unless_repeats_are_allowed():
    rows = [{"product_id": "STAR", "value": 1000}, {"product_id": "B", "value": 10}]
    frame = pl.concat([candidates(rows, 0), candidates(rows, 1)])
    solution, _, _ = solve(frame, two_sessions(rules_with()), rules_with(), time_limit=10)
    assert solution.chosen.filter(pl.col("product_id") == "STAR").height == 1
    repeat = two_sessions(rules_with(), allow_repeat=True)
    solution, _, _ = solve(frame, repeat, rules_with(), time_limit=10)
    assert solution.chosen.filter(pl.col("product_id") == "STAR").height == 2


def test_stock_is_shared_between_sessions():
    # 80 expected units in each session, 100 in stock: both sessions would sell 160.
    rows = [
        {"product_id": "STAR", "value": 1000, "expected_units": 80, "stock": 100},
        {"product_id": "B", "value": 10},
    ]
    frame = pl.concat([candidates(rows, 0), candidates(rows, 1)])
    repeat = two_sessions(rules_with(), allow_repeat=True)
    solution, _, _ = solve(frame, repeat, rules_with(), time_limit=10)
    assert solution.chosen.filter(pl.col("product_id") == "STAR").height == 1
    assert solution.objective_fen == 1000 + 10 + 10  # B, with stock to spare, sells in both


def test_a_plan_level_pinned_product_lands_in_one_session():
    rows = [{"product_id": "MUST", "value": 0}, {"product_id": "B", "value": 10}]
    frame = pl.concat([candidates(rows, 0), candidates(rows, 1)])
    plan_brief = two_sessions(rules_with(), pinned=("MUST",))
    solution, _, _ = solve(frame, plan_brief, rules_with(), time_limit=10)
    assert solution.chosen.filter(pl.col("product_id") == "MUST").height == 1


# --- the run sheet's order -------------------------------------------------------------------


def test_run_sheet_opens_and_closes_on_deals_with_heroes_in_the_peak():
    sequence = SequenceRules(DEALS, True, True, 2, ("主推款",), 20, 60)
    rows = (
        [{"role": "引流款", "minutes": 3, "expected_units": 100 - i} for i in range(4)]
        + [{"role": "主推款", "minutes": 10, "value": 500 - i} for i in range(2)]
        + [{"role": "利润款", "minutes": 6, "value": 200 - i} for i in range(3)]
    )
    session = brief(start="23:30").sessions[0]
    ordered = order_items(candidates(rows), session, sequence)
    assert rule_breaks(ordered, sequence) == []
    assert ordered["product_id"][0] == "P0" and ordered["product_id"][-1] == "P1"  # strongest
    assert ordered["role"].to_list() == [
        "引流款",
        "利润款",
        "利润款",
        "引流款",
        "利润款",
        "主推款",
        "引流款",
        "主推款",
        "引流款",
    ]
    starts = ordered["start_minute"].to_list()
    assert starts == list(itertools.accumulate([0] + ordered["minutes"].to_list()[:-1]))
    heroes = ordered.filter(pl.col("role") == "主推款")
    assert all(20 <= m < 60 for m in heroes["start_minute"])
    assert heroes["note"].to_list() == ["高峰", "高峰"]
    assert ordered["note"][0] == "开场" and ordered["note"][-1] == "收尾"
    assert ordered["start"][0] == "23:30" and ordered["start"][-1] < "23:30"  # past midnight


def test_rule_breaks_finds_a_long_run_without_a_deal():
    sequence = SequenceRules(DEALS, True, False, 2, (), 0, 0)
    frame = candidates([{"role": "引流款"}] + [{"role": "利润款"}] * 3)
    assert rule_breaks(frame, sequence) == ["3 items without a deal up to position 4"]


# --- infeasibility ---------------------------------------------------------------------------


def test_a_category_minimum_too_high_is_explained_with_its_numbers():
    frame = candidates(
        [{"category_l1": "美妆"}] * 3
        + [{"category_l1": "美妆", "eligible": False, "reason": "x"}]
        + [{"category_l1": "食品"}] * 5
    )
    plan_brief = brief(
        rules_with(),
        categories={"美妆": {"min": 5}},
        min_level="L2",
        min_commission_rate=0.15,
    )
    problems = obvious_problems(frame, plan_brief, rules_with(), [ANCHOR])
    assert problems == [
        "categories.美妆.min = 5, but only 3 美妆 products pass min_level L2, "
        "min_commission_rate 15% and stock above zero"
    ]


def test_direct_checks_name_each_impossible_constraint():
    frame = candidates(
        [{"role": "引流款", "merchant_id": "M1", "minutes": 3}] * 2
        + [{"merchant_id": "M1", "pinned": True, "product_id": "PIN"}]
        + [{"product_id": "BAD", "eligible": False, "reason": "out of stock"}]
    )
    plan_brief = brief(
        rules_with(),
        products={"min": 3, "max": 4},
        max_per_merchant=2,
        roles={"主推款": {"min": 1}},
        categories={"食品": {"min": 1}},
        pinned=["PIN", "BAD", "NOPE"],
    )
    problems = obvious_problems(frame, plan_brief, rules_with(), [ANCHOR])
    assert "pinned BAD is not eligible: out of stock" in problems
    assert "pinned NOPE is not a product in the database" in problems
    assert (
        "products.min = 3, but the 1 merchant with eligible products give at most 2 at "
        "max_per_merchant 2" in problems
    )
    assert any(p.startswith("roles.主推款.min = 1, but only 0 eligible products") for p in problems)
    assert any(
        p.startswith("categories.食品.min = 1, but only 0 食品 products (no product")
        for p in problems
    )


def test_constraints_that_clash_only_together_are_named_by_the_relaxation():
    # 3 美妆 and 3 heroes fit each on their own, not both within 4 products: no hero is 美妆.
    frame = candidates(
        [{"category_l1": "美妆", "merchant_id": f"A{i}"} for i in range(3)]
        + [{"category_l1": "食品", "role": "主推款", "merchant_id": f"B{i}"} for i in range(3)]
    )
    plan_brief = brief(
        rules_with(),
        products={"min": 1, "max": 4},
        categories={"美妆": {"min": 3}},
        roles={"主推款": {"min": 3}},
    )
    assert obvious_problems(frame, plan_brief, rules_with(), [ANCHOR]) == []
    solution, rows, bends = solve(frame, plan_brief, rules_with(), time_limit=10)
    assert solution is None
    text = "\n".join(relaxation_problems(rows, bends))
    assert "cannot all hold together" in text
    assert any(
        bend in text
        for bend in (
            "categories.美妆.min = 3 would have to come down to 1",
            "roles.主推款.min = 3 would have to come down to 1",
            "products.max = 4 would have to go up to 6",
        )
    ), text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"products": {"min": 5, "max": 5}, "minutes": 20}, "needs at least 25 minutes"),
        (
            {"categories": {"美妆": {"min": 3}, "食品": {"min": 3}}, "products": {"max": 5}},
            "the categories minimums add up to 6 (美妆 3 + 食品 3), above products.max = 5",
        ),
    ],
)
def test_more_direct_checks(overrides, message):
    frame = candidates([{"category_l1": c} for c in ["美妆"] * 5 + ["食品"] * 5])
    problems = obvious_problems(frame, brief(rules_with(), **overrides), rules_with(), [ANCHOR])
    assert any(message in p for p in problems), problems


def test_too_few_deals_for_the_sequence_is_explained():
    sequence = SequenceRules(DEALS, True, True, 4, (), 0, 0)
    frame = candidates([{"role": "引流款"}] + [{}] * 9)
    problems = obvious_problems(frame, brief(rules_with(sequence)), rules_with(sequence), [ANCHOR])
    assert problems == [
        "the run sheet opens and closes with a deal (引流款; sequence in session.yaml), "
        "but only 1 eligible product is a deal (a 专场 without deals: sequence: "
        "{open_with_deal: false, close_with_deal: false} in the brief)"
    ]


def test_ctrl_c_stops_the_solver_at_once():
    """HiGHS runs in C++; haowu must not make a user wait for the time limit after Ctrl-C."""
    import _thread
    import threading
    import time

    import highspy
    import numpy as np

    from haowu_cli.planner.model import _run_interruptibly

    rng = np.random.default_rng(1)
    n = 3000
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", 60.0)
    highs.addVars(n, np.zeros(n), np.ones(n))
    every = np.arange(n, dtype=np.int32)
    highs.changeColsIntegrality(n, every, np.full(n, 1, dtype=np.uint8))
    highs.changeColsCost(n, every, rng.integers(1, 1000, n).astype(float))
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for _ in range(30):  # a hard multi-dimensional knapsack
        weights = rng.integers(1, 1000, n).astype(float)
        highs.addRow(-highspy.kHighsInf, weights.sum() / 7, n, every, weights)
    threading.Timer(0.5, _thread.interrupt_main).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _run_interruptibly(highs)
    assert time.monotonic() - started < 10


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(0, 99), st.integers(0, 99)),
        min_size=6,
        max_size=40,
    ),
    st.integers(1, 3),
)
def test_pruning_keeps_the_optimum_of_two_sessions(rows, cap):
    def session(index: int) -> pl.DataFrame:
        return candidates(
            [
                {
                    "product_id": f"P{i}",
                    "merchant_id": f"M{m}",
                    "minutes": minutes,
                    "value": values[index],
                }
                for i, (m, minutes, *values) in enumerate(rows)
            ],
            index,
        )

    frame = pl.concat([session(0), session(1)])
    one = brief(rules_with(), products={"min": 1, "max": 3}, max_per_merchant=cap).sessions[0]
    plan_brief = Brief((one, dataclasses.replace(one, anchor="A2")), "team_income", False)
    full, _, _ = solve(frame, plan_brief, rules_with(), time_limit=10)
    pool = prune(frame, plan_brief, rules_with())
    pruned, _, _ = solve(pool, plan_brief, rules_with(), time_limit=10)
    assert (full is None) == (pruned is None)
    if full is not None:
        assert pruned.objective_fen == full.objective_fen


# --- what a review found ----------------------------------------------------------------------

PACKAGED_SEQUENCE = RULES.sequence  # open and close with a deal, a deal every 4 items


def test_a_product_without_service_fee_earns_no_team_income_but_can_be_planned():
    frame = candidate_frame(
        products([{"service_fee_rate": None}, {}]), ANCHOR, brief().sessions[0], RULES
    )
    assert frame["eligible"].to_list() == [True, True]
    assert frame["team_income_fen"][0] == 0 and frame["team_income_fen"][1] > 0


def test_two_rules_may_give_one_role_different_minutes(tmp_path):
    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - role: 主推款               # heroes: the category's strong sellers\n",
        "  - role: 主推款\n    when: {sales_strength: {min: 0.7}, live_price: {min: 100}}\n"
        "    minutes: 20\n"
        "  - role: 主推款               # heroes: the category's strong sellers\n",
    )
    (tmp_path / "session.yaml").write_text(text, encoding="utf-8")
    rules = load_rules(tmp_path)
    frame = candidate_frame(
        products(
            [
                {"live_price_fen": 15000, "sales_strength": 0.9},
                {"live_price_fen": 8000, "sales_strength": 0.9},
            ]
        ),
        ANCHOR,
        brief(rules).sessions[0],
        rules,
    )
    assert frame["role"].to_list() == ["主推款", "主推款"]
    assert frame["minutes"].to_list() == [20, 10]


def relaxed(frame, plan_brief, rules=RULES) -> str:
    assert obvious_problems(frame, plan_brief, rules, [ANCHOR] * len(plan_brief.sessions)) == []
    solution, rows, bends = solve(frame, plan_brief, rules, time_limit=10)
    assert solution is None
    return "\n".join(relaxation_problems(rows, bends))


def test_a_role_maximum_below_the_deals_the_run_sheet_needs_is_named():
    frame = candidates([{"role": "引流款"}] * 3 + [{}] * 3)
    text = relaxed(frame, brief(roles={"引流款": {"max": 1}}))
    assert "roles.引流款.max = 1 would have to go up to 2" in text


def test_a_products_maximum_below_the_deals_the_run_sheet_needs_is_named():
    frame = candidates([{"role": "引流款"}] * 3 + [{}] * 3)
    text = relaxed(frame, brief(products={"min": 0, "max": 1}))
    assert "products.max = 1 would have to go up to 2" in text


def test_the_same_product_pinned_in_two_sessions_is_named():
    rows = [{"role": "引流款", "product_id": f"D{i}"} for i in range(4)] + [{"product_id": "P"}]
    frame = pl.concat([candidates(rows, 0), candidates(rows, 1)]).with_columns(
        (pl.col("product_id") == "P").alias("pinned")
    )
    one = brief(products={"min": 1, "max": 5}, pinned=["P"]).sessions[0]
    plan_brief = Brief((one, dataclasses.replace(one, anchor="A2")), "team_income", False)
    text = relaxed(frame, plan_brief)
    assert (
        "P would have to be in more than one session (allow_repeat is false)" in text
        or "pinned P would have to be left out" in text
    )


def test_pinned_products_above_a_role_maximum_are_named():
    frame = candidates(
        [{"role": "引流款", "pinned": True, "product_id": f"D{i}"} for i in range(3)]
    )
    plan_brief = brief(rules_with(), roles={"引流款": {"max": 2}}, pinned=["D0", "D1", "D2"])
    problems = obvious_problems(frame, plan_brief, rules_with(), [ANCHOR])
    assert problems == ["3 pinned 引流款 products, above roles.引流款.max = 2"]


def test_an_anchor_without_average_ticket_is_named_when_deals_are_missing():
    frame = candidates([{}] * 6)
    anchor = ANCHOR | {"anchor_id": "A9", "avg_ticket_fen": None}
    [problem] = obvious_problems(frame, brief(), RULES, [anchor])
    assert "anchor A9 has no average ticket (客单价)" in problem


def test_nothing_eligible_gives_the_empty_plan_when_the_brief_allows_it():
    frame = candidates([{}]).clear()
    solution, _, _ = solve(frame, brief(rules_with()), rules_with(), time_limit=10)
    assert solution.status == "optimal" and solution.chosen.is_empty()
    solution, rows, bends = solve(
        frame, brief(rules_with(), products={"min": 2, "max": 5}), rules_with(), time_limit=10
    )
    assert solution is None
    assert "products.min = 2 would have to come down to 0" in "\n".join(
        relaxation_problems(rows, bends)
    )


@st.composite
def two_session_instances(draw):
    n = draw(st.integers(2, 5))
    products = [
        {
            "product_id": f"P{i}",
            "merchant_id": draw(st.sampled_from(["M1", "M2"])),
            "category_l1": draw(st.sampled_from(["美妆", "食品"])),
            "minutes": draw(st.integers(1, 6)),
            "stock": draw(st.integers(1, 60)),
        }
        for i in range(n)
    ]
    sessions = [
        candidates(
            [
                p
                | {
                    "value": draw(st.integers(0, 500)),
                    # capped by stock, as candidate_frame caps it
                    "expected_units": min(p["stock"], draw(st.integers(0, 40))),
                }
                for p in products
            ],
            index,
        )
        for index in (0, 1)
    ]
    low = draw(st.integers(0, 2))
    one = brief(
        rules_with(),
        products={"min": low, "max": draw(st.integers(max(low, 1), 4))},
        minutes=draw(st.integers(3, 15)),
        max_per_merchant=draw(st.integers(1, 2)),
        categories={"美妆": {"max": draw(st.integers(0, 2))}},
    ).sessions[0]
    pinned = tuple(draw(st.sets(st.sampled_from([p["product_id"] for p in products]), max_size=1)))
    plan_brief = Brief(
        (one, dataclasses.replace(one, anchor="A2")), "team_income", draw(st.booleans()), pinned
    )
    return pl.concat(sessions), plan_brief


def brute_force_two(frame: pl.DataFrame, plan_brief: Brief) -> int | None:
    rows = {(r["session"], r["product_id"]): r for r in frame.to_dicts()}
    ids = sorted({pid for _, pid in rows})
    choices = [(), (0,), (1,)] + ([(0, 1)] if plan_brief.allow_repeat else [])
    best = None
    for assignment in itertools.product(choices, repeat=len(ids)):
        chosen = {
            s: [rows[(s, pid)] for pid, a in zip(ids, assignment, strict=False) if s in a]
            for s in (0, 1)
        }
        if not all(
            _meets(
                chosen[s], plan_brief.sessions[s], frame.filter(pl.col("session") == s).to_dicts()
            )
            for s in (0, 1)
        ):
            continue
        if any(
            sum(rows[(s, pid)]["expected_units"] for s in a) > rows[(0, pid)]["stock"]
            for pid, a in zip(ids, assignment, strict=False)
            if len(a) > 1
        ):
            continue
        if any(not a for pid, a in zip(ids, assignment, strict=False) if pid in plan_brief.pinned):
            continue
        value = sum(r["value"] for s in (0, 1) for r in chosen[s])
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_session_instances())
def test_two_sessions_are_as_good_as_brute_force(instance):
    """Shared stock, at most once unless allow_repeat, plan-level pins."""
    frame, plan_brief = instance
    expected = brute_force_two(frame, plan_brief)
    for pool in (frame, prune(frame, plan_brief, rules_with())):
        solution, _, _ = solve(pool, plan_brief, rules_with(), time_limit=10)
        assert (solution is None) == (expected is None)
        if expected is not None:
            assert solution.objective_fen == expected


# --- several sessions with shared stock, small caps, and the greedy start ------------------


def meets_plan(chosen: list[dict], plan_brief: Brief, sequence: SequenceRules, every) -> bool:
    """Every constraint of the brief, checked directly: each session's counts, minutes,
    merchants, categories, roles and pins (`_meets`), the deals the run sheet needs, at most
    once per product unless allow_repeat, shared stock, plan-level pins."""
    for s, session in enumerate(plan_brief.sessions):
        rows = [r for r in chosen if r["session"] == s]
        if not _meets(rows, session, [r for r in every if r["session"] == s]):
            return False
        deals = sum(1 for r in rows if r["role"] in sequence.deal_roles)
        if deals < sequence.deal_slots_needed:
            return False
        if sequence.deal_every and len(rows) - deals > sequence.deal_every * (
            deals + 1 - sequence.deal_slots_needed
        ):
            return False
    by_product: dict[str, list[dict]] = {}
    for r in chosen:
        by_product.setdefault(r["product_id"], []).append(r)
    for rows in by_product.values():
        if len(rows) > 1 and not plan_brief.allow_repeat:
            return False
        if len(rows) > 1 and sum(r["expected_units"] for r in rows) > rows[0]["stock"]:
            return False
    return all(p in by_product for p in plan_brief.pinned)


def brute_force_plan(frame: pl.DataFrame, plan_brief: Brief, sequence) -> int | None:
    """The best objective over every assignment of products to sets of sessions."""
    every = frame.to_dicts()
    rows = {(r["session"], r["product_id"]): r for r in every}
    ids = sorted({pid for _, pid in rows})
    sessions = range(len(plan_brief.sessions))
    choices = [
        combo
        for size in range(len(plan_brief.sessions) + 1)
        for combo in itertools.combinations(sessions, size)
        if size <= 1 or plan_brief.allow_repeat
    ]
    best = None
    for assignment in itertools.product(choices, repeat=len(ids)):
        chosen = [
            rows[(s, pid)]
            for pid, a in zip(ids, assignment, strict=True)
            for s in a
            if (s, pid) in rows
        ]
        if len(chosen) != sum(len(a) for a in assignment):
            continue  # a product in a session where it is not a candidate
        if meets_plan(chosen, plan_brief, sequence, every):
            value = sum(r["value"] for r in chosen)
            best = value if best is None else max(best, value)
    return best


@st.composite
def plan_instances(draw):
    """Several sessions over a few products: allow_repeat on or off, stock shared, small
    caps from few merchants, category and role bounds, pins, the sequencing rules."""
    count = draw(st.integers(2, 3))
    n = draw(st.integers(2, 5 if count == 2 else 4))
    products = [
        {
            "product_id": f"P{i}",
            "merchant_id": draw(st.sampled_from(["M1", "M2"])),
            "category_l1": draw(st.sampled_from(["美妆", "食品"])),
            "stock": draw(st.integers(1, 60)),
        }
        for i in range(n)
    ]
    frames = []
    for s in range(count):
        rows = [
            p
            | {
                "role": draw(st.sampled_from(["引流款", "主推款", "利润款"])),
                "minutes": draw(st.integers(1, 6)),
                "value": draw(st.integers(0, 500)),
                "expected_units": min(p["stock"], draw(st.integers(0, 40))),
                "pinned": False,
            }
            for p in products
        ]
        pinned = draw(st.sets(st.integers(0, n - 1), max_size=1))
        for i in pinned:
            rows[i]["pinned"] = True
        eligible = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        eligible[0] = eligible[0] or s == 0  # at least one candidate
        frames.append(candidates([r for r, e in zip(rows, eligible, strict=True) if e], s))
    frame = pl.concat([f for f in frames if not f.is_empty()], how="vertical_relaxed")
    sequence = SequenceRules(
        DEALS, draw(st.booleans()), False, draw(st.integers(0, 2)), ("主推款",), 0, 30
    )
    rules = rules_with(sequence)
    sessions = []
    for s in range(count):
        low = draw(st.integers(0, 2))
        pins = frame.filter((pl.col("session") == s) & pl.col("pinned"))["product_id"]
        sessions.append(
            brief(
                rules,
                products={"min": low, "max": draw(st.integers(max(low, 1), 4))},
                minutes=draw(st.integers(3, 15)),
                max_per_merchant=draw(st.integers(1, 2)),
                categories={
                    "美妆": {"min": draw(st.integers(0, 1)), "max": draw(st.integers(1, 3))}
                },
                roles={"主推款": {"max": draw(st.integers(0, 2))}},
                pinned=pins.to_list(),
            ).sessions[0]
        )
    plan_pinned = tuple(
        draw(st.sets(st.sampled_from([p["product_id"] for p in products]), max_size=1))
    )
    plan_brief = Brief(tuple(sessions), "team_income", draw(st.booleans()), plan_pinned)
    return frame, plan_brief, rules


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_instances())
def test_the_plan_is_optimal_and_never_below_the_greedy_plan(instance):
    """On random small instances the plan equals the brute-force optimum, with and without
    pruning; the greedy plan keeps the brief and is never better than the plan."""
    from haowu_cli.planner.greedy import greedy_plan

    frame, plan_brief, rules = instance
    expected = brute_force_plan(frame, plan_brief, rules.sequence)
    pool = prune(frame, plan_brief, rules)
    greedy = greedy_plan(frame, plan_brief, rules)
    if greedy is not None:
        chosen = frame[greedy].to_dicts()
        assert meets_plan(chosen, plan_brief, rules.sequence, frame.to_dicts())
        assert expected is not None and sum(r["value"] for r in chosen) <= expected
    for candidates_ in (frame, pool):
        solution, _, _ = solve(candidates_, plan_brief, rules, time_limit=10)
        assert (solution is None) == (expected is None)
        if expected is not None:
            assert solution.status == "optimal"
            assert solution.objective_fen == expected
            assert meets_plan(
                solution.chosen.to_dicts(), plan_brief, rules.sequence, frame.to_dicts()
            )


def pool_of(draw_rows, sessions: int) -> pl.DataFrame:
    """The same products in each session, each session's values and units its own."""
    return pl.concat(
        [
            candidates(
                [
                    {
                        "product_id": f"P{i}",
                        "merchant_id": f"M{m}",
                        "category_l1": ["美妆", "食品"][c],
                        "role": ["引流款", "主推款", "利润款"][r],
                        "minutes": minutes,
                        "stock": stock,
                        "value": values[s % len(values)],
                        "expected_units": min(stock, units),
                    }
                    for i, (m, c, r, minutes, stock, units, *values) in enumerate(draw_rows)
                ],
                s,
            )
            for s in range(sessions)
        ]
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.integers(0, 2),  # merchant: few of them
            st.integers(0, 1),
            st.integers(0, 2),
            st.integers(1, 3),
            st.integers(1, 30),  # stock
            st.integers(0, 20),  # expected units a session
            st.integers(0, 99),
            st.integers(0, 99),
            st.integers(0, 99),
        ),
        min_size=20,
        max_size=80,
    ),
    st.integers(2, 3),
    st.integers(1, 3),
    st.booleans(),
    st.integers(0, 2),
)
def test_pruning_keeps_the_optimum_with_shared_stock_and_few_merchants(
    rows, sessions, cap, allow_repeat, deal_every
):
    """Bigger pools than brute force can try: the pruned pool's optimum is the whole
    pool's, with and without repeats (stock shared), when merchants × cap is below
    products.max."""
    sequence = SequenceRules(DEALS, True, False, deal_every, (), 0, 0)
    rules = rules_with(sequence)
    one = brief(
        rules,
        products={"min": 1, "max": 8},
        minutes=14,
        max_per_merchant=cap,
        categories={"美妆": {"max": 3}},
        roles={"主推款": {"min": 1, "max": 2}},
    ).sessions[0]
    plan_brief = Brief(
        tuple(dataclasses.replace(one, anchor=f"A{s}") for s in range(sessions)),
        "team_income",
        allow_repeat,
    )
    frame = pool_of(rows, sessions)
    pool = prune(frame, plan_brief, rules)
    full, _, _ = solve(frame, plan_brief, rules, time_limit=30)
    pruned, _, _ = solve(pool, plan_brief, rules, time_limit=30)
    assert (full is None) == (pruned is None)
    if full is not None:
        assert full.status == pruned.status == "optimal"
        assert pruned.objective_fen == full.objective_fen


def test_pruning_works_with_repeats_and_with_few_merchants():
    """allow_repeat used to switch pruning off, and 3 merchants × max_per_merchant 3 below
    products.max 40 left every candidate: both now drop what cannot be needed."""
    rows = [  # a tenth of them with too little stock for both sessions
        (i % 3, i % 2, i % 3, 1 + i % 3, 10 if i % 10 == 0 else 100, 4 + i % 5, (i * 37) % 100)
        + ((i * 53) % 100,)
        for i in range(600)
    ]
    frame = pool_of(rows, 2)
    few_merchants = brief(rules_with(), products={"min": 1, "max": 40}, max_per_merchant=3)
    one = Brief(few_merchants.sessions, "team_income", False)
    assert prune(frame.filter(pl.col("session") == 0), one, rules_with()).height < 100
    two = Brief(
        (few_merchants.sessions[0], dataclasses.replace(few_merchants.sessions[0], anchor="A2")),
        "team_income",
        True,
    )
    pool = prune(frame, two, rules_with())
    assert pool.height < 300
    full, _, _ = solve(frame, two, rules_with(), time_limit=30)
    pruned, _, _ = solve(pool, two, rules_with(), time_limit=30)
    assert full.status == pruned.status == "optimal"
    assert pruned.objective_fen == full.objective_fen


def test_a_time_limit_stop_returns_the_greedy_plan_with_its_gap():
    """Stopped before it has a plan of its own, the solver's start, the greedy plan, comes
    back as a feasible plan with an honest gap: never "no plan" when the greedy has one."""
    from haowu_cli.planner.greedy import greedy_value

    frame = candidates(
        [
            {
                "merchant_id": f"M{i % 40}",
                "value": (i * 7919) % 10_000,
                "minutes": 3 + i % 4,
                "category_l1": ["美妆", "食品", "日百"][i % 3],
            }
            for i in range(4000)
        ]
    )
    plan_brief = brief(
        rules_with(),
        products={"min": 10, "max": 30},
        minutes=100,
        max_per_merchant=2,
        categories={"美妆": {"min": 5, "max": 8}, "食品": {"min": 5}},
    )
    greedy = greedy_value(frame, plan_brief, rules_with())
    assert greedy is not None
    solution, _, _ = solve(frame, plan_brief, rules_with(), time_limit=1e-9)
    assert solution is not None
    assert solution.objective_fen >= greedy
    assert solution.bound_fen >= solution.objective_fen
    if solution.status == "feasible":
        expected_gap = (solution.bound_fen - solution.objective_fen) / solution.bound_fen
        assert solution.gap == pytest.approx(expected_gap)


def test_the_run_sheet_settings_are_checked_with_their_line(tmp_path):
    from haowu_cli.errors import ConfigError

    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    assert load_rules(packaged_path("configs")).run_sheet.selling_points[0] == "卖点"
    fingerprint = load_rules(packaged_path("configs")).fingerprint
    (tmp_path / "session.yaml").write_text(
        text.replace("selling_points: [卖点, 核心卖点, 产品卖点]", "selling_points: 亮点"),
        encoding="utf-8",
    )
    rules = load_rules(tmp_path)
    assert rules.run_sheet.selling_points == ("亮点",)
    assert rules.fingerprint == fingerprint  # the workbook's settings change no plan
    line = text.splitlines().index("run_sheet:") + 2
    for bad in ("selling_points: [1, 2]", "sellingpoints: [卖点]"):
        (tmp_path / "session.yaml").write_text(
            text.replace("selling_points: [卖点, 核心卖点, 产品卖点]", bad), encoding="utf-8"
        )
        with pytest.raises(ConfigError) as caught:
            load_rules(tmp_path)
        assert f"session.yaml:{line}" in str(caught.value)
