"""Every anchor's session of a merchant's goods at once, for `haowu match anchors`: the
planner's expected-sales model (`candidates.unit_columns`) on every (anchor, product) pair as
NumPy matrices, anchors by rows and products by columns, and each anchor's session filled as
`anchors._fill` fills it (best expected GMV per minute first, ties by product ID, while the
minutes fit and the count does).

The arithmetic is `candidates.py`'s, operation by operation and in the same order, in float64
where Polars uses Float64: the units, and so the fen, are the same (tests/test_match_anchors.py
checks the two against each other on varied goods and anchors). 10,000 anchors × 1,000
products are worked out in blocks of anchors (`BLOCK_CELLS`), no Python loop over pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from haowu_cli.planner.brief import SessionBrief
from haowu_cli.planner.candidates import PPM, money_columns
from haowu_cli.planner.rules import SessionRules

BLOCK_CELLS = 500_000  # (anchor, product) cells worked out at once: bounds the memory
SESSION_COLUMNS = (
    "expected_gmv_fen",
    "commission_fen",
    "team_income_fen",
    "session_products",
    "session_minutes",
)

Matrix = np.ndarray[Any, Any]


def all_sessions(
    goods: pl.DataFrame,
    people: pl.DataFrame,
    sells: Matrix,
    session: SessionBrief,
    rules: SessionRules,
    *,
    most: int,
    max_products: int,
) -> pl.DataFrame:
    """Per anchor (`a_idx`, people's rows in order): `SESSION_COLUMNS`, 0 for an anchor
    expected to sell nothing. `goods` are `anchors._goods_frame` rows in `p_idx` order, `sells`
    a bool matrix (anchor × the goods' `combo`): whether the anchor sells the combination's
    categories; `most` the most products a session can hold (`anchors._fill`)."""
    products = _product_arrays(goods, rules)
    ticket = people["avg_ticket_fen"].cast(pl.Float64).to_numpy()
    rate = people["gmv_per_hour_fen"].fill_null(0).to_numpy()
    default = float(rules.sales.default_gmv_per_hour_fen)
    per_hour = np.where(rate == 0, default, rate.astype(np.float64)) / 60.0
    combo = goods["combo"].to_numpy()
    step = max(1, BLOCK_CELLS // max(goods.height, 1))
    taken = [
        _block(
            start,
            ticket[start : start + step],
            per_hour[start : start + step],
            sells[start : start + step][:, combo],
            products,
            rules,
            session.minutes,
            most,
            max_products,
        )
        for start in range(0, people.height, step)
    ]
    rows = pl.DataFrame(
        {
            "a_idx": np.concatenate([t[0] for t in taken]).astype(np.uint32),
            "p_idx": np.concatenate([t[1] for t in taken]).astype(np.uint32),
            "minutes": np.concatenate([t[2] for t in taken]),
            "expected_units": np.concatenate([t[3] for t in taken]),
            "expected_gmv_fen": np.concatenate([t[4] for t in taken]),
        }
    )
    rates = goods.select("p_idx", "commission_ppm", "service_fee_ppm")
    money = money_columns(rows.join(rates, on="p_idx", how="left"), rules)
    totals = money.group_by("a_idx").agg(
        pl.col("expected_gmv_fen").sum(),
        pl.col("commission_fen").sum(),
        pl.col("team_income_fen").sum(),
        pl.len().cast(pl.Int64).alias("session_products"),
        pl.col("minutes").sum().cast(pl.Int64).alias("session_minutes"),
    )
    return (
        people.select("a_idx")
        .join(totals, on="a_idx", how="left")
        .with_columns(pl.col(c).fill_null(0) for c in SESSION_COLUMNS)
    )


def _product_arrays(goods: pl.DataFrame, rules: SessionRules) -> dict[str, Matrix]:
    model = rules.sales
    strength = goods["sales_strength"].cast(pl.Float64).fill_null(0.0).to_numpy()
    return {
        "price": goods["live_price_fen"].cast(pl.Int64).to_numpy(),
        "price_f": goods["live_price_fen"].cast(pl.Float64).to_numpy(),
        "stock": goods["stock"].cast(pl.Int64).clip(lower_bound=0).to_numpy(),
        "live_price": goods["live_price_fen"].cast(pl.Float64).to_numpy() / 100.0,
        "commission_rate": goods["commission_ppm"].cast(pl.Float64).to_numpy() / float(PPM),
        "sales_strength_raw": goods["sales_strength"].cast(pl.Float64).to_numpy(),
        "strength": model.strength_low + (model.strength_high - model.strength_low) * strength,
    }


def _curve(value: Matrix, points: tuple[tuple[float, float], ...]) -> Matrix:
    """`candidates._curve` with null (NaN) read as 1.0 (the model's `fill_null(1.0)`): the
    first point's y up to its x, then on the first segment whose end is at or above the value
    `ya + (value - xa) * slope`, the last point's y beyond."""
    xs = np.array([x for x, _ in points], dtype=np.float64)
    starts = np.array([0.0, *(x for x, _ in points[:-1])], dtype=np.float64)
    bases = np.array([points[0][1], *(y for _, y in points[:-1])], dtype=np.float64)
    slopes = np.array(
        [
            0.0,
            *(
                (yb - ya) / (xb - xa)
                for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False)
            ),
        ],
        dtype=np.float64,
    )
    segment = np.searchsorted(xs, value, side="left")  # the first x at or above the value
    inside = segment < len(points)  # NaN sorts last
    at = np.where(inside, segment, 0)
    line = np.where(at == 0, bases[0], bases[at] + (value - starts[at]) * slopes[at])
    return np.where(np.isnan(value), 1.0, np.where(inside, line, points[-1][1]))


def _rule_index(ratio: Matrix, products: dict[str, Matrix], rules: SessionRules) -> Matrix:
    """`candidates._rule_index`: the first role rule each pair meets (a null value meets no
    bound)."""
    values = {
        "price_to_ticket": ratio,
        "live_price": products["live_price"][None, :],
        "commission_rate": products["commission_rate"][None, :],
        "sales_strength": products["sales_strength_raw"][None, :],
    }
    conditions = []
    for rule in rules.roles:
        condition = np.ones(ratio.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            for name, (low, high) in rule.conditions.items():
                if low is not None:
                    condition = condition & (values[name] >= low)
                if high is not None:
                    condition = condition & (values[name] <= high)
        conditions.append(condition)
    return np.select(conditions, list(range(len(rules.roles))), default=len(rules.roles) - 1)


def _block(
    start: int,
    ticket: Matrix,
    per_hour: Matrix,
    sells: Matrix,
    products: dict[str, Matrix],
    rules: SessionRules,
    session_minutes: int,
    most: int,
    max_products: int,
) -> tuple[Matrix, Matrix, Matrix, Matrix, Matrix]:
    """One block of anchors: the taken (a_idx, p_idx, minutes, units, GMV), anchor after
    anchor, each anchor's in the order its session takes them."""
    model = rules.sales
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = ~np.isnan(ticket) & (ticket != 0)
        ratio = np.where(
            usable[:, None], products["price_f"][None, :] / np.where(usable, ticket, 1.0)[:, None],
            np.nan,
        )  # fmt: skip
    rule = _rule_index(ratio, products, rules)
    minutes = np.array([r.minutes for r in rules.roles], dtype=np.int64)[rule]
    affinity = np.where(sells, model.affinity_match, model.affinity_other)
    fit = _curve(ratio, model.price_fit)
    gmv_fen = (
        minutes.astype(np.float64) * per_hour[:, None] * products["strength"][None, :] * affinity
    ) * fit
    units = np.floor(gmv_fen / products["price_f"][None, :]).astype(np.int64)
    units = np.minimum(units, products["stock"][None, :])
    gmv = units * products["price"][None, :]
    sold = gmv > 0 if most > 0 else np.zeros(gmv.shape, dtype=bool)
    per_minute = np.where(sold, gmv / minutes, -np.inf)
    # Each anchor's `most` best by GMV per minute: those at or above its most-th best value
    # (more when tied), then ordered by value and product index.
    width = per_minute.shape[1]
    if most > 0 and width > most:
        threshold = -np.partition(-per_minute, most - 1, axis=1)[:, most - 1]
        keep = sold & (per_minute >= threshold[:, None])
    else:
        keep = sold
    rows, cols = np.nonzero(keep)
    order = np.lexsort((cols, -per_minute[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(rows, rows, side="left")
    place = np.arange(rows.size) - first
    rows, cols, place = rows[place < most], cols[place < most], place[place < most]
    took = minutes[rows, cols]
    total = np.cumsum(took)
    before = np.concatenate(([0], total))[np.searchsorted(rows, rows, side="left")]
    fits = (total - before <= session_minutes) & (place < max_products)
    rows, cols = rows[fits], cols[fits]
    return rows + start, cols, took[fits], units[rows, cols], gmv[rows, cols]
