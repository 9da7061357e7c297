"""What the planner's speed-ups must not change (issue 18): the products it reads, the pool
pruning leaves, and a plan never below the greedy plan, on random small instances."""

from __future__ import annotations

import random

import polars as pl
import pytest

from haowu_cli import store as db
from haowu_cli.store.grades import LATEST_GRADES, latest_grades_params


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
