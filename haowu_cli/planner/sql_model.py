"""The planner's expected-sales model (`candidates.py`) as DuckDB SQL, for matching over many
rows: `haowu match products` scores every product for one anchor, `haowu match anchors` every
(anchor, product) pair, inside DuckDB, and only the best rows come back to Python.

The arithmetic is the same as `candidates.py`, operation by operation and in the same order,
in DOUBLE where Polars uses Float64 and in whole numbers where it uses integers (HUGEINT for its
Int128), so both give the same units and fen (tests/test_match_sql.py checks them against each
other). Constants are written as DOUBLE from their Python value (`_num`), never as DuckDB
DECIMAL literals (whose arithmetic would be exact, not Float64's).
"""

from __future__ import annotations

from haowu_cli.grading import LEVEL_RANK
from haowu_cli.planner.brief import SessionBrief
from haowu_cli.planner.candidates import CATEGORY_LEVELS, PPM, category_parts
from haowu_cli.planner.rules import SessionRules


def _num(value: float) -> str:
    """A Python number as a DuckDB DOUBLE of exactly its value."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def eligible_sql(session: SessionBrief, values: dict[str, object]) -> str:
    """True where a product passes every filter of `candidates._reason` (the brief's lists are
    bound in `values`, read as `$name` parameters)."""
    values["m_exclude_products"] = list(session.exclude_products)
    values["m_exclude_merchants"] = list(session.exclude_merchants)
    fails = [
        "list_contains(CAST($m_exclude_products AS VARCHAR[]), product_id)",
        "list_contains(CAST($m_exclude_merchants AS VARCHAR[]), merchant_id)",
    ]
    if session.merchants:
        values["m_merchants"] = list(session.merchants)
        fails.append("NOT list_contains(CAST($m_merchants AS VARCHAR[]), merchant_id)")
    if session.brands:
        values["m_brands"] = list(session.brands)
        fails.append("NOT list_contains(CAST($m_brands AS VARCHAR[]), coalesce(brand, ''))")
    if session.only_categories:
        fails.append(
            "NOT ("
            + " OR ".join(
                _in_category(key, f"m_category{i}", values)
                for i, key in enumerate(session.only_categories)
            )
            + ")"
        )
    below = [name for name, rank in LEVEL_RANK.items() if rank < LEVEL_RANK[session.min_level]]
    values["m_below"] = below
    min_ppm = int(session.min_commission_rate * PPM)
    fails += [
        "level IS NULL",
        "list_contains(CAST($m_below AS VARCHAR[]), level)",
        "commission_rate IS NULL",
        f"CAST(commission_rate * {PPM} AS BIGINT) < {min_ppm}",
    ]
    if session.require_sample:
        fails.append("NOT coalesce(sample, false)")
    fails += [
        "live_price_fen IS NULL OR live_price_fen <= 0",
        "stock IS NULL OR stock <= 0",
    ]
    return "NOT (" + " OR ".join(f"coalesce({f}, false)" for f in fails) + ")"


def _in_category(key: str, name: str, values: dict[str, object]) -> str:
    """`candidates.in_category` in SQL: a name at any level, or a path from the first."""
    parts = category_parts(key)
    if len(parts) == 1:
        values[name] = parts[0]
        return (
            "("
            + " OR ".join(f"coalesce({level} = ${name}, false)" for level in CATEGORY_LEVELS)
            + ")"
        )
    tests = []
    for index, (level, part) in enumerate(zip(CATEGORY_LEVELS, parts, strict=False)):
        values[f"{name}_{index}"] = part
        tests.append(f"coalesce({level} = ${name}_{index}, false)")
    return "(" + " AND ".join(tests) + ")"


def _curve(value: str, points: tuple[tuple[float, float], ...]) -> str:
    """`candidates._curve`: straight lines between points, null where the value is null."""
    (x0, y0) = points[0]
    parts = [f"CASE WHEN {value} IS NULL THEN NULL WHEN {value} <= {_num(x0)} THEN {_num(y0)}"]
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        slope = (yb - ya) / (xb - xa)
        parts.append(
            f"WHEN {value} <= {_num(xb)} THEN {_num(ya)} + ({value} - {_num(xa)}) * {_num(slope)}"
        )
    return " ".join(parts) + f" ELSE {_num(points[-1][1])} END"


def _rule_sql(rules: SessionRules) -> str:
    """`candidates._rule_index` over the columns `price_to_ticket`, `live_price_fen`,
    `commission_ppm` and `sales_strength`."""
    values = {
        "price_to_ticket": "price_to_ticket",
        "live_price": f"(CAST(live_price_fen AS DOUBLE) / {_num(100)})",
        "commission_rate": f"(CAST(commission_ppm AS DOUBLE) / {_num(PPM)})",
        "sales_strength": "sales_strength",
    }
    whens = []
    for index, rule in enumerate(rules.roles):
        parts = ["true"]
        for name, (low, high) in rule.conditions.items():
            if low is not None:
                parts.append(f"coalesce({values[name]} >= {_num(low)}, false)")
            if high is not None:
                parts.append(f"coalesce({values[name]} <= {_num(high)}, false)")
        whens.append(f"WHEN {' AND '.join(parts)} THEN {index}")
    return f"CASE {' '.join(whens)} ELSE {len(rules.roles) - 1} END"


def scored_sql(
    rules: SessionRules, source: str, *, ticket: str, gmv_per_hour: str, category_match: str
) -> str:
    """A query over `source` (rows with `PRODUCT_COLUMNS` and the anchor's columns) that adds
    `candidates.sales_columns`' `rule`, `minutes`, `expected_units`, `expected_gmv_fen`,
    `commission_fen` and `team_income_fen`, and `price_to_ticket`, `commission_ppm`,
    `service_fee_ppm`. `ticket`, `gmv_per_hour` and `category_match` are SQL over the row."""
    model = rules.sales
    minutes = " ".join(f"WHEN {i} THEN {r.minutes}" for i, r in enumerate(rules.roles))
    gph = (
        f"(CASE WHEN ({gmv_per_hour}) IS NULL OR ({gmv_per_hour}) = 0 "
        f"THEN {model.default_gmv_per_hour_fen} ELSE ({gmv_per_hour}) END)"
    )
    strength = (
        f"({_num(model.strength_low)} + {_num(model.strength_high - model.strength_low)}"
        f" * coalesce(sales_strength, {_num(0)}))"
    )
    affinity = (
        f"(CASE WHEN {category_match} THEN {_num(model.affinity_match)} "
        f"ELSE {_num(model.affinity_other)} END)"
    )
    fit = f"coalesce({_curve('price_to_ticket', model.price_fit)}, {_num(1)})"
    cut = rules.service_fee_cut_ppm
    return f"""
    WITH s1 AS (
        SELECT *,
               CASE WHEN ({ticket}) IS NOT NULL AND ({ticket}) <> 0
                    THEN CAST(live_price_fen AS DOUBLE) / CAST(({ticket}) AS DOUBLE) END
                   AS price_to_ticket,
               CAST(commission_rate * {PPM} AS BIGINT) AS commission_ppm,
               coalesce(CAST(service_fee_rate * {PPM} AS BIGINT), 0) AS service_fee_ppm,
               CAST({gph} AS DOUBLE) AS _gph,
               {affinity} AS _affinity
        FROM {source}),
    s2 AS (SELECT *, {_rule_sql(rules)} AS rule FROM s1),
    s3 AS (SELECT *, CASE rule {minutes} END AS minutes FROM s2),
    s4 AS (
        SELECT *,
               CASE WHEN live_price_fen > 0 THEN coalesce(least(
                   CAST(floor(CAST(minutes AS DOUBLE) * (_gph / {_num(60)}) * {strength}
                              * _affinity * {fit} / CAST(live_price_fen AS DOUBLE)) AS BIGINT),
                   greatest(stock, 0)), 0) ELSE 0 END AS expected_units
        FROM s3),
    s5 AS (SELECT *, expected_units * live_price_fen AS expected_gmv_fen FROM s4)
    SELECT * EXCLUDE (_gph, _affinity),
           CAST((CAST(expected_gmv_fen AS HUGEINT) * commission_ppm + {PPM // 2}) // {PPM}
                AS BIGINT) AS commission_fen,
           CAST((CAST(expected_gmv_fen AS HUGEINT) * service_fee_ppm * {PPM - cut}
                 + {PPM * PPM // 2}) // {PPM * PPM} AS BIGINT) AS team_income_fen
    FROM s5
    """
