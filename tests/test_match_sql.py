"""The planner's expected-sales model as DuckDB SQL (`planner/sql_model.py`, which `haowu match
products` ranks a million products with) gives what the Polars model (`candidate_frame`) gives:
the same eligibility, role minutes, units and fen, product by product, on varied products and
anchors, with session.yaml's own rules and with briefs that filter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from haowu_cli.config import packaged_path
from haowu_cli.planner.brief import resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from haowu_cli.planner.rules import load_rules
from haowu_cli.planner.sql_model import eligible_sql, scored_sql

RULES = load_rules(packaged_path("configs"))
DAY = dt.date(2026, 12, 5)
CATEGORIES = ["美妆", "食品", "酒水", None]


def _products(count: int) -> pl.DataFrame:
    rows = [
        {
            "product_id": f"P{i:04d}",
            "merchant_id": f"M{i % 4}",
            "title": "t",
            "brand": [None, "花漾", "禾丰"][i % 3],
            "category_l1": CATEGORIES[i % 4],
            "category_l2": [None, "护肤", "零食"][i % 3],
            "category_l3": [None, "面霜"][i % 2],
            "live_price_fen": [None, 0, 990][i % 50] if i % 50 < 3 else 100 + (i * 7919) % 90_000,
            "commission_rate": None if i % 37 == 0 else Decimal(i % 41) / 100,
            "service_fee_rate": None if i % 13 == 0 else Decimal(i % 9) / 100,
            "stock": [None, 0, 2, 5000][i % 4],
            "sample": [None, True, False][i % 3],
            "mechanism": None,
            "level": [None, "L0", "L1", "L2", "L3", "L4", "L5"][i % 7],
            "sales_strength": None if i % 29 == 0 else (i % 17) / 16,
        }
        for i in range(count)
    ]
    return pl.DataFrame(
        rows,
        schema_overrides={
            "commission_rate": pl.Decimal(9, 6),
            "service_fee_rate": pl.Decimal(9, 6),
            "mechanism": pl.String,
            "live_price_fen": pl.Int64,
            "stock": pl.Int64,
        },
    )


ANCHORS = [
    {"avg_ticket_fen": 29_900, "gmv_per_hour_fen": 8_000_000, "categories": ["美妆", "零食"]},
    {"avg_ticket_fen": None, "gmv_per_hour_fen": None, "categories": None},
    {"avg_ticket_fen": 0, "gmv_per_hour_fen": 0, "categories": ["面霜"]},
    {"avg_ticket_fen": 731, "gmv_per_hour_fen": 123_457, "categories": []},
]
BRIEFS = [
    {"min_level": "L0"},
    {"min_level": "L3", "min_commission_rate": "15%", "require_sample": True},
    {"merchants": ["M1", "M2"], "brands": ["花漾"], "exclude_products": ["P0005"]},
    {"categories": ["零食", "面霜"], "exclude_merchants": ["M3"], "min_level": "L1"},
    {"categories": ["酒水>零食", "酒水 ＞ 护肤", "美妆>护肤>面霜"], "min_level": "L0"},
]


@pytest.mark.parametrize("anchor", ANCHORS)
@pytest.mark.parametrize("brief", BRIEFS)
def test_the_sql_model_is_the_planners_own(anchor: dict, brief: dict):
    session = resolve_brief(RULES, None, {"anchor": "A", "date": DAY, **brief}).sessions[0]
    products = _products(600)
    planner = candidate_frame(products, anchor, session, RULES).filter(pl.col("eligible"))
    params: dict[str, object] = {}
    con = duckdb.connect()
    con.register("goods", products)
    con.execute(
        "CREATE TABLE a AS SELECT ?::BIGINT AS t, ?::BIGINT AS g, ?::VARCHAR[] AS c",
        [anchor["avg_ticket_fen"], anchor["gmv_per_hour_fen"], anchor["categories"]],
    )
    sql = scored_sql(
        RULES,
        f"(SELECT * FROM goods, a WHERE {eligible_sql(session, params)})",
        ticket="t",
        gmv_per_hour="g",
        category_match="(coalesce(list_contains(c, category_l1), false)"
        " OR coalesce(list_contains(c, category_l2), false)"
        " OR coalesce(list_contains(c, category_l3), false))",
    )
    mine = pl.DataFrame(con.sql(sql, params=params or None))
    columns = [
        "product_id",
        "minutes",
        "expected_units",
        "expected_gmv_fen",
        "commission_fen",
        "team_income_fen",
    ]
    assert planner.height > 0
    assert planner["expected_gmv_fen"].sum() > 0
    assert_frame_equal(
        mine.select(columns).sort("product_id"),
        planner.select(columns).sort("product_id"),
        check_dtypes=False,
    )


def test_potential_is_young_by_the_day_the_product_joined():
    """潜力好货's "young" counts from 加入快分销 (joined_at), from the listing date only when the
    sheet gave no join date; a product with neither is not young (its level may still count)."""
    from haowu_cli.planner.matching import PotentialRules, potential_column

    rules = PotentialRules(
        max_level="L0",
        max_joined_days=30,
        min_sales_strength=0.5,
        max_price_to_ticket=1.5,
        category_match=True,
    )
    day = dt.date
    rows = pl.DataFrame(
        {
            "product_id": ["joined_old_listed_new", "joined_new_listed_old", "listed_new",
                           "listed_old", "neither", "young_weak", "old_but_l0"],
            "joined_at": [day(2026, 8, 1), day(2026, 11, 20), None, None, None,
                          day(2026, 11, 20), None],
            "listed_at": [day(2026, 11, 30), day(2025, 1, 1), day(2026, 11, 6), day(2026, 11, 4),
                          None, None, day(2020, 1, 1)],
            "level": ["L2", "L2", "L2", "L2", "L2", "L2", "L0"],
            "sales_strength": [0.9, 0.9, 0.9, 0.9, 0.9, 0.2, 0.9],
            "price_to_ticket": [1.0] * 7,
            "category_l1": ["美妆"] * 7,
            "category_l2": [None] * 7,
            "category_l3": [None] * 7,
        },
        schema_overrides={"category_l2": pl.String, "category_l3": pl.String},
    )  # fmt: skip
    flagged = rows.select(
        "product_id", potential_column(rules, ["美妆"], on=day(2026, 12, 5)).alias("potential")
    )
    assert dict(flagged.iter_rows()) == {
        "joined_old_listed_new": False,  # joined 126 days before: not young, whatever the listing
        "joined_new_listed_old": True,  # joined 15 days before
        "listed_new": True,  # no join date: listed 29 days before
        "listed_old": False,  # no join date: listed 31 days before
        "neither": False,
        "young_weak": False,  # young, but its sales are behind half its category
        "old_but_l0": True,  # low-level
    }
