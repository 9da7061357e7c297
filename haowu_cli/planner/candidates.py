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

from haowu_cli.errors import HaowuError
from haowu_cli.formats import percent_ppm
from haowu_cli.grading import LEVEL_RANK
from haowu_cli.i18n import _
from haowu_cli.planner.brief import SessionBrief
from haowu_cli.planner.rules import SessionRules

PPM = 1_000_000  # rates are DECIMAL(9,6): whole millionths
CATEGORY_LEVELS = ("category_l1", "category_l2", "category_l3")


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
    frame = frame.with_columns(category_key_column(session, frame))
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
    (why a product is not eligible, for people, or null), `reason_code` (the same as a stable
    English code for machine output: `REASON_CODES`) and `eligible`."""
    frame = products.with_columns(
        (pl.col("commission_rate") * PPM).cast(pl.Int64).alias("commission_ppm"),
        # No service fee set: the team leader earns nothing on the product.
        (pl.col("service_fee_rate") * PPM).cast(pl.Int64).fill_null(0).alias("service_fee_ppm"),
    )
    checks = _checks(session)
    frame = frame.with_columns(
        _first(checks, text=True).alias("reason"), _first(checks, text=False).alias("reason_code")
    )
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


REASON_CODES = (
    "excluded_product",
    "excluded_merchant",
    "merchant_not_in_brief",
    "brand_not_in_brief",
    "category_not_in_brief",
    "not_graded",
    "below_min_level",
    "no_commission_rate",
    "below_min_commission_rate",
    "no_sample",
    "no_live_price",
    "out_of_stock",
)


def _checks(session: SessionBrief) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """The brief's filters in order: (fails, code in REASON_CODES, why for people)."""
    level_rank = pl.col("level").replace_strict(LEVEL_RANK, default=None, return_dtype=pl.Int64)
    min_rate = session.min_commission_rate
    checks = [
        (
            pl.col("product_id").is_in(list(session.exclude_products)),
            "excluded_product",
            pl.lit(_("excluded by exclude_products")),
        ),
        (
            pl.col("merchant_id").is_in(list(session.exclude_merchants)),
            "excluded_merchant",
            pl.lit(_("merchant "))
            + pl.col("merchant_id")
            + pl.lit(_(" excluded by exclude_merchants")),
        ),
    ]
    if session.merchants:
        checks.append(
            (
                ~pl.col("merchant_id").is_in(list(session.merchants)),
                "merchant_not_in_brief",
                pl.lit(_("merchant "))
                + pl.col("merchant_id")
                + pl.lit(_(" is not among the brief's merchants")),
            )
        )
    if session.brands:
        checks.append(
            (
                ~pl.col("brand").fill_null("").is_in(list(session.brands)),
                "brand_not_in_brief",
                pl.lit(_("brand "))
                + pl.col("brand").fill_null("—")
                + pl.lit(_(" is not among the brief's brands")),
            )
        )
    if session.only_categories:
        checks.append(
            (
                ~pl.any_horizontal([in_category(key) for key in session.only_categories]),
                "category_not_in_brief",
                pl.lit(_("category "))
                + pl.col("category_l1").fill_null("—")
                + pl.lit(_(" is not among the brief's categories")),
            )
        )
    checks += [
        (pl.col("level").is_null(), "not_graded", pl.lit(_("not graded yet (run haowu grade)"))),
        (
            level_rank < LEVEL_RANK[session.min_level],
            "below_min_level",
            pl.lit(_("level "))
            + pl.col("level")
            + pl.lit(_(" is below min_level {level}").format(level=session.min_level)),
        ),
        (
            pl.col("commission_rate").is_null(),
            "no_commission_rate",
            pl.lit(_("no commission rate")),
        ),
        (
            pl.col("commission_ppm") < int(min_rate * PPM),
            "below_min_commission_rate",
            pl.lit(_("commission "))
            + percent_ppm(pl.col("commission_ppm"))
            + pl.lit(_(" is below min_commission_rate {rate}").format(rate=percent_text(min_rate))),
        ),
        (
            pl.lit(session.require_sample) & ~pl.col("sample").fill_null(False),
            "no_sample",
            pl.lit(_("no sample (require_sample)")),
        ),
        (
            pl.col("live_price_fen").is_null() | (pl.col("live_price_fen") <= 0),
            "no_live_price",
            pl.lit(_("no live price")),
        ),
        (
            pl.col("stock").is_null() | (pl.col("stock") <= 0),
            "out_of_stock",
            pl.lit(_("out of stock")),
        ),
    ]
    return checks


def _first(checks: list[tuple[pl.Expr, str, pl.Expr]], *, text: bool) -> pl.Expr:
    """The first failed check's text (`text`) or code, or null when none fails."""
    expr = pl.lit(None, dtype=pl.String)
    for condition, code, why in reversed(checks):  # built from the last: the first one wins
        expr = (
            pl.when(condition.fill_null(False)).then(why if text else pl.lit(code)).otherwise(expr)
        )
    return expr


def category_parts(key: str) -> list[str]:
    """A brief's category as levels: `美妆>护肤>面霜` (or `＞`) a path from the first level,
    any other name one level's name."""
    parts = [part.strip() for part in key.replace("＞", ">").split(">")]
    # Deeper than three levels: the rest is the third, as an imported path keeps it.
    return parts[:2] + [">".join(parts[2:])] if len(parts) > 3 else parts


def in_category(key: str) -> pl.Expr:
    """Whether a product is in a brief's category: a name at any of its three levels
    (`面霜` is a category_l3 as well as `美妆` a category_l1), or a path (`美妆>护肤`) from
    its first level down."""
    parts = category_parts(key)
    if len(parts) == 1:
        return pl.any_horizontal(
            pl.col(level).eq(parts[0]).fill_null(False) for level in CATEGORY_LEVELS
        )
    return pl.all_horizontal(
        pl.col(level).eq(part).fill_null(False)
        for level, part in zip(CATEGORY_LEVELS, parts, strict=False)
    )


def category_key_column(session: SessionBrief, frame: pl.DataFrame) -> pl.Expr:
    """`category_key`: the brief's bounded category (a key of `categories`: a name at any
    level, or a path) a product counts towards, null for none. The keys may not overlap
    among the eligible products: a product in two of them is refused, naming both."""
    keys = list(session.categories)
    if not keys:
        return pl.lit(None, dtype=pl.String).alias("category_key")
    hits = frame.select(
        "product_id", "eligible", *(in_category(k).alias(f"_in{i}") for i, k in enumerate(keys))
    )
    both = hits.filter(
        pl.col("eligible") & (pl.sum_horizontal(pl.col(f"_in{i}") for i in range(len(keys))) > 1)
    )
    if both.height:
        row = both.row(0, named=True)
        names = [k for i, k in enumerate(keys) if row[f"_in{i}"]]
        raise HaowuError(
            _(
                "the brief's categories {first} and {second} overlap: product {product} is in both"
            ).format(first=names[0], second=names[1], product=row["product_id"]),
            hint=_(
                "bound categories that do not contain each other (one level, or paths such as "
                "美妆>护肤 and 美妆>彩妆)"
            ),
        )
    expr: Any = None
    for key in keys:
        expr = (pl.when(in_category(key)) if expr is None else expr.when(in_category(key))).then(
            pl.lit(key)
        )
    return expr.otherwise(pl.lit(None, dtype=pl.String)).alias("category_key")


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
