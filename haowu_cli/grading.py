"""Grading: the 快分销 five-dimension model, from `configs/grading.yaml` to levels L0–L5.

The model is data: each dimension (品牌力 brand, 价格力 price, 分销力 distribution, 服务力
service, 销售力 sales) reads a few inputs, scores each 0–100 by a percentile within a category
or by a curve, and averages them with weights; the total averages the dimensions; level rules
with gates turn the total into a level. This module checks the model and writes it as one SQL
query (DuckDB runs it over a million products in about a second), and explains a grade in
words a merchant understands. Grading is deterministic and monotone: a better input never
lowers a level (the model check refuses curves that go both ways and negative weights).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from haowu_cli.config import ConfigDoc, load_config_file, number, top_level, unknown_keys
from haowu_cli.errors import ConfigError
from haowu_cli.i18n import N_, _, ngettext
from haowu_cli.store.sql import Query

if TYPE_CHECKING:
    import polars as pl

    from haowu_cli.store.connection import Store

GRADING_FILE = "grading.yaml"
DIMENSIONS = ("brand", "price", "distribution", "service", "sales")
LEVELS = ("L5", "L4", "L3", "L2", "L1")  # L0 has its own rule
LEVEL_RANK = {"L0": 0, "L1": 1, "L2": 2, "L3": 3, "L4": 4, "L5": 5}
PARTITIONS = ("category_l1", "category_l2", "category_l3", "all")
# What L0 counts from (seed 001: 刚加入快分销14天以内): the product's 加入快分销 date; without
# one its listing date (with a warning); with neither, nothing (the product is flagged).
L0_BASES = ("joined_at", "listed_at", "none")


@dataclass(frozen=True)
class InputDef:
    """An input the model can read: its name for people (an English message id, shown
    through `_`) and its SQL over `products p`."""

    label: str
    sql: str
    unit: str  # yuan | fraction | count | hours | score | flag
    joins: str = ""  # a table of `INPUT_JOINS` its SQL reads beside `products p`
    # The stored column the input is the value of (only converted: to DOUBLE, fen to yuan),
    # when it orders the products exactly as the input does: the same order, the same ties
    # (distinct fen or decimals stay distinct doubles), null where the input is null. A
    # percentile ranks by it: sorting a stored integer or decimal is cheaper than working
    # out and sorting the double, and gives the same ranks.
    column: str = ""

    @property
    def rank_key(self) -> str:
        """What a percentile of this input sorts and counts by."""
        return self.column or f"({self.sql})"


# What an input reads beside the product's own row, joined to `products p` by name: a
# grouped total joined in costs one pass and a small hash table, where a window over the
# products would sort or partition every row again.
INPUT_JOINS = {
    "brands": "LEFT JOIN (SELECT brand, sum(gmv_30d_fen) AS gmv_30d_fen FROM products "
    "WHERE brand IS NOT NULL GROUP BY brand) brands ON brands.brand = p.brand",
}


INPUTS: dict[str, InputDef] = {
    "brand_gmv_30d": InputDef(
        N_("brand GMV, 30 days"),
        "CASE WHEN p.brand IS NOT NULL THEN brands.gmv_30d_fen / 100.0 END",
        "yuan",
        joins="brands",
    ),
    "has_brand": InputDef(N_("brand named"), "CASE WHEN p.brand IS NULL THEN 0 ELSE 1 END", "flag"),
    "discount": InputDef(
        N_("live-price discount"),
        "CASE WHEN p.list_price_fen > 0 THEN 1 - p.live_price_fen / p.list_price_fen::DOUBLE END",
        "fraction",
    ),
    "live_price": InputDef(
        N_("live price"), "p.live_price_fen / 100.0", "yuan", column="p.live_price_fen"
    ),
    "commission_rate": InputDef(
        N_("commission rate"), "p.commission_rate::DOUBLE", "fraction", column="p.commission_rate"
    ),
    "service_fee_rate": InputDef(
        N_("service fee rate"),
        "p.service_fee_rate::DOUBLE",
        "fraction",
        column="p.service_fee_rate",
    ),
    "sample": InputDef(
        N_("sample"), "CASE WHEN p.sample THEN 1 WHEN NOT p.sample THEN 0 END", "flag"
    ),
    "shop_score": InputDef(
        N_("shop score"), "p.shop_score::DOUBLE", "score", column="p.shop_score"
    ),
    "refund_rate": InputDef(
        N_("refund rate"), "p.refund_rate::DOUBLE", "fraction", column="p.refund_rate"
    ),
    "good_rate": InputDef(
        N_("good-review rate"), "p.good_rate::DOUBLE", "fraction", column="p.good_rate"
    ),
    "ship_hours": InputDef(
        N_("shipping time"), "p.ship_hours::DOUBLE", "hours", column="p.ship_hours"
    ),
    "sales_30d": InputDef(
        N_("units sold, 30 days"), "p.sales_30d::DOUBLE", "count", column="p.sales_30d"
    ),
    "gmv_30d": InputDef(
        N_("GMV, 30 days"), "p.gmv_30d_fen / 100.0", "yuan", column="p.gmv_30d_fen"
    ),
    "stock": InputDef(N_("stock"), "p.stock::DOUBLE", "count", column="p.stock"),
}


@dataclass(frozen=True)
class InputRule:
    name: str
    weight: float
    missing: float
    within: str | None = None  # percentile scoring: the partition
    better: str | None = None  # percentile scoring: higher | lower
    curve: tuple[tuple[float, float], ...] = ()

    @property
    def rises(self) -> bool:
        """Whether a larger value scores better."""
        if self.curve:
            return self.curve[-1][1] >= self.curve[0][1]
        return self.better == "higher"


@dataclass(frozen=True)
class Dimension:
    name: str
    label: str
    weight: float
    inputs: tuple[InputRule, ...]


@dataclass(frozen=True)
class LevelRule:
    level: str
    min_total: float
    min_scores: dict[str, float]
    min_sales_30d: int = 0  # the sales gate (seed 001: L2 and above need sales)


@dataclass(frozen=True)
class GradingModel:
    new_product_days: int
    dimensions: tuple[Dimension, ...]
    levels: tuple[LevelRule, ...]  # L5 first
    fingerprint: str
    benefits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # level -> 权益

    def benefits_of(self, level: str | None) -> tuple[str, ...]:
        return self.benefits.get(level or "", ())

    def dimension(self, name: str) -> Dimension:
        return next(d for d in self.dimensions if d.name == name)

    def rule(self, level: str) -> LevelRule:
        return next(r for r in self.levels if r.level == level)


# --- loading and checking ----------------------------------------------------------------------


def load_model(config_dir: Path) -> GradingModel:
    """The grading model from `grading.yaml`, checked; every problem reported at once."""
    doc = load_config_file(config_dir, GRADING_FILE)
    problems: list[str] = []
    data = top_level(doc, {"new_product_days", "dimensions", "levels", "benefits"}, problems)
    days = data.get("new_product_days", 14)
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650:
        problems.append(
            _("{where}: expected a whole number of days from 0 to 3650").format(
                where=doc.where("new_product_days")
            )
        )
    dimensions = _dimensions(doc, data.get("dimensions"), problems)
    levels = _levels(doc, data.get("levels"), problems)
    benefits = _benefits(doc, data.get("benefits"), problems)
    if problems:
        raise ConfigError(problems)
    # The 权益 change no grade: they are not part of the fingerprint.
    grading = {k: v for k, v in data.items() if k != "benefits"}
    canonical = json.dumps(grading, sort_keys=True, ensure_ascii=False, default=str)
    fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return GradingModel(days, dimensions, levels, fingerprint, benefits)


def _benefits(doc: ConfigDoc, section: object, problems: list) -> dict[str, tuple[str, ...]]:
    """`benefits:` level -> the platform's 权益 at that level (a list of names)."""
    if section is None:
        return {}
    if not isinstance(section, dict):
        problems.append(_("{where}: expected level: [权益, …]").format(where=doc.where("benefits")))
        return {}
    unknown_keys(doc, section, ("benefits",), set(LEVEL_RANK), problems)
    found = {}
    for level, names in section.items():
        if level not in LEVEL_RANK:
            continue
        if names is None:
            names = []
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            problems.append(
                _("{where}: expected a list of 权益 names").format(
                    where=doc.where("benefits", str(level))
                )
            )
            continue
        found[str(level)] = tuple(n.strip() for n in names)
    return found


def _dimensions(doc: ConfigDoc, section: object, problems: list) -> tuple[Dimension, ...]:
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected the five dimensions: {join}").format(
                where=doc.where("dimensions"), join=", ".join(DIMENSIONS)
            )
        )
        return ()
    for missing in [d for d in DIMENSIONS if d not in section]:
        problems.append(
            _("{where}: dimension {missing!r} is missing").format(
                where=doc.where("dimensions"), missing=missing
            )
        )
    unknown_keys(doc, section, ("dimensions",), set(DIMENSIONS), problems)
    dimensions = []
    for name in DIMENSIONS:
        spec = section.get(name)
        if spec is None:
            continue
        path = ("dimensions", name)
        if not isinstance(spec, dict):
            problems.append(
                _("{where}: expected label, weight and inputs").format(where=doc.where(*path))
            )
            continue
        unknown_keys(doc, spec, path, {"label", "weight", "inputs"}, problems)
        weight = number(
            doc, (*path, "weight"), spec.get("weight"), problems, low=0, what=_("a weight ≥ 0")
        )
        inputs = spec.get("inputs")
        if not isinstance(inputs, dict) or not inputs:
            problems.append(
                _("{where}: expected at least one input").format(where=doc.where(*path, "inputs"))
            )
            inputs = {}
        rules = tuple(
            rule
            for input_name, rule_spec in inputs.items()
            if (
                rule := _input_rule(
                    doc, (*path, "inputs", str(input_name)), input_name, rule_spec, problems
                )
            )
        )
        if rules and sum(r.weight for r in rules) <= 0:
            problems.append(
                _("{where}: the input weights add up to 0").format(where=doc.where(*path, "inputs"))
            )
        dimensions.append(Dimension(name, str(spec.get("label", name)), weight, rules))
    if dimensions and sum(d.weight for d in dimensions) <= 0:
        problems.append(
            _("{where}: the dimension weights add up to 0").format(where=doc.where("dimensions"))
        )
    return tuple(dimensions)


def _input_rule(
    doc: ConfigDoc, path: tuple, name: object, spec: object, problems: list
) -> InputRule | None:
    if name not in INPUTS:
        problems.append(
            _("{where}: unknown input {name!r}; known: {join}").format(
                where=doc.where(*path), name=name, join=", ".join(INPUTS)
            )
        )
        return None
    if not isinstance(spec, dict):
        problems.append(
            _("{where}: expected weight, missing and a percentile or curve").format(
                where=doc.where(*path)
            )
        )
        return None
    unknown_keys(doc, spec, path, {"weight", "missing", "percentile", "curve"}, problems)
    weight = number(
        doc, (*path, "weight"), spec.get("weight"), problems, low=0, what=_("a weight ≥ 0")
    )
    missing = number(
        doc,
        (*path, "missing"),
        spec.get("missing", 0),
        problems,
        low=0,
        high=100,
        what=_("a score from 0 to 100"),
    )
    if ("percentile" in spec) == ("curve" in spec):
        problems.append(
            _("{where}: give exactly one of percentile or curve").format(where=doc.where(*path))
        )
        return None
    if "percentile" in spec:
        pct = spec["percentile"]
        if not isinstance(pct, dict):
            problems.append(
                _("{where}: expected within and better").format(
                    where=doc.where(*path, "percentile")
                )
            )
            return None
        unknown_keys(doc, pct, (*path, "percentile"), {"within", "better"}, problems)
        within, better = pct.get("within", "category_l1"), pct.get("better", "higher")
        if within not in PARTITIONS:
            problems.append(
                _("{where}: expected one of {join}").format(
                    where=doc.where(*path, "percentile", "within"), join=", ".join(PARTITIONS)
                )
            )
        if better not in ("higher", "lower"):
            problems.append(
                _("{where}: expected higher or lower").format(
                    where=doc.where(*path, "percentile", "better")
                )
            )
        return InputRule(str(name), weight, missing, within=within, better=better)
    curve = _curve(doc, (*path, "curve"), spec["curve"], problems)
    return InputRule(str(name), weight, missing, curve=curve)


def _curve(doc: ConfigDoc, path: tuple, points: object, problems: list) -> tuple:
    if not isinstance(points, list) or len(points) < 2:
        problems.append(
            _("{where}: expected at least two points [value, score]").format(where=doc.where(*path))
        )
        return ()
    parsed = []
    for index, point in enumerate(points):
        here = (*path, str(index))
        if not (isinstance(point, list) and len(point) == 2):
            problems.append(
                _("{where}: expected a point [value, score], got {point!r}").format(
                    where=doc.where(*here), point=point
                )
            )
            return ()
        x = number(doc, here, point[0], problems)
        y = number(doc, here, point[1], problems, low=0, high=100, what=_("a score from 0 to 100"))
        parsed.append((x, y))
    xs, ys = [x for x, _ in parsed], [y for _, y in parsed]
    if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
        problems.append(
            _("{where}: the values must increase from point to point").format(
                where=doc.where(*path)
            )
        )
    rising = all(b >= a for a, b in zip(ys, ys[1:], strict=False))
    falling = all(b <= a for a, b in zip(ys, ys[1:], strict=False))
    if not (rising or falling):
        problems.append(
            _(
                "{where}: the scores must only rise or only fall, or a better value "
                "could lower a grade"
            ).format(where=doc.where(*path))
        )
    return tuple(parsed)


def _levels(doc: ConfigDoc, section: object, problems: list) -> tuple[LevelRule, ...]:
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected rules for {join}").format(
                where=doc.where("levels"), join=", ".join(LEVELS)
            )
        )
        return ()
    unknown_keys(doc, section, ("levels",), set(LEVELS), problems)
    rules = []
    for level in LEVELS:
        spec = section.get(level)
        path = ("levels", level)
        if not isinstance(spec, dict):
            problems.append(
                _("{value}: level {level} needs min_total (and may have min_scores)").format(
                    value=doc.where(*path) if spec is not None else doc.where("levels"), level=level
                )
            )
            continue
        unknown_keys(doc, spec, path, {"min_total", "min_scores", "min_sales_30d"}, problems)
        min_sales = spec.get("min_sales_30d", 0)
        if isinstance(min_sales, bool) or not isinstance(min_sales, int) or min_sales < 0:
            problems.append(
                _("{where}: expected a whole number of units ≥ 0").format(
                    where=doc.where(*path, "min_sales_30d")
                )
            )
            min_sales = 0
        total = number(
            doc,
            (*path, "min_total"),
            spec.get("min_total"),
            problems,
            low=0,
            high=100,
            what=_("a score from 0 to 100"),
        )
        gates = spec.get("min_scores") or {}
        if not isinstance(gates, dict):
            problems.append(
                _("{where}: expected dimension: score").format(where=doc.where(*path, "min_scores"))
            )
            gates = {}
        checked = {}
        for dim, score in gates.items():
            if dim not in DIMENSIONS:
                problems.append(
                    _("{where}: unknown dimension {dim!r}").format(
                        where=doc.where(*path, "min_scores", str(dim)), dim=dim
                    )
                )
                continue
            checked[dim] = number(
                doc,
                (*path, "min_scores", dim),
                score,
                problems,
                low=0,
                high=100,
                what=_("a score from 0 to 100"),
            )
        rules.append(LevelRule(level, total, checked, min_sales))
    last = rules[-1] if rules and rules[-1].level == "L1" else None
    if last is not None and (last.min_total or last.min_scores):
        problems.append(
            _(
                "{where}: L1 takes every product no higher level takes; give it "
                "min_total: 0 and no min_scores"
            ).format(where=doc.where("levels", "L1"))
        )
    if last is not None and last.min_sales_30d:
        problems.append(
            _(
                "{where}: L1 takes every product no higher level takes; give it no sales gate"
            ).format(where=doc.where("levels", "L1", "min_sales_30d"))
        )
    for higher, lower in zip(rules, rules[1:], strict=False):
        if higher.min_sales_30d < lower.min_sales_30d:
            problems.append(
                _("{where}: {level} asks fewer sales ({high}) than {level2} ({low})").format(
                    where=doc.where("levels", higher.level, "min_sales_30d"),
                    level=higher.level,
                    high=higher.min_sales_30d,
                    level2=lower.level,
                    low=lower.min_sales_30d,
                )
            )
        if higher.min_total < lower.min_total:
            problems.append(
                _(
                    "{where}: {level} asks less ({min_total:g}) than {level2} ({min_total2:g})"
                ).format(
                    where=doc.where("levels", higher.level, "min_total"),
                    level=higher.level,
                    min_total=higher.min_total,
                    level2=lower.level,
                    min_total2=lower.min_total,
                )
            )
    return tuple(rules)


# --- the model as SQL ------------------------------------------------------------------------


def _input_column(name: str) -> str:
    return f'"in_{name}"'


def _score_column(dimension: str, name: str) -> str:
    return f'"sc_{dimension}_{name}"'


def _score_sql(rule: InputRule) -> str:
    """A curve input's score; percentile inputs are scored in their own query (below)."""
    value = _input_column(rule.name)
    return f"CASE WHEN {value} IS NULL THEN {rule.missing} ELSE {_curve_sql(value, rule.curve)} END"


def _percentile_sql(rule: InputRule, index: int) -> tuple[str, str]:
    """A percentile input's score (`pct<index>`) as a column of a query over `products p`,
    and the windows it needs: the mid-rank percentile, that is (values worse × 2 + ties,
    itself included) / (values × 2), in percent.

    rank and cume_dist share one sort, the two counts one partitioning. Counts are whole
    numbers, exact as doubles: the result does not depend on the order of rows, and the
    arithmetic is done in doubles (no decimal constant to convert on every row).
    """
    value = INPUTS[rule.name].rank_key
    assert rule.within is not None  # a percentile input always has its partition
    # A lower-level category is only meaningful inside its higher-level ones.
    part = {
        "all": "",
        "category_l1": "PARTITION BY p.category_l1",
        "category_l2": "PARTITION BY p.category_l1, p.category_l2",
        "category_l3": "PARTITION BY p.category_l1, p.category_l2, p.category_l3",
    }[rule.within]
    order = "ASC" if rule.better == "higher" else "DESC"
    ranked, counted = f"w{index}", f"n{index}"
    worse_and_ties = f"round(cume_dist() OVER {ranked} * count(*) OVER {counted})"  # nulls last
    score = (
        f"CASE WHEN {value} IS NULL THEN {rule.missing} "
        f"ELSE 100.0::DOUBLE * (rank() OVER {ranked} - 1 + {worse_and_ties}) "
        f"/ (2 * count({value}) OVER {counted}) END AS pct{index}"
    )
    windows = f"{ranked} AS ({part} ORDER BY {value} {order} NULLS LAST), {counted} AS ({part})"
    return score, windows


def _curve_sql(value: str, points: tuple) -> str:
    (x0, y0), yn = points[0], points[-1][1]
    parts = [f"WHEN {value} <= {x0} THEN {y0}"]
    for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
        parts.append(
            f"WHEN {value} <= {xb} THEN {ya} + ({value} - {xa}) * {(yb - ya) / (xb - xa)!r}"
        )
    return f"CASE {' '.join(parts)} ELSE {yn} END"


def _weighted(terms: list[tuple[float, str]]) -> str:
    total = sum(w for w, _ in terms)
    return "(" + " + ".join(f"{w!r} * {expr}" for w, expr in terms) + f") / {total!r}"


# The day L0 counts from, and which date that is (`L0_BASES`).
L0_SINCE = "coalesce(p.joined_at, p.listed_at)"
L0_BASIS = (
    "CASE WHEN p.joined_at IS NOT NULL THEN 'joined_at' "
    "WHEN p.listed_at IS NOT NULL THEN 'listed_at' ELSE 'none' END"
)


def _input_joins(names: list[str]) -> str:
    """The joins (`INPUT_JOINS`) that the inputs `names` read beside `products p`."""
    return " ".join(INPUT_JOINS[j] for j in sorted({INPUTS[n].joins for n in names} - {""}))


def grading_query(model: GradingModel, as_of: date, *, detail: bool = False) -> Query:
    """One query over `products p`: each product's five scores, total, level, and which date
    its L0 rule counted from (`l0_basis`: joined_at, listed_at or none). With `detail`, also
    every input's value and score and the two dates (for `explain`).

    The percentile inputs are ranked first, in a query that reads only the row id, the
    categories and the values it sorts by, so that each sort stays narrow (and no window
    has the product's other columns to carry); the products are joined to those scores once,
    by row id. The store runs it (`store.save_grades`, `store.grade_detail`). The date is a
    parameter; the model's weights, gates and curves are written into the text: they come
    from the checked grading.yaml, not from a sheet, and make the query what it is."""
    inputs = sorted({r.name for d in model.dimensions for r in d.inputs})
    base = ", ".join(f"{INPUTS[n].sql} AS {_input_column(n)}" for n in inputs)
    rules = [(d, r) for d in model.dimensions for r in d.inputs]
    ranked = [(d, r) for d, r in rules if not r.curve]
    percentiles = [_percentile_sql(r, i) for i, (_, r) in enumerate(ranked)]
    scores = ", ".join(
        (f"pct{ranked.index((d, r))}" if not r.curve else _score_sql(r))
        + f" AS {_score_column(d.name, r.name)}"
        for d, r in rules
    )
    dims = ", ".join(
        f"round({_weighted([(r.weight, _score_column(d.name, r.name)) for r in d.inputs])}, 1)"
        f'::DECIMAL(4,1) AS "{d.name}"'
        for d in model.dimensions
    )
    weighted_total = _weighted([(d.weight, f'"{d.name}"') for d in model.dimensions])
    total = f"round({weighted_total}, 1)::DECIMAL(4,1)"
    new = (
        f"{L0_SINCE} > CAST($as_of AS DATE) - to_days(CAST($new_product_days AS INTEGER)) "
        "AND coalesce(p.sales_30d, 0) = 0"
    )
    level_cases = [f"WHEN {new} THEN 'L0'"]
    for rule in model.levels:
        gates = " AND ".join(
            [f"p.total >= {rule.min_total}"]
            + [f'p."{d}" >= {s}' for d, s in rule.min_scores.items()]
            + (
                [f"coalesce(p.sales_30d, 0) >= {int(rule.min_sales_30d)}"]
                if rule.min_sales_30d
                else []
            )
        )
        level_cases.append(f"WHEN {gates} THEN '{rule.level}'")
    extra = ""
    if detail:
        extra = ", " + ", ".join(
            [f"p.{_input_column(n)}" for n in inputs]
            + [f"p.{_score_column(d.name, r.name)}" for d in model.dimensions for r in d.inputs]
            + ["p.joined_at", "p.listed_at"]
        )
    ranking, ranked_join = "", ""
    if ranked:
        ranking = (
            f"ranked AS (SELECT p.rowid AS rid, {', '.join(score for score, _ in percentiles)} "
            f"FROM products p {_input_joins([r.name for _, r in ranked])} "
            f"WINDOW {', '.join(windows for _, windows in percentiles)}),"
        )
        ranked_join = "JOIN ranked r ON r.rid = p.rowid"
    pct_columns = "".join(f", r.pct{i}" for i in range(len(ranked)))
    # The last step names the row `p` again: the L0 rules read the product's columns as p.….
    sql = f"""
        WITH {ranking}
        base AS (
            SELECT p.product_id, p.merchant_id, p.sales_30d, p.joined_at, p.listed_at,
                   {base}{pct_columns}
            FROM products p {_input_joins(inputs)} {ranked_join}
        ),
        scored AS (SELECT *, {scores} FROM base),
        dimensioned AS (SELECT *, {dims} FROM scored),
        totalled AS (SELECT *, {total} AS total FROM dimensioned)
        SELECT p.product_id, p.merchant_id,
               {", ".join(f'p."{d}"' for d in DIMENSIONS)}, p.total,
               CASE {" ".join(level_cases)} ELSE 'L1' END AS level,
               {L0_BASIS} AS l0_basis{extra}
        FROM totalled p
    """
    return Query(sql, {"as_of": as_of, "new_product_days": model.new_product_days})


# --- explaining ------------------------------------------------------------------------------


def level_rule_text(model: GradingModel, level: str) -> str:
    """The rule behind a level, in words."""
    if level == "L0":
        return _(
            "L0: joined 快分销 within the last {new_product_days} days (listed, when the join "
            "date is unknown) and no sales yet"
        ).format(new_product_days=model.new_product_days)
    if level == "L1":
        return _("L1: every product that no higher level takes")
    rule = model.rule(level)
    parts = [_("total ≥ {min_total:g}").format(min_total=rule.min_total)] + [
        f"{model.dimension(d).label} ≥ {s:g}" for d, s in rule.min_scores.items()
    ]
    if rule.min_sales_30d:
        parts.append(
            _("30-day sales ≥ {count} (levels.{level}.min_sales_30d)").format(
                count=rule.min_sales_30d, level=level
            )
        )
    return f"{level}: " + ", ".join(parts)


def next_level_advice(model: GradingModel, grade: dict, inputs: dict) -> list[str]:
    """What it takes to reach the next level, in words a merchant understands.

    `grade` has the five dimension scores, `total` and `level`; `inputs` maps each input to
    (value, score) for the product.
    """
    level = grade["level"]
    if level == "L0":
        return [
            _(
                "sell: a product leaves L0 with its first sales, or {new_product_days} "
                "days after joining 快分销"
            ).format(new_product_days=model.new_product_days)
        ]
    if level == "L5":
        return [_("L5 is the top level: keep every dimension above its gate")]
    target = model.rule(f"L{LEVEL_RANK[level] + 1}")
    advice = []
    known = [value for (_dim, name), (value, _score) in inputs.items() if name == "sales_30d"]
    sold = int(known[0] or 0) if known else None
    if target.min_sales_30d and sold is not None and sold < target.min_sales_30d:
        advice.append(
            _("sell {count} more in 30 days ({level} needs {need}; it has {have})").format(
                count=target.min_sales_30d - sold,
                level=target.level,
                need=target.min_sales_30d,
                have=sold,
            )
        )
    scores = {d.name: float(grade[d.name]) for d in model.dimensions}
    for dim_name, needed in target.min_scores.items():
        if scores[dim_name] < needed:
            dimension = model.dimension(dim_name)
            advice.append(_raise_dimension(model, dimension, scores[dim_name], needed, inputs))
            scores[dim_name] = needed  # meeting the gate lifts the total too
    all_weight = sum(d.weight for d in model.dimensions)
    total = round(sum(scores[d.name] * d.weight for d in model.dimensions) / all_weight, 1)
    if total < target.min_total:
        advice.append(_raise_total(model, scores, total, target.min_total, inputs, bool(advice)))
    if not advice:
        advice.append(_("meets {level} already; grade again to see it").format(level=target.level))
    return [_("to reach {level}: {a}").format(level=target.level, a=a) for a in advice]


def _raise_total(
    model: GradingModel,
    scores: dict,
    total: float,
    needed: float,
    inputs: dict,
    after_gates: bool,
) -> str:
    """Which dimensions to raise, and to what, to lift the total by the gap: the ones with
    the most weighted room first, as many as it takes."""
    all_weight = sum(d.weight for d in model.dimensions)
    gap = (needed - total) * all_weight  # in weight × score points
    steps = []
    by_room = sorted(model.dimensions, key=lambda d: (-(100 - scores[d.name]) * d.weight, d.name))
    for d in by_room:
        have = scores[d.name]
        if gap <= 0 or d.weight == 0 or have >= 100:
            continue
        target = min(100.0, have + gap / d.weight)
        gap -= (target - have) * d.weight
        steps.append((d, have, math.ceil(target * 10) / 10))
    words = _(" and ").join(
        _("{label} from {have:g} to {to:g}").format(label=d.label, have=have, to=to)
        for d, have, to in steps
    )
    then = _("then ") if after_gates else ""
    return _(
        "{then}raise the total from {total:g} to {needed:g}, e.g. by raising {words}; "
    ).format(then=then, total=total, needed=needed, words=words) + _weakest_input_words(
        steps[0][0], inputs
    )


def _raise_dimension(
    model: GradingModel, dimension: Dimension, have: float, needed: float, inputs: dict
) -> str:
    return _("raise {label} from {have:g} to {needed:g}: ").format(
        label=dimension.label, have=have, needed=needed
    ) + _weakest_input_words(dimension, inputs)


def _weakest_input_words(dimension: Dimension, inputs: dict) -> str:
    """The input of a dimension with the most room: the most weighted points to gain."""
    best = max(
        dimension.inputs,
        key=lambda r: ((100 - inputs[(dimension.name, r.name)][1]) * r.weight, r.name),
    )
    value, score = inputs[(dimension.name, best.name)]
    shown = _("missing") if value is None else format_input(best.name, value)
    direction = _("higher") if best.rises else _("lower")
    share = best.weight / sum(r.weight for r in dimension.inputs)
    return _(
        "{label} {shown} has the most room (score {round:g}, {share:.0%} of "
        "{label2}; {direction} is better)"
    ).format(
        label=_(INPUTS[best.name].label),
        shown=shown,
        round=round(score, 1),
        share=share,
        label2=dimension.label,
        direction=direction,
    )


def format_input(name: str, value: float | None) -> str:
    unit = INPUTS[name].unit
    if value is None:
        return "—"
    if unit == "yuan":
        return f"¥{value:,.2f}"
    if unit == "fraction":
        return f"{value * 100:.1f}%"
    if unit == "hours":
        return _("{hours:g} h").format(hours=value)
    if unit == "flag":
        return _("yes") if value else _("no")
    return f"{value:g}"


# --- running ---------------------------------------------------------------------------------


@dataclass
class GradeRun:
    """What one `haowu grade` did."""

    run_id: int | None
    as_of: date
    merchant: str | None
    products: int
    level_counts: dict[str, int]
    moved_up: int
    moved_down: int
    previous_as_of: date | None
    fingerprint: str
    seconds: float
    dry_run: bool
    # products by the date L0 counted from (L0_BASES), and the first undated ones (flagged)
    l0_bases: dict[str, int] = field(default_factory=dict)
    undated_products: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "run_id": self.run_id,
            "as_of": self.as_of.isoformat(),
            "merchant_id": self.merchant,
            "products": self.products,
            "levels": {level: self.level_counts.get(level, 0) for level in LEVEL_RANK},
            "moved_up": self.moved_up,
            "moved_down": self.moved_down,
            "previous_as_of": self.previous_as_of.isoformat() if self.previous_as_of else None,
            "config_fingerprint": self.fingerprint,
            "seconds": round(self.seconds, 3),
            "dry_run": self.dry_run,
            "l0_basis": {basis: self.l0_bases.get(basis, 0) for basis in L0_BASES},
            "undated_products": self.undated_products,
        }

    def join_date_warnings(self) -> list[str]:
        """What a team leader should know about the dates L0 counted from: products without
        a 加入快分销 date (their listing date stood in) and products without either (graded by
        the other rules, flagged: haowu cannot tell whether they are new)."""
        lines = []
        listed, undated = self.l0_bases.get("listed_at", 0), self.l0_bases.get("none", 0)
        if listed:
            lines.append(
                ngettext(
                    "{count:,} product has no 加入快分销 date: L0 counted from its listing date",
                    "{count:,} products have no 加入快分销 date: L0 counted from their listing "
                    "date",
                    listed,
                ).format(count=listed)
            )
        if undated:
            shown = ", ".join(self.undated_products)
            if undated > len(self.undated_products):
                shown += ", …"
            lines.append(
                ngettext(
                    "{count:,} product has neither a 加入快分销 date nor a listing date: graded "
                    "without the L0 rule and flagged ({shown})",
                    "{count:,} products have neither a 加入快分销 date nor a listing date: graded "
                    "without the L0 rule and flagged ({shown})",
                    undated,
                ).format(count=undated, shown=shown)
            )
        return lines


class _Rollback(Exception):
    pass


def check_grading_date(as_of: date, today: date, *, allow_future: bool = False) -> None:
    """Refuse to grade as of a day after today unless asked to (`--allow-future`). A grade
    dated ahead is kept, but listing, export, planning and reports go by each product's latest
    grade that is not in the future, so it counts only once its day comes."""
    from haowu_cli.errors import UsageError

    if as_of > today and not allow_future:
        raise UsageError(
            _("--as-of {as_of} is in the future (today is {today})").format(
                as_of=as_of, today=today
            ),
            hint=_(
                "grade as of today or earlier, or add --allow-future to keep a grade that "
                "counts from that day on"
            ),
        )


def grade_products(
    store: Store,
    model: GradingModel,
    as_of: date,
    *,
    merchant: str | None = None,
    dry_run: bool = False,
) -> GradeRun:
    """`_grade_products`, run again from the start when team mode's DuckLake refuses its
    commit because another writer committed first (`store.retry_conflicts`)."""
    from haowu_cli import store as db

    return db.retry_conflicts(
        lambda: _grade_products(store, model, as_of, merchant=merchant, dry_run=dry_run),
        patience=store.lock_timeout,
    )


def _grade_products(
    store: Store,
    model: GradingModel,
    as_of: date,
    *,
    merchant: str | None = None,
    dry_run: bool = False,
) -> GradeRun:
    """Grade every product (or one merchant's) as of a date, in one transaction: that date's
    earlier grades are replaced, other dates stay as history. A failure leaves them all."""
    import time
    from datetime import datetime

    from haowu_cli import store as db
    from haowu_cli.errors import HaowuError

    started, clock = datetime.now(), time.perf_counter()
    run = None
    with store.write(scratch=dry_run) as con:
        try:
            with db.transaction(con):
                run_id = db.next_grade_run_id(con)
                counts, up, down, previous = db.save_grades(
                    con, grading_query(model, as_of), as_of, run_id, merchant
                )
                graded = sum(counts.values())
                bases, undated = db.l0_bases(con, merchant, L0_BASIS)
                if graded == 0:
                    whose = (
                        _("merchant {merchant} has").format(merchant=merchant)
                        if merchant
                        else _("the database has")
                    )
                    raise HaowuError(
                        _("nothing to grade: {whose} no products").format(whose=whose),
                        hint=_("import product sheets first (haowu import FILE)"),
                    )
                run = GradeRun(
                    run_id=None if dry_run else run_id,
                    as_of=as_of,
                    merchant=merchant,
                    products=graded,
                    level_counts=counts,
                    moved_up=up,
                    moved_down=down,
                    previous_as_of=previous,
                    fingerprint=model.fingerprint,
                    seconds=time.perf_counter() - clock,
                    dry_run=dry_run,
                    l0_bases=bases,
                    undated_products=undated,
                )
                db.record_grade_run(
                    con,
                    {
                        "run_id": run_id,
                        "as_of": as_of,
                        "merchant_id": merchant,
                        "config_fingerprint": model.fingerprint,
                        "started_at": started,
                        "finished_at": datetime.now(),
                        "products": graded,
                        "level_counts": json.dumps(run.as_json()["levels"]),
                        "moved_up": up,
                        "moved_down": down,
                    },
                )
                if dry_run:
                    raise _Rollback
        except _Rollback:
            pass
    assert run is not None  # set before the transaction ends, or the error propagated
    run.seconds = time.perf_counter() - clock
    return run


@dataclass
class Explanation:
    grade: dict  # the stored grade: five scores, total, level, as_of, title …
    inputs: dict  # (dimension, input) -> (value, score), from today's product data
    rule: str
    advice: list[str]
    current: bool  # whether today's data still gives the stored grade
    l0_basis: str = "joined_at"  # what L0 counts from for the product (L0_BASES), from today's data
    dates_note: str = ""  # that, in words


def l0_basis_text(basis: str, joined: date | None, listed: date | None) -> str:
    """Which date the L0 rule counts from for a product, in words; a warning or a flag when
    it is not the 加入快分销 date."""
    if basis == "joined_at":
        return _("L0 counts from the 加入快分销 date {day}").format(day=joined)
    if basis == "listed_at":
        return _(
            "no 加入快分销 date: L0 counts from the listing date {day} instead (add a "
            "加入快分销时间 column to the products sheet)"
        ).format(day=listed)
    return _(
        "flagged: neither a 加入快分销 date nor a listing date, so haowu cannot tell whether "
        "the product is new; graded without the L0 rule"
    )


def explain(
    store: Store, model: GradingModel, product_id: str, as_of: date | None = None
) -> Explanation:
    """Why a product has its level, input by input, and what gets it to the next one."""
    from haowu_cli import store as db
    from haowu_cli.errors import HaowuError

    with store.read() as con:
        stored = db.product_grade(con, product_id, as_of)
        if stored is None:
            when = f" on {as_of}" if as_of else " dated today or earlier"
            raise HaowuError(
                _("product {product_id} has no grade{when}").format(
                    product_id=product_id, when=when
                ),
                hint=_("run haowu grade first (and check the ID with haowu products --search)"),
            )
        detail = db.grade_detail(
            con, grading_query(model, stored["as_of"], detail=True), product_id
        )
    if detail is None:
        raise HaowuError(
            _("product {product_id} is no longer in the database").format(product_id=product_id)
        )
    inputs = {
        (d.name, r.name): (detail[f"in_{r.name}"], float(detail[f"sc_{d.name}_{r.name}"]))
        for d in model.dimensions
        for r in d.inputs
    }
    current = detail["level"] == stored["level"] and float(detail["total"]) == float(
        stored["total"]
    )
    return Explanation(
        grade=stored,
        inputs=inputs,
        rule=level_rule_text(model, stored["level"]),
        advice=next_level_advice(model, stored, inputs),
        current=current,
        l0_basis=detail["l0_basis"],
        dates_note=l0_basis_text(detail["l0_basis"], detail["joined_at"], detail["listed_at"]),
    )


def explanation_rows(model: GradingModel, found: Explanation) -> pl.DataFrame:
    """One row per input: dimension, its score and weight, the input's value, score, weight."""
    import polars as pl

    rows = []
    for d in model.dimensions:
        dim_weight = d.weight / sum(x.weight for x in model.dimensions)
        for r in d.inputs:
            value, score = found.inputs[(d.name, r.name)]
            rows.append(
                {
                    "product_id": found.grade["product_id"],
                    "as_of": found.grade["as_of"].isoformat(),
                    "level": found.grade["level"],
                    "total": str(found.grade["total"]),
                    "dimension": d.name,
                    "dimension_label": d.label,
                    "dimension_score": str(found.grade[d.name]),
                    "dimension_weight": round(dim_weight, 4),
                    "input": r.name,
                    "input_label": _(INPUTS[r.name].label),
                    "value": format_input(r.name, value) if value is not None else None,
                    "input_score": round(score, 1),
                    "input_weight": round(r.weight / sum(x.weight for x in d.inputs), 4),
                    "benefits": ";".join(model.benefits_of(found.grade["level"])),
                    "l0_basis": found.l0_basis,
                }
            )
    return pl.DataFrame(rows)
