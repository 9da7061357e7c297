"""Matching (匹配): the best products for an anchor, by the planner's expected-sales model, with
潜力好货 flagged by the rules of `configs/match.yaml`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from haowu_cli import store as db
from haowu_cli.config import load_config_file, number, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError, HaowuError
from haowu_cli.grading import LEVEL_RANK
from haowu_cli.i18n import _
from haowu_cli.planner.brief import SessionBrief, resolve_brief
from haowu_cli.planner.candidates import candidate_frame
from haowu_cli.planner.rules import SessionRules
from haowu_cli.planner.sql_model import eligible_sql, scored_sql

MATCH_FILE = "match.yaml"
POTENTIAL_KEYS = {
    "max_level",
    "max_joined_days",
    "min_sales_strength",
    "max_price_to_ticket",
    "category_match",
}


@dataclass(frozen=True)
class PotentialRules:
    max_level: str
    max_joined_days: int
    min_sales_strength: float
    max_price_to_ticket: float
    category_match: bool


def load_potential(config_dir: Path) -> PotentialRules:
    """The 潜力好货 rules of match.yaml, checked; every problem reported at once."""
    doc = load_config_file(config_dir, MATCH_FILE)
    problems: list[str] = []
    data = top_level(
        doc, {"potential", "anchors", "audience"}, problems
    )  # anchors.py reads the others
    section = data.get("potential")
    path = ("potential",)
    if not isinstance(section, dict):
        problems.append(_("{where}: expected the 潜力好货 rules").format(where=doc.where(*path)))
        section = {}
    unknown_keys(doc, section, path, POTENTIAL_KEYS, problems)
    level = section.get("max_level", "L2")
    if level not in LEVEL_RANK:
        problems.append(
            _("{where}: expected a level L0–L5, got {level!r}").format(
                where=doc.where(*path, "max_level"), level=level
            )
        )
    flag = section.get("category_match", True)
    if not isinstance(flag, bool):
        problems.append(
            _("{where}: expected true or false").format(where=doc.where(*path, "category_match"))
        )
    rules = PotentialRules(
        max_level=str(level),
        max_joined_days=whole(
            doc,
            (*path, "max_joined_days"),
            section.get("max_joined_days", 30),
            problems,
            low=0,
            high=3650,
            what=_("a whole number of days from 0 to 3650"),
        ),
        min_sales_strength=number(
            doc,
            (*path, "min_sales_strength"),
            section.get("min_sales_strength", 0.5),
            problems,
            low=0,
            high=1,
            what=_("a share from 0 to 1"),
        ),
        max_price_to_ticket=number(
            doc,
            (*path, "max_price_to_ticket"),
            section.get("max_price_to_ticket", 1.5),
            problems,
            low=0,
            what=_("a ratio ≥ 0"),
        ),
        category_match=bool(flag),
    )
    if problems:
        raise ConfigError(problems)
    return rules


MATCH_COLUMNS = (
    "rank",
    "product_id",
    "merchant_id",
    "title",
    "category_l1",
    "level",
    "role",
    "live_price_fen",
    "commission_rate",
    "expected_units",
    "expected_gmv_fen",
    "commission_fen",
    "team_income_fen",
    "potential",
)


def match_products(
    store: db.Store,
    rules: SessionRules,
    potential: PotentialRules,
    anchor_id: str,
    *,
    on: dt.date,
    min_level: str | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """The products this anchor is expected to sell best, by the planner's model (a slot of
    its role's minutes), eligible under the brief defaults of session.yaml (`min_level` in
    place of theirs when given); best expected GMV first, ties by product ID."""
    overrides: dict[str, object] = {"anchor": anchor_id, "date": on}
    if min_level is not None:
        overrides["min_level"] = min_level
    session = resolve_brief(rules, None, overrides).sessions[0]
    with store.read() as con:
        anchor = db.anchor_row(con, anchor_id)
        if anchor is None:
            raise HaowuError(
                _("anchor {anchor} is not in the database").format(anchor=anchor_id),
                hint=_("haowu anchors lists them"),
            )
        best = db.match_query(con, best_products_query(rules, session, anchor_id, limit), today=on)
    # The best rows (none: an empty frame of the same columns and types), scored again by the
    # planner's own model (`candidate_frame`): the columns shown are its, and the SQL pass
    # only chose the rows (tests/test_match_sql.py).
    frame = candidate_frame(best, anchor, session, rules)
    flagged = potential_column(potential, list(anchor.get("categories") or []), on=on)
    ranked = frame.with_columns(flagged.alias("potential")).sort(
        ["expected_gmv_fen", "product_id"], descending=[True, False]
    )
    return ranked.with_row_index("rank", offset=1).select(MATCH_COLUMNS)


def potential_column(potential: PotentialRules, categories: list[str], *, on: dt.date) -> pl.Expr:
    """Whether a product is 潜力好货 for an anchor selling `categories`: young (joined 快分销,
    or listed when the sheet gave no join date, at most `max_joined_days` before `on`) or
    graded at most `max_level`, and every signal of match.yaml holds. Over candidate rows
    (`level`, `joined_at`, `listed_at`, `sales_strength`, `price_to_ticket`, categories)."""
    rank = pl.col("level").replace_strict(LEVEL_RANK, default=None, return_dtype=pl.Int64)
    # Young by the day the product joined 快分销 (its listing date when the sheet gave none),
    # as grading's L0 counts (`grading.L0_SINCE`).
    joined = pl.coalesce(pl.col("joined_at"), pl.col("listed_at"))
    young = joined >= pl.lit(on - dt.timedelta(days=potential.max_joined_days))
    signals = (pl.col("sales_strength") >= potential.min_sales_strength) & (
        pl.col("price_to_ticket").is_null()
        | (pl.col("price_to_ticket") <= potential.max_price_to_ticket)
    )
    if potential.category_match:
        signals = signals & (
            pl.col("category_l1").is_in(categories)
            | pl.col("category_l2").is_in(categories)
            | pl.col("category_l3").is_in(categories)
        )
    return (
        ((rank <= LEVEL_RANK[potential.max_level]) | young.fill_null(False)) & signals
    ).fill_null(False)


def best_products_query(
    rules: SessionRules, session: SessionBrief, anchor_id: str, limit: int | None
) -> db.Query:
    """Every product eligible under `session` scored for the anchor by the planner's model in
    DuckDB (`sql_model`), the best `limit` (all: None) by expected GMV, ties by product ID,
    with the columns `candidate_frame` reads."""
    params: dict[str, object] = {"m_anchor": anchor_id}
    eligible = eligible_sql(session, params)
    scored = scored_sql(
        rules,
        f"(SELECT b.*, a.avg_ticket_fen AS _ticket, a.gmv_per_hour_fen AS _gph,"
        f" a.categories AS _categories FROM {{products}} b,"
        f" (SELECT * FROM {{anchors}} WHERE anchor_id = $m_anchor) a WHERE {eligible})",
        ticket="_ticket",
        gmv_per_hour="_gph",
        category_match="(coalesce(list_contains(_categories, category_l1), false)"
        " OR coalesce(list_contains(_categories, category_l2), false)"
        " OR coalesce(list_contains(_categories, category_l3), false))",
    )
    cut = f"LIMIT {int(limit)}" if limit is not None else ""
    return db.Query(
        f"""
        WITH best AS (
            SELECT product_id, level, sales_strength FROM ({scored})
            ORDER BY expected_gmv_fen DESC, product_id {cut})
        SELECT p.product_id, p.merchant_id, p.title, p.brand, p.category_l1, p.category_l2,
               p.category_l3, p.listed_at, p.joined_at, p.live_price_fen, p.commission_rate,
               p.service_fee_rate, p.stock, p.sample, p.mechanism, best.level, best.sales_strength
        FROM best JOIN products p USING (product_id)
        """,
        params,
    )
