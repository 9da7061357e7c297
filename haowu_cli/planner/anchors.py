"""Matching anchors to a merchant's goods (`haowu match anchors --merchant M`).

For every anchor, a session of the merchant's eligible products is filled by the planner's own
expected-sales model (`candidates.sales_columns`): the products in order of expected GMV per
minute (ties by product ID), as long as their slot minutes fit the session's minutes and their
count its `products.max` (session.yaml defaults). Its expected GMV, the commission the anchor
would earn and the team leader's income are sums of whole fen.

The fit (0–1) is the weighted mean of the factors `configs/match.yaml` weighs (`anchors.weights`),
each 0–1, over the merchant's eligible products; a factor the data cannot tell (no average
ticket, no fan profile, no audience for the categories) is left out of the mean:

    category      share of the products with a category (any of three levels) the anchor sells
    price         the price fit of the products' middle live price at the anchor's average
                  ticket (the model's `price_fit` curve, divided by its highest point)
    female_share  1 − |the anchor's female share − the audience's| (mean over the products
                  whose category has an audience)
    age_band      share of those products whose audience's age bands hold the anchor's band
    history       sessions the anchor sold the merchant's category_l1s in, over
                  `history_full_sessions` (at most 1)

Anchors rank by score = expected GMV × (1 − fit_weight + fit_weight × fit), then expected GMV,
then anchor ID. With a goal, the ranked anchors give sessions in rounds, one each in rank
order, the merchant's stock shared by them all, until the sessions' expected GMV reaches the
goal (or `goal_max_sessions` or the stock runs out, or a round sells nothing more: the goal is
then unreachable).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from haowu_cli import store as db
from haowu_cli.config import ConfigDoc, load_config_file, number, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError, HaowuError
from haowu_cli.i18n import _
from haowu_cli.planner.anchor_sessions import all_sessions
from haowu_cli.planner.brief import SessionBrief, resolve_brief
from haowu_cli.planner.candidates import (
    eligibility_columns,
    money_columns,
    price_fit,
    price_to_ticket_column,
    unit_columns,
)
from haowu_cli.planner.rules import SessionRules

MATCH_FILE = "match.yaml"
MATCH_SECTIONS = {"potential", "anchors", "audience"}
FACTORS = ("category", "price", "female_share", "age_band", "history")
ANCHOR_KEYS = {"weights", "fit_weight", "history_full_sessions", "goal_max_sessions"}
DEFAULT_WEIGHTS = {
    "category": 0.25,
    "price": 0.15,
    "female_share": 0.2,
    "age_band": 0.2,
    "history": 0.2,
}

LEVELS = ("category_l1", "category_l2", "category_l3")  # a product's category levels


@dataclass(frozen=True)
class Audience:
    """The fans a category sells to (粉丝画像): their female share and age bands."""

    female_share: float
    age_bands: tuple[str, ...]


@dataclass(frozen=True)
class AnchorModel:
    """`anchors:` and `audience:` of match.yaml."""

    weights: dict[str, float]
    fit_weight: float = 0.5
    history_full_sessions: int = 5
    goal_max_sessions: int = 30
    audience: dict[str, Audience] = field(default_factory=dict)


def load_anchor_model(config_dir: Path) -> AnchorModel:
    """The anchor-matching model of match.yaml, checked; every problem reported at once."""
    doc = load_config_file(config_dir, MATCH_FILE)
    problems: list[str] = []
    data = top_level(doc, MATCH_SECTIONS, problems)
    section = data.get("anchors", {})
    path = ("anchors",)
    if not isinstance(section, dict):
        problems.append(_("{where}: expected a mapping").format(where=doc.where(*path)))
        section = {}
    unknown_keys(doc, section, path, ANCHOR_KEYS, problems)
    weights = _weights(doc, section.get("weights", DEFAULT_WEIGHTS), problems)
    model = AnchorModel(
        weights=weights,
        fit_weight=number(
            doc,
            (*path, "fit_weight"),
            section.get("fit_weight", 0.5),
            problems,
            low=0,
            high=1,
            what=_("a share from 0 to 1"),
        ),
        history_full_sessions=whole(
            doc,
            (*path, "history_full_sessions"),
            section.get("history_full_sessions", 5),
            problems,
            low=1,
            high=10_000,
            what=_("a whole number of sessions from 1 to 10000"),
        ),
        goal_max_sessions=whole(
            doc,
            (*path, "goal_max_sessions"),
            section.get("goal_max_sessions", 30),
            problems,
            low=1,
            high=10_000,
            what=_("a whole number of sessions from 1 to 10000"),
        ),
        audience=_audience(doc, data.get("audience", {}), problems),
    )
    if problems:
        raise ConfigError(problems)
    return model


def _weights(doc: ConfigDoc, section: Any, problems: list[str]) -> dict[str, float]:
    path = ("anchors", "weights")
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected a weight per factor ({factors})").format(
                where=doc.where(*path), factors=", ".join(FACTORS)
            )
        )
        return dict(DEFAULT_WEIGHTS)
    unknown_keys(doc, section, path, set(FACTORS), problems)
    weights = {
        name: number(
            doc,
            (*path, name),
            section.get(name, 0),
            problems,
            low=0,
            what=_("a weight ≥ 0"),
        )
        for name in FACTORS
    }
    if not any(w > 0 for w in weights.values()):
        problems.append(
            _("{where}: at least one factor must weigh more than 0").format(where=doc.where(*path))
        )
    return weights


def _audience(doc: ConfigDoc, section: Any, problems: list[str]) -> dict[str, Audience]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected category: {{female_share: …, age_bands: […]}}").format(
                where=doc.where("audience")
            )
        )
        return {}
    found: dict[str, Audience] = {}
    for category, spec in section.items():
        path = ("audience", str(category))
        if not isinstance(spec, dict):
            problems.append(
                _("{where}: expected {{female_share: …, age_bands: […]}}").format(
                    where=doc.where(*path)
                )
            )
            continue
        unknown_keys(doc, spec, path, {"female_share", "age_bands"}, problems)
        share = number(
            doc,
            (*path, "female_share"),
            spec.get("female_share"),
            problems,
            low=0,
            high=1,
            what=_("a share from 0 to 1"),
        )
        bands = spec.get("age_bands", [])
        if not isinstance(bands, list) or not all(
            isinstance(b, str | int) and str(b).strip() for b in bands
        ):
            problems.append(
                _("{where}: expected a list of age bands such as 25-34").format(
                    where=doc.where(*path, "age_bands")
                )
            )
            bands = []
        found[str(category)] = Audience(share, tuple(age_band_key(str(b)) for b in bands))
    return found


def age_band_key(text: str) -> str:
    """An age band as compared: NFKC, no spaces, any dash or 至/~ as "-" ("２５～３４" is
    "25-34")."""
    text = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    for dash in ("~", "～", "—", "–", "至", "到"):
        text = text.replace(dash, "-")
    return text


# --- the result ---------------------------------------------------------------------------------


@dataclass
class GoalSession:
    anchor_id: str
    expected_gmv_fen: int
    commission_fen: int
    cumulative_gmv_fen: int


@dataclass
class Goal:
    goal_fen: int
    reachable: bool
    sessions: list[GoalSession]
    expected_gmv_fen: int
    max_sessions: int
    stopped_by: str  # reached | max_sessions | anchors | stock

    @property
    def shortfall_fen(self) -> int:
        return max(0, self.goal_fen - self.expected_gmv_fen)


@dataclass
class AnchorMatch:
    merchant_id: str
    date: dt.date
    products: int  # the merchant's products considered
    eligible: int  # of them, eligible under the brief defaults
    not_eligible: dict[str, int]  # why not (a stable code, candidates.REASON_CODES) -> how many
    why_not_eligible: dict[str, int]  # the same for people: why not, in words -> how many
    session_minutes: int
    session_max_products: int
    anchors: pl.DataFrame  # ranked (ANCHOR_COLUMNS)
    goal: Goal | None = None


ANCHOR_COLUMNS = (
    "rank",
    "anchor_id",
    "anchor_name",
    "score",
    "fit",
    "expected_gmv_fen",
    "commission_fen",
    "team_income_fen",
    "session_products",
    "session_minutes",
    "gmv_per_hour_fen",
    "gmv_per_hour_default",
    "avg_ticket_fen",
    "median_price_fen",
    "price_to_ticket",
    "categories_matched",
    "category_score",
    "price_score",
    "female_share",
    "audience_female_share",
    "female_share_score",
    "age_band",
    "audience_age_bands",
    "age_band_score",
    "history_sessions",
    "history_orders",
    "merchant_orders",
    "history_score",
)


# --- reading and ranking ------------------------------------------------------------------------


def match_anchors(
    store: db.Store,
    rules: SessionRules,
    model: AnchorModel,
    merchant_id: str | None,
    *,
    on: dt.date,
    product_ids: Sequence[str] = (),
    goal_fen: int | None = None,
    brand: str | None = None,
) -> AnchorMatch:
    """Every anchor ranked for the merchant's products (those of `brand` when given, and of
    `product_ids`). With a brand and no merchant, the brand's merchant (it must have one)."""
    with store.read() as con:
        # The merchant's products only; their sales strength is still over every product.
        own = db.match_query(
            con,
            db.Query(
                "SELECT * FROM {products} WHERE ($m_merchant IS NULL OR merchant_id = $m_merchant)"
                " AND ($m_brand IS NULL OR brand = $m_brand) ORDER BY product_id",
                {"m_merchant": merchant_id, "m_brand": brand},
            ),
            today=on,
        )
        merchant_id = _one_merchant(own, merchant_id, brand)
        anchors = db.query_anchors(con)
        categories = sorted(own["category_l1"].drop_nulls().unique().to_list())
        history = db.anchor_history(con, categories, merchant_id, until=on)
    if own.is_empty():
        raise HaowuError(
            _("merchant {merchant} has no products in the database").format(merchant=merchant_id),
            hint=_("haowu merchants lists them"),
        )
    if product_ids:
        wanted = list(dict.fromkeys(product_ids))
        missing = sorted(set(wanted) - set(own["product_id"].to_list()))
        if missing:
            raise HaowuError(
                _("not products of merchant {merchant}: {ids}").format(
                    merchant=merchant_id, ids=", ".join(missing)
                )
            )
        own = own.filter(pl.col("product_id").is_in(wanted))
    if anchors.is_empty():
        raise HaowuError(
            _("the database has no anchors"),
            hint=_("import the anchors sheet (haowu import --kind anchors FILE)"),
        )
    session = resolve_brief(rules, None, {"anchor": "-", "date": on}).sessions[0]
    return rank_anchors(own, anchors, history, session, rules, model, on=on, goal_fen=goal_fen)


def _one_merchant(own: pl.DataFrame, merchant_id: str | None, brand: str | None) -> str:
    """The merchant whose products are matched: the one named, or the brand's only one."""
    if brand is not None and own.is_empty():
        raise HaowuError(
            (
                _("merchant {merchant} has no products of brand {brand}")
                if merchant_id is not None
                else _("no product of brand {brand} is in the database")
            ).format(merchant=merchant_id, brand=brand),
            hint=_("haowu products --search {brand} lists them").format(brand=brand),
        )
    if merchant_id is not None:
        return merchant_id
    merchants = sorted(own["merchant_id"].unique().to_list())
    if len(merchants) > 1:
        raise HaowuError(
            _("brand {brand} is sold by several merchants: {merchants}").format(
                brand=brand, merchants=", ".join(merchants)
            ),
            hint=_("name one with --merchant"),
        )
    return str(merchants[0])


def rank_anchors(
    products: pl.DataFrame,
    anchors: pl.DataFrame,
    history: pl.DataFrame,
    session: SessionBrief,
    rules: SessionRules,
    model: AnchorModel,
    *,
    on: dt.date,
    goal_fen: int | None = None,
) -> AnchorMatch:
    """The ranking itself, on frames: `products` one merchant's (`store.planning_products`
    rows), `anchors` stored anchor rows, `history` `store.anchor_history` rows."""
    checked = eligibility_columns(products, session)
    left_out = checked.filter(~pl.col("eligible"))
    codes = left_out.group_by("reason_code").len().sort("reason_code")
    not_eligible = {str(r): int(n) for r, n in codes.iter_rows()}
    reasons = left_out.group_by("reason").len().sort("reason")
    why = {str(r): int(n) for r, n in reasons.iter_rows()}
    eligible = checked.filter(pl.col("eligible")).sort("product_id")
    merchant_id = str(products["merchant_id"][0])
    result = AnchorMatch(
        merchant_id=merchant_id,
        date=on,
        products=products.height,
        eligible=eligible.height,
        not_eligible=not_eligible,
        why_not_eligible=why,
        session_minutes=session.minutes,
        session_max_products=_max_products(session),
        anchors=pl.DataFrame(),
    )
    if eligible.is_empty():
        shown = "; ".join(f"{reason} ({count})" for reason, count in why.items())
        raise HaowuError(
            _("no product of merchant {merchant} is eligible: {reasons}").format(
                merchant=merchant_id, reasons=shown
            ),
            hint=_("the brief defaults of configs/session.yaml decide (min_level and others)"),
        )
    people = _anchor_frame(anchors)
    goods = _goods_frame(eligible)
    sessions = _sessions(goods, people, session, rules)
    ranked = _rank(people, goods, sessions, history, rules, model)
    result.anchors = ranked
    if goal_fen is not None:
        result.goal = _allocate(goal_fen, ranked, goods, people, session, rules, model)
    return result


def _anchor_frame(anchors: pl.DataFrame) -> pl.DataFrame:
    return anchors.sort("anchor_id").select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("a_idx"),
        "anchor_id",
        pl.col("name").alias("anchor_name"),
        pl.col("female_share").cast(pl.Float64),
        pl.col("age_band"),
        pl.col("avg_ticket_fen").cast(pl.Int64),
        pl.col("gmv_per_hour_fen").cast(pl.Int64),
        pl.col("categories").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )


def _sessions(
    goods: pl.DataFrame, people: pl.DataFrame, session: SessionBrief, rules: SessionRules
) -> pl.DataFrame:
    """Per anchor (a_idx): the session of the merchant's goods the model expects it to sell:
    `expected_gmv_fen`, `commission_fen`, `team_income_fen`, `session_products`,
    `session_minutes` (0 for an anchor expected to sell none). Worked out for every anchor at
    once as matrices (`anchor_sessions`), the same as `_fill` over `_pairs` for each."""
    fewest = min(r.minutes for r in rules.roles)
    most = min(_max_products(session), session.minutes // fewest)
    return all_sessions(
        goods,
        people,
        _sells(goods, people),
        session,
        rules,
        most=most,
        max_products=_max_products(session),
    )


def _sells(goods: pl.DataFrame, people: pl.DataFrame) -> np.ndarray[Any, Any]:
    """Whether each anchor (rows, a_idx order) sells each of the goods' category
    combinations (columns, `combo` order): any of its three levels among the anchor's."""
    combos = goods.select("combo", *LEVELS).unique().sort("combo")
    width = combos.height  # the combinations are numbered 0 … width − 1 (`_goods_frame`)
    sells = (
        people.select("a_idx", "categories")
        .join(combos, how="cross")
        .sort("a_idx", "combo")
        .select(_held_category().alias("sells"))
        .to_series()
        .to_numpy()
    )
    return sells.reshape(people.height, width)


def _held_category() -> pl.Expr:
    """Whether the anchor's categories hold the product's category at any of its levels."""
    held = pl.col("categories").list
    return pl.any_horizontal([held.contains(pl.col(level)).fill_null(False) for level in LEVELS])


def _goods_frame(eligible: pl.DataFrame) -> pl.DataFrame:
    """The eligible products as the pairs read them, with `p_idx` (their order by product
    ID) and `combo` (the index of their three category levels among the merchant's)."""
    goods = eligible.sort("product_id").with_row_index("p_idx")
    combos = goods.select(*LEVELS).unique().sort(*LEVELS, nulls_last=True).with_row_index("combo")
    return (
        goods.join(combos, on=list(LEVELS), how="left", nulls_equal=True)
        .sort("p_idx")
        .select(
            "p_idx",
            "product_id",
            *LEVELS,
            "combo",
            "live_price_fen",
            "sales_strength",
            "stock",
            "commission_ppm",
            "service_fee_ppm",
        )
    )


def _pairs(goods: pl.DataFrame, people: pl.DataFrame, rules: SessionRules) -> pl.DataFrame:
    """Every (anchor, product), anchor after anchor and each anchor's products in `p_idx`
    order, with the planner's expected units and GMV (`candidates.unit_columns`)."""
    combos = goods.select("combo", *LEVELS).unique().sort("combo")
    local = people.select("a_idx", "avg_ticket_fen", "gmv_per_hour_fen", "categories")
    # Whether each anchor sells each of the merchant's category pairs, anchor-major.
    sells = (
        local.select("a_idx", "categories")
        .join(combos, how="cross")
        .select(_held_category().alias("sells"))
        .to_series()
    )
    pairs = (
        local.drop("categories")
        .with_row_index("a_local")
        .join(
            goods.select(
                "p_idx",
                "combo",
                "live_price_fen",
                "sales_strength",
                "stock",
                "commission_ppm",
            ),
            how="cross",
        )
    )
    pairs = pairs.with_columns(
        pl.lit(sells)
        .gather(pl.col("a_local").cast(pl.Int64) * combos.height + pl.col("combo"))
        .alias("a_match"),
        price_to_ticket_column(pl.col("avg_ticket_fen")),
    )
    return unit_columns(
        pairs,
        rules,
        gmv_per_hour_fen=pl.col("gmv_per_hour_fen"),
        category_match=pl.col("a_match"),
    )


def _fill(
    pairs: pl.DataFrame, goods: pl.DataFrame, session: SessionBrief, rules: SessionRules
) -> pl.DataFrame:
    """Per anchor, the products with expected sales in order of expected GMV per minute
    (ties by product ID) while their minutes fit the session and their count its maximum;
    with the commission and team income of each (`candidates.money_columns`)."""
    fewest = min(r.minutes for r in rules.roles)
    most = min(_max_products(session), session.minutes // fewest)
    sold = pairs.filter(pl.col("expected_gmv_fen") > 0).select(
        "a_idx",
        "p_idx",
        "minutes",
        "expected_units",
        "expected_gmv_fen",
        (pl.col("expected_gmv_fen") / pl.col("minutes")).alias("_per_minute"),
    )
    # Rows come anchor after anchor, products in p_idx order: a stable sort on GMV per
    # minute within each anchor keeps product order for ties. No session holds more than
    # `most` products, so only that many per anchor are ordered further.
    best = (
        sold.group_by("a_idx", maintain_order=True)
        .agg(pl.all().sort_by("_per_minute", descending=True, maintain_order=True).head(most))
        .explode([c for c in sold.columns if c != "a_idx"])
    )
    taken = best.filter(
        (pl.col("minutes").cum_sum().over("a_idx") <= session.minutes)
        & (pl.int_range(pl.len()).over("a_idx") < _max_products(session))
    )
    rates = goods.select("p_idx", "commission_ppm", "service_fee_ppm")
    return money_columns(taken.join(rates, on="p_idx", how="left"), rules)


def _max_products(session: SessionBrief) -> int:
    """The session's most products (`products.max`; with none, one a minute)."""
    return session.products.max if session.products.max is not None else session.minutes


def _totals(taken: pl.DataFrame) -> pl.DataFrame:
    return taken.group_by("a_idx").agg(
        pl.col("expected_gmv_fen").sum(),
        pl.col("commission_fen").sum(),
        pl.col("team_income_fen").sum(),
        pl.len().cast(pl.Int64).alias("session_products"),
        pl.col("minutes").sum().cast(pl.Int64).alias("session_minutes"),
    )


def _rank(
    people: pl.DataFrame,
    goods: pl.DataFrame,
    sessions: pl.DataFrame,
    history: pl.DataFrame,
    rules: SessionRules,
    model: AnchorModel,
) -> pl.DataFrame:
    frame = people.join(sessions, on="a_idx", how="left")
    frame = frame.join(
        history.select(
            "anchor_id",
            pl.col("sessions").alias("history_sessions"),
            pl.col("orders").alias("history_orders"),
            "merchant_orders",
        ),
        on="anchor_id",
        how="left",
    ).with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64)
        for c in ("history_sessions", "history_orders", "merchant_orders")
    )
    frame = frame.with_columns(
        *_category_columns(goods),
        *_fan_columns(goods, model),
        pl.lit(_median_fen(goods), dtype=pl.Int64).alias("median_price_fen"),
    )
    frame = frame.with_columns(
        (pl.col("gmv_per_hour_fen").is_null() | (pl.col("gmv_per_hour_fen") == 0)).alias(
            "gmv_per_hour_default"
        ),
        pl.when(pl.col("gmv_per_hour_fen").is_null() | (pl.col("gmv_per_hour_fen") == 0))
        .then(pl.lit(rules.sales.default_gmv_per_hour_fen, dtype=pl.Int64))
        .otherwise(pl.col("gmv_per_hour_fen"))
        .alias("gmv_per_hour_fen"),
        pl.when(pl.col("avg_ticket_fen") > 0)
        .then(pl.col("median_price_fen") / pl.col("avg_ticket_fen"))
        .alias("price_to_ticket"),
        (
            price_fit(
                rules,
                pl.when(pl.col("avg_ticket_fen") > 0).then(
                    pl.col("median_price_fen") / pl.col("avg_ticket_fen")
                ),
            )
            / (max(y for _, y in rules.sales.price_fit) or 1.0)
        )
        .clip(upper_bound=1.0)
        .alias("price_score"),
        (pl.col("history_sessions") / model.history_full_sessions)
        .clip(upper_bound=1.0)
        .alias("history_score"),
    )
    scores = {
        "category": pl.col("category_score"),
        "price": pl.col("price_score"),
        "female_share": pl.col("female_share_score"),
        "age_band": pl.col("age_band_score"),
        "history": pl.col("history_score"),
    }
    weighted = [(s, model.weights[name]) for name, s in scores.items() if model.weights[name] > 0]
    total = pl.sum_horizontal([s * w for s, w in weighted])
    known = pl.sum_horizontal(
        [pl.when(s.is_not_null()).then(w).otherwise(0.0) for s, w in weighted]
    )
    fit = pl.when(known > 0).then(total / known).otherwise(0.0)
    frame = frame.with_columns(fit.round(4).alias("fit"))
    keep = 1.0 - model.fit_weight
    frame = frame.with_columns(
        (pl.col("expected_gmv_fen") * (keep + model.fit_weight * pl.col("fit")) / 100)
        .round(2)
        .alias("score")
    )
    ranked = frame.sort(
        ["score", "expected_gmv_fen", "anchor_id"], descending=[True, True, False]
    ).with_row_index("rank", offset=1)
    return ranked.with_columns(
        *(pl.col(c).round(4) for c in ("category_score", "price_score", "female_share_score")),
        pl.col("age_band_score").round(4),
        pl.col("history_score").round(4),
        pl.col("price_to_ticket").round(2),
    ).select(*ANCHOR_COLUMNS, "a_idx")


def _median_fen(goods: pl.DataFrame) -> int:
    """The middle live price (the lower of the two middle ones: whole fen)."""
    prices = goods["live_price_fen"].sort().to_list()
    return int(prices[(len(prices) - 1) // 2])


def _category_columns(goods: pl.DataFrame) -> list[pl.Expr]:
    """`category_score` (share of the products with a category level the anchor sells) and
    `categories_matched` (those of the merchant's categories it sells)."""
    combos = goods.group_by(*LEVELS).len().sort(*LEVELS)
    has = pl.col("categories")
    parts = []
    for l1, l2, l3, count in combos.iter_rows():
        hit = pl.lit(False)
        for name in (l1, l2, l3):
            if name is not None:
                hit = hit | has.list.contains(pl.lit(name, dtype=pl.String))
        parts.append(hit.cast(pl.Int64) * count)
    names = sorted(
        set(goods["category_l1"].drop_nulls().to_list())
        | set(goods["category_l2"].drop_nulls().to_list())
        | set(goods["category_l3"].drop_nulls().to_list())
    )
    return [
        (pl.sum_horizontal(parts) / goods.height).alias("category_score"),
        has.list.set_intersection(pl.lit(names, dtype=pl.List(pl.String)))
        .list.sort()
        .alias("categories_matched"),
    ]


def _fan_columns(goods: pl.DataFrame, model: AnchorModel) -> list[pl.Expr]:
    """The anchor's fans (female share, age band) against the audience of the products'
    categories (category_l2's when match.yaml has it, else category_l1's)."""
    groups: dict[str, int] = {}
    for l1, l2 in goods.select("category_l1", "category_l2").iter_rows():
        key = l2 if l2 in model.audience else l1 if l1 in model.audience else None
        if key is not None:
            groups[key] = groups.get(key, 0) + 1
    counted = sum(groups.values())
    if not counted:
        none = pl.lit(None, dtype=pl.Float64)
        return [
            none.alias("audience_female_share"),
            none.alias("female_share_score"),
            pl.lit([], dtype=pl.List(pl.String)).alias("audience_age_bands"),
            none.alias("age_band_score"),
        ]
    audiences = sorted(groups.items())
    share = pl.col("female_share")
    band = (
        pl.col("age_band")
        .str.normalize("NFKC")
        .str.replace_all(r"\s", "")
        .str.replace_all("[~～—–至到]", "-")
    )
    target = sum(model.audience[k].female_share * n for k, n in audiences) / counted
    gender = pl.sum_horizontal(
        [(1 - (share - model.audience[k].female_share).abs()) * n for k, n in audiences]
    )
    ages = pl.sum_horizontal(
        [band.is_in(list(model.audience[k].age_bands)).cast(pl.Int64) * n for k, n in audiences]
    )
    bands = sorted({b for k, _ in audiences for b in model.audience[k].age_bands})
    return [
        pl.lit(round(target, 4)).alias("audience_female_share"),
        pl.when(share.is_not_null()).then(gender / counted).alias("female_share_score"),
        pl.lit(bands, dtype=pl.List(pl.String)).alias("audience_age_bands"),
        pl.when(band.is_not_null() & (band != "")).then(ages / counted).alias("age_band_score"),
    ]


def _allocate(
    goal_fen: int,
    ranked: pl.DataFrame,
    goods: pl.DataFrame,
    people: pl.DataFrame,
    session: SessionBrief,
    rules: SessionRules,
    model: AnchorModel,
) -> Goal:
    """Sessions in rounds until their expected GMV reaches the goal: each round the ranked
    anchors give one session each in rank order, the merchant's stock shared by every session
    (each sells from what the ones before left). It stops at `goal_max_sessions`, when the
    stock runs out, or when a whole round sells nothing more ("anchors"). A repeat session
    of an anchor is expected to sell as its first would on the stock left: no fatigue is
    modelled."""
    stock = goods["stock"].clip(lower_bound=0).to_list()
    goal = Goal(goal_fen, False, [], 0, model.goal_max_sessions, "anchors")
    order = [
        (a_idx, anchor_id)
        for a_idx, anchor_id, unshared in ranked.select(
            "a_idx", "anchor_id", "expected_gmv_fen"
        ).iter_rows()
        if unshared > 0
    ]
    sold = True
    while sold and goal.expected_gmv_fen < goal_fen:
        sold = False
        for a_idx, anchor_id in order:
            if goal.expected_gmv_fen >= goal_fen:
                break
            if len(goal.sessions) == model.goal_max_sessions:
                goal.stopped_by = "max_sessions"
                return goal
            if not any(stock):
                goal.stopped_by = "stock"
                return goal
            left = goods.with_columns(pl.Series("stock", stock, dtype=pl.Int64))
            one = people.filter(pl.col("a_idx") == a_idx)
            taken = _fill(_pairs(left, one, rules), left, session, rules)
            gmv = int(taken["expected_gmv_fen"].sum())
            if gmv <= 0:
                continue
            sold = True
            for index, units in taken.select("p_idx", "expected_units").iter_rows():
                stock[index] -= units
            goal.expected_gmv_fen += gmv
            goal.sessions.append(
                GoalSession(
                    anchor_id, gmv, int(taken["commission_fen"].sum()), goal.expected_gmv_fen
                )
            )
    goal.reachable = goal.expected_gmv_fen >= goal_fen
    if goal.reachable:
        goal.stopped_by = "reached"
    return goal


def yuan_to_fen(text: str) -> int | None:
    """An amount in yuan as a team leader writes it (500万, ¥5,000,000, 5000000.00) as whole
    fen; None when it is not one, or not above 0."""
    from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").lstrip("¥")
    scale = Decimal(1)
    if cleaned.endswith("万"):
        cleaned, scale = cleaned[:-1], Decimal(10_000)
    elif cleaned.endswith("元"):
        cleaned = cleaned[:-1]
    try:
        amount = Decimal(cleaned) * scale
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
