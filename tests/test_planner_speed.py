"""What the planner's speed-ups must not change (issue 18): the products it reads, the pool
pruning leaves, and a plan never below the greedy plan, on random small instances."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli import store as db
from haowu_cli.planner.greedy import greedy_value
from haowu_cli.planner.model import PlanNotFound, prune, solve
from haowu_cli.store.grades import LATEST_GRADES, latest_grades_params
from tests.test_planner import brief, candidates, meets_plan, plan_instances, rules_with


def test_sales_strength_is_duckdbs_cume_dist(store):
    """`planning_products` works out each product's share of its category that sold no more
    (cume_dist) in Polars: the same numbers as DuckDB's window, ties, missing sales and
    products without a category included."""
    rng = random.Random(7)
    with store.write() as con:
        for number in range(300):
            category = rng.choice(["美妆", "食品", None])
            sales = rng.choice([None, 0, 5, 5, 17, rng.randint(0, 1000)])
            con.execute(
                "INSERT INTO products (product_id, merchant_id, category_l1, sales_30d, "
                "created_import_id, updated_import_id) VALUES (?, 'M1', ?, ?, 1, 1)",
                [f"P{number:04d}", category, sales],
            )
    with store.read() as con:
        got = db.planning_products(con)
        expected = pl.DataFrame(
            con.sql(
                f"""SELECT p.product_id, cume_dist() OVER (PARTITION BY p.category_l1
                        ORDER BY coalesce(p.sales_30d, 0)) AS sales_strength
                    FROM products p LEFT JOIN ({LATEST_GRADES}) g USING (product_id)
                    ORDER BY p.product_id""",
                params=latest_grades_params(None),
            )
        )
    assert got["product_id"].to_list() == expected["product_id"].to_list()
    assert got["sales_strength"].to_list() == pytest.approx(
        expected["sales_strength"].to_list(), abs=0
    )
    assert "_sales" not in got.columns


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan_instances(), st.sampled_from([1e-9, 10.0]))
def test_the_plan_is_never_below_the_greedy_plan_even_when_stopped(instance, time_limit):
    """Stopped at once or let run, over the pruned pool with the whole pool given: the plan
    keeps the brief and is worth at least the greedy plan over every candidate; a plan the
    solver did not better says it is the greedy's; the bound is never below the plan."""
    frame, plan_brief, rules = instance
    greedy = greedy_value(frame, plan_brief, rules)
    pool = prune(frame, plan_brief, rules)
    try:
        solution, _, _ = solve(pool, plan_brief, rules, time_limit=time_limit, everything=frame)
    except PlanNotFound:  # stopped before any plan, and the greedy found none either
        assert time_limit < 1 and greedy is None
        return
    if solution is None:
        assert greedy is None
        return
    assert meets_plan(solution.chosen.to_dicts(), plan_brief, rules.sequence, frame.to_dicts())
    if greedy is not None:
        assert solution.objective_fen >= greedy
    assert solution.bound_fen >= solution.objective_fen
    if solution.status == "optimal":
        assert solution.source == "solver" and solution.gap == 0
    elif solution.objective_fen == greedy:
        assert solution.source == "greedy"


def test_the_greedy_over_every_candidate_is_taken_when_it_is_better(monkeypatch):
    """When the solver is stopped with nothing better than its start, the greedy plan over
    the candidates before pruning comes back if it is worth more than the start."""
    from haowu_cli.planner import model

    frame = candidates(
        [{"merchant_id": f"M{i % 5}", "value": 100 + i, "minutes": 3} for i in range(12)]
    )
    plan_brief = brief(rules_with(), products={"min": 1, "max": 3}, minutes=30)
    pool = frame.head(6)  # its greedy plan is worth less than the greedy over every row

    def stopped_at_once(highs) -> None:
        highs.setOptionValue("presolve", "off")
        highs.setOptionValue("time_limit", 0.0)
        highs.run()

    monkeypatch.setattr(model, "_run_interruptibly", stopped_at_once)
    solution, _, _ = solve(pool, plan_brief, rules_with(), time_limit=1, everything=frame)
    assert solution is not None
    assert (solution.status, solution.source) == ("feasible", "greedy")
    assert solution.objective_fen == greedy_value(frame, plan_brief, rules_with()) == 330
    assert solution.chosen["value"].sort().to_list() == [109, 110, 111]
    assert solution.bound_fen >= solution.objective_fen
