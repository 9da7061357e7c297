"""Commission splits: who gets what from every order, exact to the fen, as an append-only
ledger (`configs/commission.yaml` holds every rate).

The split of an order is one SQL query over integer fen: each rounded term rounded half up,
the merchant's share what is left, so the parties always add up to the base. An import of
orders posts, in its own transaction, the split of every order it touched; when an order's
split changed (a refund, a status, a rate correction) the ledger gets reversing entries for
what was posted and entries for the new split. Nothing is ever rewritten, so a report as of
any past date can be made again, and today's totals still reconcile.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from haowu_cli.config import load_config_file, number, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError
from haowu_cli.formats import percent_ppm, yuan
from haowu_cli.i18n import N_, _, pgettext
from haowu_cli.store.ledger import ALL_ORDERS, SHARES, OrderSelection
from haowu_cli.store.sql import Query

if TYPE_CHECKING:
    import duckdb
    from polars.expr.whenthen import ChainedThen, Then

    from haowu_cli.config import ConfigDoc

COMMISSION_FILE = "commission.yaml"
PPM = 1_000_000
PARTIES = ("merchant", "anchor", "agency", "leader", "second_leader", "platform")
# What each ledger account is, for people.
PARTY_LABELS = {  # translated where shown (`party_labels`)
    "base": N_("base (paid − refunded)"),
    "merchant": N_("merchant 商家"),
    "anchor": N_("anchor 达人"),
    "agency": N_("agency 机构 (MCN)"),
    "leader": N_("team leader 团长"),
    "second_leader": N_("second-level leader 二级团长"),
    "platform": N_("platform 平台"),
}


def party_labels() -> dict[str, str]:
    """Each party's name in the language in use."""
    return {party: _(label) for party, label in PARTY_LABELS.items()}


@dataclass(frozen=True)
class MerchantTerms:
    """Merchant terms that lower the technical fee (`merchant_terms` in commission.yaml).

    - new merchants: within `new_days` days of joining 快分销 (merchants.joined_on), the first
      `new_cap_fen` of GMV (the commission base, paid − refunded, in payment order) pays
      `new_rate_ppm` instead of the usual technical fee; an order crossing the cap is split
      exactly at it;
    - DSR relief: the technical fee less the relief of the first `dsr_relief` row whose
      min_shop_score the order's shop score meets;
    - 降佣: the technical fee less `busy_relief_ppm` in a month in which the merchant takes
      part in `busy_min_activities` or more activities (passed applications in activities
      whose windows start in that month).
    Reliefs never take the rate below 0. None of them applies when left out."""

    new_days: int = 0
    new_cap_fen: int = 0
    new_rate_ppm: int = 0
    dsr_relief: tuple[tuple[Decimal, int], ...] = ()  # (min shop score, relief ppm), in order
    busy_min_activities: int = 0
    busy_relief_ppm: int = 0

    @property
    def new_merchants(self) -> bool:
        return self.new_days > 0 and self.new_cap_fen > 0


@dataclass(frozen=True)
class CommissionRules:
    commission_cut_ppm: int
    service_fee_cut_ppm: int
    technical_default_ppm: int
    technical_by_category_ppm: dict[str, int]
    pay_later_extra_ppm: int
    settlement: tuple[tuple[Decimal | None, int], ...]  # (min shop score, days), in order
    fingerprint: str
    terms: MerchantTerms = field(default_factory=lambda: MerchantTerms())

    @property
    def service_fee_keep(self) -> Decimal:
        """The share of the service fee the first-level team leader keeps before any
        second-level leader: 1 − the platform's cut."""
        return Decimal(PPM - self.service_fee_cut_ppm) / PPM


def load_rules(config_dir: Path) -> CommissionRules:
    """`commission.yaml`, checked; every problem reported at once."""
    doc = load_config_file(config_dir, COMMISSION_FILE)
    problems: list[str] = []
    data = top_level(
        doc, {"platform_cut", "technical_fee", "settlement", "merchant_terms"}, problems
    )

    def ppm(path: tuple, value: object) -> int:
        rate = number(doc, path, value, problems, low=0, high=1, what=_("a fraction from 0 to 1"))
        return int(Decimal(str(rate)) * PPM)

    cut = data.get("platform_cut")
    if not isinstance(cut, dict):
        problems.append(
            _("{where}: expected commission and service_fee").format(
                where=doc.where("platform_cut")
            )
        )
        cut = {}
    unknown_keys(doc, cut, ("platform_cut",), {"commission", "service_fee"}, problems)
    technical = data.get("technical_fee")
    if not isinstance(technical, dict):
        problems.append(
            _("{where}: expected default, categories, ...").format(where=doc.where("technical_fee"))
        )
        technical = {}
    unknown_keys(
        doc, technical, ("technical_fee",), {"default", "categories", "pay_later_extra"}, problems
    )
    categories = technical.get("categories") or {}
    if not isinstance(categories, dict):
        problems.append(
            _("{where}: expected category: rate").format(
                where=doc.where("technical_fee", "categories")
            )
        )
        categories = {}
    rules = CommissionRules(
        commission_cut_ppm=ppm(("platform_cut", "commission"), cut.get("commission")),
        service_fee_cut_ppm=ppm(("platform_cut", "service_fee"), cut.get("service_fee")),
        technical_default_ppm=ppm(("technical_fee", "default"), technical.get("default")),
        technical_by_category_ppm={
            str(name): ppm(("technical_fee", "categories", str(name)), rate)
            for name, rate in categories.items()
        },
        pay_later_extra_ppm=ppm(
            ("technical_fee", "pay_later_extra"), technical.get("pay_later_extra", 0)
        ),
        settlement=_settlement(doc, data.get("settlement"), problems),
        terms=_merchant_terms(doc, data.get("merchant_terms"), problems, ppm),
        fingerprint=hashlib.sha256(
            json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()
        ).hexdigest()[:12],
    )
    if problems:
        raise ConfigError(problems)
    return rules


def _merchant_terms(
    doc: ConfigDoc, section: object, problems: list, ppm: Callable[[tuple, object], int]
) -> MerchantTerms:
    if section is None:
        return MerchantTerms()
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected new_merchant, dsr_relief, …").format(
                where=doc.where("merchant_terms")
            )
        )
        return MerchantTerms()
    unknown_keys(
        doc,
        section,
        ("merchant_terms",),
        {"new_merchant", "dsr_relief", "activity_discount"},
        problems,
    )
    terms: dict = {}
    new = section.get("new_merchant")
    if new is not None:
        path: tuple[str, ...] = ("merchant_terms", "new_merchant")
        if not isinstance(new, dict):
            problems.append(
                _("{where}: expected days, gmv_cap_yuan, technical_fee").format(
                    where=doc.where(*path)
                )
            )
            new = {}
        unknown_keys(doc, new, path, {"days", "gmv_cap_yuan", "technical_fee"}, problems)
        terms["new_days"] = whole(
            doc, (*path, "days"), new.get("days"), problems, low=1, high=366, what=_("1–366 days")
        )
        cap = number(
            doc,
            (*path, "gmv_cap_yuan"),
            new.get("gmv_cap_yuan"),
            problems,
            low=0,
            high=10_000_000_000,
            what=_("yuan from 0 to 10,000,000,000"),
        )
        terms["new_cap_fen"] = int(Decimal(str(cap)) * 100)
        terms["new_rate_ppm"] = ppm((*path, "technical_fee"), new.get("technical_fee"))
    relief = section.get("dsr_relief") or []
    if not isinstance(relief, list):
        problems.append(
            _("{where}: expected a list").format(where=doc.where("merchant_terms", "dsr_relief"))
        )
        relief = []
    rows = []
    for index, spec in enumerate(relief):
        path = ("merchant_terms", "dsr_relief", str(index))
        if not isinstance(spec, dict):
            problems.append(
                _("{where}: expected {{min_shop_score: …, relief: …}}").format(
                    where=doc.where(*path)
                )
            )
            continue
        unknown_keys(doc, spec, path, {"min_shop_score", "relief"}, problems)
        score = number(
            doc,
            (*path, "min_shop_score"),
            spec.get("min_shop_score"),
            problems,
            low=0,
            high=5,
            what=_("a shop score from 0 to 5"),
        )
        rows.append((Decimal(str(score)), ppm((*path, "relief"), spec.get("relief"))))
    terms["dsr_relief"] = tuple(rows)
    busy = section.get("activity_discount")
    if busy is not None:
        path = ("merchant_terms", "activity_discount")
        if not isinstance(busy, dict):
            problems.append(
                _("{where}: expected min_activities and relief").format(where=doc.where(*path))
            )
            busy = {}
        unknown_keys(doc, busy, path, {"min_activities", "relief"}, problems)
        terms["busy_min_activities"] = whole(
            doc,
            (*path, "min_activities"),
            busy.get("min_activities"),
            problems,
            low=1,
            high=1000,
            what=_("a count from 1 to 1000"),
        )
        terms["busy_relief_ppm"] = ppm((*path, "relief"), busy.get("relief"))
    return MerchantTerms(**terms)


def _settlement(doc: ConfigDoc, section: object, problems: list) -> tuple:
    if not isinstance(section, list) or not section:
        problems.append(
            _("{where}: expected a list of {{min_shop_score, days}}").format(
                where=doc.where("settlement")
            )
        )
        return ((None, 20),)
    rules = []
    for index, spec in enumerate(section):
        path = ("settlement", str(index))
        if not isinstance(spec, dict):
            problems.append(
                _("{where}: expected {{min_shop_score: …, days: …}}").format(where=doc.where(*path))
            )
            continue
        unknown_keys(doc, spec, path, {"min_shop_score", "days"}, problems)
        days = whole(
            doc, (*path, "days"), spec.get("days"), problems, low=0, high=365, what=_("0–365 days")
        )
        score = spec.get("min_shop_score")
        if score is not None:
            value = number(
                doc,
                (*path, "min_shop_score"),
                score,
                problems,
                low=0,
                high=5,
                what=_("a shop score from 0 to 5"),
            )
            score = Decimal(str(value))
        rules.append((score, days))
    if rules and rules[-1][0] is not None:
        problems.append(
            _("{where}: the last rule takes every other order; give it no min_shop_score").format(
                where=doc.where("settlement", str(len(section) - 1))
            )
        )
    return tuple(rules)


# --- before the orders are written: their rates -----------------------------------------------


def fill_rates(
    orders: pl.DataFrame, terms: pl.DataFrame, rules: CommissionRules
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, str]]]:
    """Orders completed where the sheet leaves something out, the rows refused, and notes
    for the import summary as (level, text): "warning" when a person should act, "info"
    when not (silent under --quiet).

    `orders` holds staged values (money in fen, rates in parts per million); `terms`
    (`store.order_terms`) what the database knows of each order: its stored values, its
    product's and its anchor's. An order keeps what it was paid under: its stored rates,
    second-level leader and agency share; a new order takes its product's current rates
    (the notes say how many did) and its anchor's agency share. Merchant and category follow
    the product. Refused, with the reason: no commission rate to be had, a refund above the
    amount paid, commission and service fee above 100%, a second-level rate without a
    leader or a leader without a rate, a second-level rate above what the first level
    keeps of the service fee (1 − the platform's cut), and rates that with the technical
    fee would leave the merchant a negative share.
    """
    frame = orders
    for name, dtype in (
        ("merchant_id", pl.String),
        ("category_l1", pl.String),
        ("anchor_id", pl.String),
        ("commission_rate", pl.Int64),
        ("service_fee_rate", pl.Int64),
        ("second_leader_id", pl.String),
        ("second_leader_rate", pl.Int64),
        ("refund_amount", pl.Int64),
        ("received_at", pl.Date),
        ("mcn", pl.String),
        ("mcn_share", pl.Int64),
        ("shop_score", pl.Int64),
        ("pay_later", pl.Boolean),
    ):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name))
    frame = frame.join(terms, on="order_id", how="left")
    notes = []
    new = ~pl.col("stored").fill_null(False)
    for rate in ("commission_rate", "service_fee_rate"):
        took = frame.filter(
            pl.col(rate).is_null()
            & pl.col(f"{rate}_stored").is_null()
            & pl.col(f"{rate}_product").is_not_null()
        ).height
        if took:
            notes.append(
                (
                    "info",
                    _("{took} orders had no {rate}: their product's current rate was used").format(
                        took=took, rate=pgettext("column", rate)
                    ),
                )
            )
    frame = frame.with_columns(
        (
            (pl.col("commission_rate").is_null() & pl.col("commission_rate_stored").is_null())
            | (pl.col("service_fee_rate").is_null() & pl.col("service_fee_rate_stored").is_null())
        ).alias("_rates_from_product")
    )
    frame = frame.with_columns(
        pl.coalesce("commission_rate", "commission_rate_stored", "commission_rate_product"),
        pl.coalesce("service_fee_rate", "service_fee_rate_stored", "service_fee_rate_product"),
        pl.coalesce("second_leader_id", "second_leader_id_stored"),
        pl.coalesce("second_leader_rate", "second_leader_rate_stored"),
        pl.coalesce("merchant_id", "merchant_id_known"),
        pl.coalesce("category_l1", "category_l1_known"),
        pl.coalesce("anchor_id", "anchor_id_stored"),
        pl.coalesce("shop_score", "shop_score_known"),
    )
    # The agency's share as it stood when the order came in: the stored one while the
    # anchor stays the same, else the anchor's today.
    same_anchor = ~new & (pl.col("anchor_id") == pl.col("anchor_id_stored")).fill_null(False)
    frame = frame.with_columns(
        pl.coalesce(
            "mcn", pl.when(same_anchor).then(pl.col("mcn_stored")).otherwise(pl.col("mcn_anchor"))
        ).alias("mcn"),
        pl.coalesce(
            "mcn_share",
            pl.when(same_anchor)
            .then(pl.col("mcn_share_stored"))
            .otherwise(pl.col("mcn_share_anchor")),
        ).alias("mcn_share"),
    )
    no_fee = frame.filter(pl.col("service_fee_rate").is_null()).height
    if no_fee:
        notes.append(
            (
                "warning",
                _(
                    "{no_fee} orders have no service_fee_rate and no product to take it "
                    "from: the team leader earns nothing on them"
                ).format(no_fee=no_fee),
            )
        )
    waiting = frame.filter(
        pl.col("status").is_in(["received"]) & pl.col("received_at").is_null()
    ).height
    if waiting:
        notes.append(
            (
                "warning",
                _(
                    "{waiting} orders are received but have no received date: they do not "
                    "settle until one is imported"
                ).format(waiting=waiting),
            )
        )
    frame = frame.with_columns(_refusal(rules).alias("_refusal"))
    refused = frame.filter(pl.col("_refusal").is_not_null()).select(
        pl.col("_row").alias("row"),
        pl.col("_refusal").struct.field("column"),
        pl.col("_refusal").struct.field("value"),
        pl.col("_refusal").struct.field("reason"),
    )
    filled = [
        "merchant_id",
        "category_l1",
        "commission_rate",
        "service_fee_rate",
        "second_leader_id",
        "second_leader_rate",
        "mcn",
        "mcn_share",
        "shop_score",
    ]
    kept = frame.filter(pl.col("_refusal").is_null()).select(
        list(dict.fromkeys([*orders.columns, *filled]))
    )
    return kept, refused, notes


def _refusal(rules: CommissionRules) -> pl.Expr:
    """Why an order cannot be split (column, value, reason), or null."""
    keeps = PPM - rules.service_fee_cut_ppm
    fee = pl.col("service_fee_rate").fill_null(0)
    second, leader = pl.col("second_leader_rate"), pl.col("second_leader_id")

    def refuse(column: str, value: pl.Expr, reason: pl.Expr) -> pl.Expr:
        return pl.struct(
            pl.lit(column).alias("column"),
            value.cast(pl.String).alias("value"),
            reason.alias("reason"),
        )

    checks = [
        (
            pl.col("commission_rate").is_null(),
            refuse(
                "commission_rate",
                pl.lit(None),
                pl.lit(_("no commission rate, and product "))
                + pl.col("product_id")
                + pl.lit(_(" is not in the database to take it from")),
            ),
        ),
        (
            pl.col("refund_amount").fill_null(0) > pl.col("paid_amount"),
            refuse(
                "refund_amount",
                (pl.lit("¥") + yuan(pl.col("refund_amount"))),
                pl.lit(_("the refund is more than the "))
                + pl.lit("¥")
                + yuan(pl.col("paid_amount"))
                + pl.lit(" paid"),
            ),
        ),
        (
            pl.col("commission_rate") + fee > PPM,
            refuse(
                "service_fee_rate",
                percent_ppm(fee),
                pl.lit(_("commission "))
                + percent_ppm(pl.col("commission_rate"))
                + pl.lit(_(" and service fee "))
                + percent_ppm(fee)
                + pl.lit(_(" add up to more than 100%")),
            ),
        ),
        (
            second.is_not_null() & leader.is_null(),
            refuse(
                "second_leader_id",
                pl.lit(None),
                pl.lit(_("a second-level rate needs the second-level leader's ID (二级团长ID)")),
            ),
        ),
        (
            leader.is_not_null() & second.is_null(),
            refuse(
                "second_leader_rate",
                pl.lit(None),
                pl.lit(_("second-level leader "))
                + leader
                + pl.lit(_(" has no rate (二级团长服务费率)")),
            ),
        ),
        (
            second.is_not_null() & pl.col("service_fee_rate").is_null(),
            refuse(
                "second_leader_rate",
                percent_ppm(second),
                pl.lit(_("a second-level rate, but the order has no service-fee rate")),
            ),
        ),
        (
            second.is_not_null() & (second * PPM > fee * keeps),
            refuse(
                "second_leader_rate",
                percent_ppm(second),
                pl.lit(_("second-level rate "))
                + percent_ppm(second)
                + pl.lit(_(" is above the first level's net rate "))
                + percent_ppm(fee * keeps // PPM)
                + pl.lit(_(" (the service fee less the platform's cut)")),
            ),
        ),
    ]
    checks.append(_negative_merchant_share(rules, refuse))
    expr: Then | ChainedThen = pl.when(checks[0][0]).then(checks[0][1])
    for condition, reason in checks[1:]:
        expr = expr.when(condition.fill_null(False)).then(reason)
    return expr.otherwise(None)


def _negative_merchant_share(
    rules: CommissionRules, refuse: Callable[[str, pl.Expr, pl.Expr], pl.Expr]
) -> tuple[pl.Expr, pl.Expr]:
    """Rates that leave the merchant less than nothing: commission, service fee and the
    technical fee above 100%, or (at 100% or just below) a small amount whose rounded terms
    come to a fen more than it. Computed as the split computes them (`split_orders_query`)."""
    commission, fee = pl.col("commission_rate"), pl.col("service_fee_rate").fill_null(0)
    pay_later = pl.col("pay_later").fill_null(False)
    technical = pl.col("category_l1").replace_strict(
        rules.technical_by_category_ppm, default=rules.technical_default_ppm, return_dtype=pl.Int64
    ).fill_null(rules.technical_default_ppm) + pl.when(pay_later).then(
        rules.pay_later_extra_ppm
    ).otherwise(0)
    base = (
        pl.when(pl.col("status") == "invalid")
        .then(0)
        .otherwise((pl.col("paid_amount") - pl.col("refund_amount").fill_null(0)).clip(0))
    )

    def rounded(ppm: pl.Expr) -> pl.Expr:
        return (base * ppm + PPM // 2) // PPM

    merchant = base - rounded(commission) - rounded(fee) - rounded(technical)
    total = commission + fee + technical
    rates = (
        pl.lit(_("commission "))
        + percent_ppm(commission)
        + pl.lit(_(" + service fee "))
        + percent_ppm(fee)
        + pl.lit(_(" + technical fee "))
        + percent_ppm(technical)
        + pl.lit(_(" (technical_fee in commission.yaml"))
        + pl.when(pay_later).then(pl.lit(_(", pay-later extra included"))).otherwise(pl.lit(""))
        + pl.lit(")")
        + pl.when(pl.col("_rates_from_product"))
        .then(pl.lit(_(", the rates taken from product ")) + pl.col("product_id") + pl.lit(","))
        .otherwise(pl.lit(""))
    )
    reason = (
        pl.when(total > PPM)
        .then(
            rates
            + pl.lit(_(" add up to "))
            + percent_ppm(total)
            + pl.lit(_(": the merchant's share would be negative"))
        )
        .otherwise(
            rates
            + pl.lit(_(" leave the merchant ¥"))
            + yuan(merchant)
            + pl.lit(_(" on this amount once each is rounded to the fen"))
        )
    )
    refused = refuse("commission_rate", percent_ppm(commission), reason)
    return (total > PPM) | (merchant < 0), refused


# --- the split as SQL -------------------------------------------------------------------------


def _round(amount: str, ppm: str | int) -> str:
    """amount × rate, half up to the fen (amount ≥ 0, rate in parts per million)."""
    return f"(({amount}) * ({ppm}) + {PPM // 2}) // {PPM}"


def split_orders_query(rules: CommissionRules, orders: OrderSelection = ALL_ORDERS) -> Query:
    """One query: the split of every order `orders` selects, a row an order: order_id,
    merchant_id, anchor_id, session_id, paid_on, mcn, second_leader_id, settles_on and, in
    fen, `base` and each share: merchant, anchor, agency, leader, second_leader,
    commission_cut, service_fee_cut, technical_fee (the last three the platform's). The
    shares add up to the base.

    The store runs it (`store.post_ledger`); the categories and the selection are parameters,
    the rules' rates and days are written into the text: they come from the checked
    commission.yaml, not from a sheet."""
    where = orders.where()
    categories = {f"category_{i}": name for i, name in enumerate(rules.technical_by_category_ppm)}
    technical = " ".join(
        f"WHEN ${key} THEN {rules.technical_by_category_ppm[name]}"
        for key, name in categories.items()
    )
    technical_ppm = (
        f"CASE o.category_l1 {technical} ELSE {rules.technical_default_ppm} END"
        if technical
        else str(rules.technical_default_ppm)
    )
    settle_days = " ".join(
        f"WHEN o.shop_score >= {score} THEN {days}"
        for score, days in rules.settlement
        if score is not None
    )
    last_days = rules.settlement[-1][1]
    days = f"CASE {settle_days} ELSE {last_days} END" if settle_days else str(last_days)
    terms = rules.terms
    reliefs = []
    if terms.dsr_relief:
        steps = " ".join(
            f"WHEN o.shop_score >= {score} THEN {relief}" for score, relief in terms.dsr_relief
        )
        reliefs.append(f"CASE {steps} ELSE 0 END")
    busy_cte = busy_join = ""
    if terms.busy_relief_ppm:
        # 降佣: the months in which a merchant takes part in enough activities.
        busy_cte = f"""busy AS (
            SELECT a.merchant_id, date_trunc('month', w.starts_at) AS month
            FROM applications a JOIN activity_windows w USING (activity_id)
            WHERE (a.activity_id, a.product_id) IN (
                SELECT (activity_id, product_id) FROM decisions
                QUALIFY row_number() OVER (PARTITION BY activity_id, product_id
                                           ORDER BY decision_id DESC) = 1
                    AND status = 'passed')
            GROUP BY ALL
            HAVING count(DISTINCT a.activity_id) >= {terms.busy_min_activities}
        ),"""
        busy_join = (
            "LEFT JOIN busy b ON b.merchant_id = o.merchant_id "
            "AND b.month = date_trunc('month', o.paid_at)"
        )
        reliefs.append(f"CASE WHEN b.month IS NOT NULL THEN {terms.busy_relief_ppm} ELSE 0 END")
    new_cte = new_join = ""
    covered = "0"
    if terms.new_merchants:
        # New merchants: the first part of their GMV within the window pays the new rate. The
        # cap spans the merchant's orders in payment order (date, then order ID), so every
        # order of such a merchant in its window is looked at, selected or not.
        new_cte = _covered_ctes(
            rules,
            None
            if where.sql == "TRUE"
            else f"SELECT o.merchant_id FROM orders o WHERE {where.sql}",
        )
        new_join = "LEFT JOIN covered nc ON nc.order_id = o.order_id"
        covered = "coalesce(nc.covered, 0)"
    technical_ppm = (
        f"{technical_ppm} + CASE WHEN o.pay_later THEN {rules.pay_later_extra_ppm} ELSE 0 END"
    )
    if reliefs:
        technical_ppm = f"greatest({technical_ppm} - {' - '.join(reliefs)}, 0)"
    prefix = f"{new_cte}{busy_cte}"
    # BIGINT holds base × rate for any base up to ¥92 billion an order (HUGEINT took 5×
    # the time over a million orders).
    ppm = f"* {PPM} AS BIGINT)"
    sql = f"""
        WITH {prefix} o AS (
            SELECT o.order_id, o.merchant_id, o.anchor_id, o.session_id, o.paid_at AS paid_on,
                o.second_leader_id, o.mcn,
                CASE WHEN o.status = 'invalid' THEN 0
                     ELSE greatest(o.paid_amount_fen - coalesce(o.refund_amount_fen, 0), 0)
                     END AS base,
                CAST(coalesce(o.commission_rate, 0) {ppm} AS c_ppm,
                CAST(coalesce(o.service_fee_rate, 0) {ppm} AS s_ppm,
                CAST(CASE WHEN o.second_leader_id IS NULL THEN 0
                     ELSE coalesce(o.second_leader_rate, 0) END {ppm} AS q_ppm,
                CAST(CASE WHEN o.mcn IS NULL THEN 0 ELSE coalesce(o.mcn_share, 0) END {ppm}
                    AS m_ppm,
                {technical_ppm} AS t_ppm, {covered} AS covered,
                CASE WHEN o.status = 'invalid' THEN NULL
                     -- the platform's own settlement date (实际结算时间) when it gave one
                     WHEN o.settled_at IS NOT NULL THEN CAST(o.settled_at AS DATE)
                     WHEN o.received_at IS NOT NULL THEN o.received_at + {days}
                     WHEN o.status = 'settled' THEN coalesce(o.paid_at, DATE '1970-01-01')
                END AS settles_on
            FROM orders o {new_join} {busy_join}
            WHERE {where.sql}
        ), fees AS (
            SELECT *, {_round("base", "c_ppm")} AS commission,
                      {_round("base", "s_ppm")} AS service_fee,
                      {_round("covered", terms.new_rate_ppm)}
                        + {_round("base - covered", "t_ppm")} AS technical_fee,
                      {_round("base", "q_ppm")} AS second_asked
            FROM o
        ), cuts AS (
            SELECT *, {_round("commission", rules.commission_cut_ppm)} AS commission_cut,
                      {_round("service_fee", rules.service_fee_cut_ppm)} AS service_fee_cut
            FROM fees
        ), nets AS (
            SELECT *, commission - commission_cut AS anchor_net,
                      service_fee - service_fee_cut AS leader_net
            FROM cuts
        ), split AS (
            -- Half-fen rounding could let the second level ask a fen more than the first
            -- level's net; it never gets more than that net.
            SELECT *, {_round("anchor_net", "m_ppm")} AS agency,
                      least(second_asked, leader_net) AS second_leader
            FROM nets
        )
        SELECT order_id, merchant_id, anchor_id, session_id, paid_on, mcn,
               second_leader_id, settles_on, base,
               base - commission - service_fee - technical_fee AS merchant,
               anchor_net - agency AS anchor, agency, leader_net - second_leader AS leader,
               second_leader, commission_cut, service_fee_cut, technical_fee
        FROM split
    """
    return Query(sql, {**where.params, **categories})


def _covered_ctes(rules: CommissionRules, merchants: str | None) -> str:
    """`new_orders` and `covered`: each order of the new merchants among `merchants` (a
    query of merchant IDs; None: every merchant) paid within their window, and the part of
    its base (`covered`) under the cap. The cap spans the merchant's orders in payment order
    (date, then order ID), so every order of such a merchant in its window is looked at,
    selected or not."""
    terms = rules.terms
    among = f"AND n.merchant_id IN ({merchants})" if merchants is not None else ""
    return f"""new_orders AS (
            SELECT n.order_id, n.merchant_id, n.paid_at,
                   CASE WHEN n.status = 'invalid' THEN 0
                        ELSE greatest(n.paid_amount_fen - coalesce(n.refund_amount_fen, 0), 0)
                        END AS base
            FROM orders n JOIN merchants m USING (merchant_id)
            WHERE n.paid_at >= m.joined_on AND n.paid_at < m.joined_on + {terms.new_days}
              {among}
        ), covered AS (
            -- BIGINT: between 0 and the order's base (a window's sum is 128-bit, and
            -- 128-bit arithmetic in the split took several times as long).
            SELECT order_id,
                   CAST(greatest(least({terms.new_cap_fen} - coalesce(sum(base) OVER (
                       PARTITION BY merchant_id ORDER BY paid_at, order_id
                       ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), base), 0)
                       AS BIGINT) AS covered
            FROM new_orders
        ),"""


def postings_query(rules: CommissionRules, orders: OrderSelection = ALL_ORDERS) -> Query:
    """The ledger postings of the split of every order `orders` selects, a row an order
    with a share that is not 0 (`store.POSTING`): order_id, settles_on, the merchant,
    anchor, session and paid date they are posted under, the agency and second-level leader
    (null where their share is 0: an entry's party), and each share in fen."""
    columns = [column.removesuffix("_fen") for column, _account, _item in SHARES]
    shares = ", ".join(f"{column} AS {column}_fen" for column in columns)
    any_share = " OR ".join(f"{column} <> 0" for column in columns)
    split = split_orders_query(rules, orders)
    return Query(
        f"WITH split_orders AS ({split.sql}) "
        "SELECT order_id, settles_on, merchant_id, anchor_id, session_id, paid_on, "
        "CASE WHEN agency <> 0 THEN mcn END AS mcn, "
        "CASE WHEN second_leader <> 0 THEN second_leader_id END AS second_leader_id, "
        f"{shares} FROM split_orders WHERE {any_share}",
        split.params,
    )


# --- an import of orders ----------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerHooks:
    """What an import of orders adds around writing them (`ingest.columns.WriteHooks`):
    completing and checking them first, posting their splits to the ledger after."""

    rules: CommissionRules

    def before_write(
        self, con: duckdb.DuckDBPyConnection, rows: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, str]]]:
        completed = complete_orders(con, rows, self.rules)
        note_covered(con, self.rules, completed[0])
        return completed

    def after_write(self, con: duckdb.DuckDBPyConnection, import_id: int) -> tuple[int, int]:
        return post_import(con, self.rules, import_id)


def complete_orders(
    con: duckdb.DuckDBPyConnection, valid: pl.DataFrame, rules: CommissionRules
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, str]]]:
    """Before an import writes its orders: fill what they lack, refuse what cannot be split
    (see `fill_rates`). Returns the rows to write, the refusals and notes."""
    from haowu_cli import store as db

    if valid.is_empty():
        return (
            valid,
            valid.clear()
            .select(pl.col("_row").alias("row"))
            .with_columns(
                pl.lit(None, dtype=pl.String).alias(c) for c in ("column", "value", "reason")
            ),
            [],
        )
    return fill_rates(valid, db.order_terms(con, valid), rules)


def post_import(
    con: duckdb.DuckDBPyConnection, rules: CommissionRules, import_id: int
) -> tuple[int, int]:
    """After an import wrote its orders (all of a file, every part of a large one): post the
    splits of the orders it inserted or changed, in batches (`store.post_ledger_in_batches`)
    within its transaction. Returns (orders posted, of which reversed earlier entries)."""
    from datetime import datetime

    from haowu_cli import store as db

    spread = rules.terms.new_merchants
    # The other orders of the new merchants it touched whose part under the cap moved
    # (`note_covered` kept that part before the write); without that note, every order of
    # those merchants.
    covered = covered_query(rules, f"SELECT merchant_id FROM {db.SPREAD_MERCHANTS}")
    spread_orders = db.spread_orders(con, covered) if spread else None
    try:
        touched = db.OrderSelection(
            updated_by_import=import_id,
            spread_new_merchants=spread and spread_orders is None,
            spread_orders_table=spread_orders,
        )
        return db.post_ledger_in_batches(
            con, partial(postings_query, rules), touched, import_id, datetime.now()
        )
    finally:
        if spread_orders is not None:
            db.forget_spread(con)


def covered_query(rules: CommissionRules, merchants: str) -> str:
    """Each order of the new merchants among `merchants` (a query of merchant IDs) paid in
    their window: order_id and `covered`, the part of its base under the cap."""
    return (
        f"WITH {_covered_ctes(rules, merchants)} now AS (SELECT * FROM covered) SELECT * FROM now"
    )


def note_covered(
    con: duckdb.DuckDBPyConnection, rules: CommissionRules, rows: pl.DataFrame
) -> None:
    """Before an import writes `rows` (completed orders; a part of a large file): the new
    merchants they may touch and the part under the cap of each of their orders
    (`store.keep_covered`, added to what earlier parts kept), for `post_import` to re-split,
    beside the orders written, exactly the orders whose part moved: an untouched order's
    split depends on the others only through that part."""
    from haowu_cli import store as db

    if rules.terms.new_merchants:
        db.keep_covered(con, rows, covered_query(rules, f"SELECT merchant_id FROM {db.SPREAD_NEW}"))


def resplit(
    con: duckdb.DuckDBPyConnection,
    rules: CommissionRules,
    *,
    merchant: str | None = None,
    what: str,
) -> tuple[int, int]:
    """Split every order (a merchant's, when given) again by today's terms and post what
    changed: reversing entries for the old split, entries for the new. It is recorded as an
    import of kind `resplit` (`what` says why). Returns (orders posted, of which reversed
    earlier entries). Call inside a transaction."""
    from datetime import datetime

    from haowu_cli import store as db

    import_id = db.next_import_id(con)
    started = datetime.now()
    selection = db.OrderSelection(merchant=merchant)
    posted = db.post_ledger(con, postings_query(rules, selection), selection, import_id, started)
    db.record_import(
        con,
        {
            "import_id": import_id,
            "kind": "resplit",
            "file_name": what,
            "merchant_id": merchant,
            "started_at": started,
            "finished_at": datetime.now(),
            "rows_read": 0,
            "inserted": 0,
            "updated": posted[0],
            "unchanged": 0,
            "rejected": 0,
            "skipped": 0,
        },
    )
    return posted
