"""Candidates for a session: every product, eligible or why not, with its role, slot minutes
and expected sales for this anchor (all from `configs/session.yaml`).

Money stays integer fen: the model estimates whole units (a float estimate, rounded down and
capped by stock); GMV is units × live price in fen, and commission and the team leader's
income are that times an exact rate, rounded half up to the fen.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from haowu_cli.formats import percent_ppm
from haowu_cli.grading import LEVEL_RANK
from haowu_cli.i18n import _
from haowu_cli.planner.brief import SessionBrief
from haowu_cli.planner.rules import SessionRules

PPM = 1_000_000  # rates are DECIMAL(9,6): whole millionths


def candidate_frame(
    products: pl.DataFrame,
    anchor: dict,
    session: SessionBrief,
    rules: SessionRules,
    *,
    pace: pl.Expr | None = None,
) -> pl.DataFrame:
    """One row per product: `eligible`, `reason` (why not), `role`, `minutes`,
    `expected_units`, `expected_gmv_fen`, `commission_fen`, `team_income_fen`.

    `products` are stored products with their latest `level` and `sales_strength`
    (`store.planning_products`); `anchor` a stored anchor row. `pace`: a multiplier of the
    expected GMV over the columns `role` and `category_l1` (a replan's observed pace).
    """
    ticket = anchor.get("avg_ticket_fen")
    frame = products.with_columns(
        _price_to_ticket(pl.lit(ticket, dtype=pl.Int64)).alias("price_to_ticket")
    )
    frame = eligibility_columns(frame, session)
    categories = list(anchor.get("categories") or [])
    matches = (
        pl.col("category_l1").is_in(categories).fill_null(False)
        | pl.col("category_l2").is_in(categories).fill_null(False)
        | pl.col("category_l3").is_in(categories).fill_null(False)
    )
    return sales_columns(
        frame,
        rules,
        gmv_per_hour_fen=pl.lit(anchor.get("gmv_per_hour_fen"), dtype=pl.Int64),
        category_match=matches,
        pace=pace,
    )


def eligibility_columns(products: pl.DataFrame, session: SessionBrief) -> pl.DataFrame:
    """What does not depend on the anchor: `commission_ppm`, `service_fee_ppm`, `reason`
    (why a product is not eligible, or null) and `eligible`."""
    frame = products.with_columns(
        (pl.col("commission_rate") * PPM).cast(pl.Int64).alias("commission_ppm"),
        # No service fee set: the team leader earns nothing on the product.
        (pl.col("service_fee_rate") * PPM).cast(pl.Int64).fill_null(0).alias("service_fee_ppm"),
    )
    frame = frame.with_columns(_reason(session).alias("reason"))
    return frame.with_columns(pl.col("reason").is_null().alias("eligible"))


def sales_columns(
    frame: pl.DataFrame,
    rules: SessionRules,
    *,
    gmv_per_hour_fen: pl.Expr,
    category_match: pl.Expr,
    pace: pl.Expr | None = None,
) -> pl.DataFrame:
    """The expected-sales model on rows of (product, anchor): `role`, `minutes`,
    `expected_units`, `expected_gmv_fen`, `commission_fen`, `team_income_fen`. The rows hold
    `price_to_ticket` (`price_to_ticket_column`) and the product columns of
    `eligibility_columns`; the anchor's GMV per hour (null or 0: session.yaml's default) and
    whether it sells the product's category are expressions, so that one frame may hold one
    anchor (the planner) or many (`haowu match anchors`)."""
    frame = unit_columns(
        frame, rules, gmv_per_hour_fen=gmv_per_hour_fen, category_match=category_match, pace=pace
    )
    frame = frame.with_columns(_role(rules).alias("role")).drop("_rule")
    return money_columns(frame, rules)


def unit_columns(
    frame: pl.DataFrame,
    rules: SessionRules,
    *,
    gmv_per_hour_fen: pl.Expr,
    category_match: pl.Expr,
    pace: pl.Expr | None = None,
) -> pl.DataFrame:
    """The model's units: `_rule` (the index of the product's role rule), `minutes`,
    `expected_units` and `expected_gmv_fen` (see `sales_columns`). `pace` (a replan's) reads
    the columns `role` and `category_l1`."""
    frame = frame.with_columns(_rule_index(rules).alias("_rule"))
    frame = frame.with_columns(
        pl.col("_rule")
        .replace_strict({i: r.minutes for i, r in enumerate(rules.roles)}, return_dtype=pl.Int64)
        .alias("minutes"),
    )
    if pace is not None:
        frame = frame.with_columns(_role(rules).alias("role"))
    default = rules.sales.default_gmv_per_hour_fen
    gmv_per_hour = (
        pl.when(gmv_per_hour_fen.is_null() | (gmv_per_hour_fen == 0))
        .then(pl.lit(default, dtype=pl.Int64))
        .otherwise(gmv_per_hour_fen)
    )
    units = _expected_units(rules, category_match, gmv_per_hour, pace)
    frame = frame.with_columns(units.alias("expected_units"))
    return frame.with_columns(
        (pl.col("expected_units") * pl.col("live_price_fen")).alias("expected_gmv_fen")
    )


def money_columns(frame: pl.DataFrame, rules: SessionRules) -> pl.DataFrame:
    """`commission_fen` (the anchor's 佣金) and `team_income_fen` (团长服务费, net of the
    platform's cut) of each row's `expected_gmv_fen`, rounded half up to the fen."""
    cut_ppm = rules.service_fee_cut_ppm
    gmv = pl.col("expected_gmv_fen").cast(pl.Int128)
    return frame.with_columns(
        ((gmv * pl.col("commission_ppm") + PPM // 2) // PPM).cast(pl.Int64).alias("commission_fen"),
        ((gmv * pl.col("service_fee_ppm") * (PPM - cut_ppm) + PPM * PPM // 2) // (PPM * PPM))
        .cast(pl.Int64)
        .alias("team_income_fen"),
    )


def price_to_ticket_column(avg_ticket_fen: pl.Expr) -> pl.Expr:
    """Live price ÷ the anchor's average ticket (客单价); null when the anchor has none."""
    return _price_to_ticket(avg_ticket_fen).alias("price_to_ticket")


def objective_column(objective: str) -> str:
    return {"gmv": "expected_gmv_fen", "commission": "commission_fen"}.get(
        objective, "team_income_fen"
    )


def _price_to_ticket(avg_ticket_fen: pl.Expr) -> pl.Expr:
    return (
        pl.when(avg_ticket_fen.is_not_null() & (avg_ticket_fen != 0))
        .then(pl.col("live_price_fen") / avg_ticket_fen.cast(pl.Float64))
        .otherwise(pl.lit(None, dtype=pl.Float64))
    )


def _reason(session: SessionBrief) -> pl.Expr:
    """Why a product is not eligible (the first filter it fails), or null."""
    level_rank = pl.col("level").replace_strict(LEVEL_RANK, default=None, return_dtype=pl.Int64)
    min_rate = session.min_commission_rate
    checks = [
        (
            pl.col("product_id").is_in(list(session.exclude_products)),
            pl.lit(_("excluded by exclude_products")),
        ),
        (
            pl.col("merchant_id").is_in(list(session.exclude_merchants)),
            pl.lit(_("merchant "))
            + pl.col("merchant_id")
            + pl.lit(_(" excluded by exclude_merchants")),
        ),
    ]
    if session.merchants:
        checks.append(
            (
                ~pl.col("merchant_id").is_in(list(session.merchants)),
                pl.lit(_("merchant "))
                + pl.col("merchant_id")
                + pl.lit(_(" is not among the brief's merchants")),
            )
        )
    if session.brands:
        checks.append(
            (
                ~pl.col("brand").fill_null("").is_in(list(session.brands)),
                pl.lit(_("brand "))
                + pl.col("brand").fill_null("—")
                + pl.lit(_(" is not among the brief's brands")),
            )
        )
    if session.only_categories:
        wanted = list(session.only_categories)
        checks.append(
            (
                ~(
                    pl.col("category_l1").is_in(wanted).fill_null(False)
                    | pl.col("category_l2").is_in(wanted).fill_null(False)
                    | pl.col("category_l3").is_in(wanted).fill_null(False)
                ),
                pl.lit(_("category "))
                + pl.col("category_l1").fill_null("—")
                + pl.lit(_(" is not among the brief's categories")),
            )
        )
    checks += [
        (pl.col("level").is_null(), pl.lit(_("not graded yet (run haowu grade)"))),
        (
            level_rank < LEVEL_RANK[session.min_level],
            pl.lit(_("level "))
            + pl.col("level")
            + pl.lit(_(" is below min_level {level}").format(level=session.min_level)),
        ),
        (pl.col("commission_rate").is_null(), pl.lit(_("no commission rate"))),
        (
            pl.col("commission_ppm") < int(min_rate * PPM),
            pl.lit(_("commission "))
            + percent_ppm(pl.col("commission_ppm"))
            + pl.lit(_(" is below min_commission_rate {rate}").format(rate=percent_text(min_rate))),
        ),
        (
            pl.lit(session.require_sample) & ~pl.col("sample").fill_null(False),
            pl.lit(_("no sample (require_sample)")),
        ),
        (
            pl.col("live_price_fen").is_null() | (pl.col("live_price_fen") <= 0),
            pl.lit(_("no live price")),
        ),
        (pl.col("stock").is_null() | (pl.col("stock") <= 0), pl.lit(_("out of stock"))),
    ]
    expr: Any = pl.when(checks[0][0]).then(checks[0][1])
    for condition, reason in checks[1:]:
        expr = expr.when(condition.fill_null(False)).then(reason)
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def percent_text(rate: Decimal) -> str:
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


def _rule_index(rules: SessionRules) -> pl.Expr:
    """The index of the first role rule a product meets (the last rule meets every one)."""
    values = {
        "price_to_ticket": pl.col("price_to_ticket"),
        "live_price": pl.col("live_price_fen") / 100,
        "commission_rate": pl.col("commission_ppm") / PPM,
        "sales_strength": pl.col("sales_strength"),
    }
    expr: Any = None
    for index, rule in enumerate(rules.roles):
        condition = pl.lit(True)
        for name, (low, high) in rule.conditions.items():
            if low is not None:
                condition = condition & (values[name] >= low).fill_null(False)
            if high is not None:
                condition = condition & (values[name] <= high).fill_null(False)
        expr = (pl.when(condition) if expr is None else expr.when(condition)).then(index)
    assert expr is not None  # session.yaml has at least one role
    return expr.otherwise(len(rules.roles) - 1)


def _role(rules: SessionRules) -> pl.Expr:
    """The role of the product's role rule (`_rule`)."""
    return pl.col("_rule").replace_strict(
        {i: r.role for i, r in enumerate(rules.roles)}, return_dtype=pl.String
    )


def _expected_units(
    rules: SessionRules,
    category_match: pl.Expr,
    gmv_per_hour_fen: pl.Expr,
    pace: pl.Expr | None = None,
) -> pl.Expr:
    model = rules.sales
    strength = model.strength_low + (model.strength_high - model.strength_low) * pl.col(
        "sales_strength"
    ).fill_null(0.0)
    affinity = pl.when(category_match).then(model.affinity_match).otherwise(model.affinity_other)
    fit = _curve(pl.col("price_to_ticket"), model.price_fit).fill_null(1.0)
    gmv_fen = pl.col("minutes") * (gmv_per_hour_fen / 60) * strength * affinity * fit
    if pace is not None:
        gmv_fen = gmv_fen * pace
    units = (gmv_fen / pl.col("live_price_fen")).floor().cast(pl.Int64)
    return (
        pl.when(pl.col("live_price_fen") > 0)
        .then(pl.min_horizontal(units, pl.col("stock").clip(lower_bound=0)))
        .otherwise(0)
        .fill_null(0)
    )


def _curve(value: pl.Expr, points: tuple[tuple[float, float], ...]) -> pl.Expr:
    """Straight lines between points; flat before the first and after the last; null where
    the value is null (a when-chain would give it the last point's y)."""
    (x0, y0) = points[0]
    expr: Any = (
        pl.when(value.is_null()).then(pl.lit(None, dtype=pl.Float64)).when(value <= x0).then(y0)
    )
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        expr = expr.when(value <= xb).then(ya + (value - xa) * ((yb - ya) / (xb - xa)))
    return expr.otherwise(pl.lit(points[-1][1]))


def price_fit(rules: SessionRules, price_to_ticket: pl.Expr) -> pl.Expr:
    """The expected-sales model's price-fit multiplier (session.yaml `price_fit`) at this
    price-to-ticket; null where it is null."""
    return _curve(price_to_ticket, rules.sales.price_fit)
