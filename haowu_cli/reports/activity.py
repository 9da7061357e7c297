"""An activity's report: its applications by status and by reason, the pass rate by category
and by merchant, GMV by window against the plan, and the top products."""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from haowu_cli import store as db
from haowu_cli.activities import STATUS_WORDS, require_activity
from haowu_cli.formats import yuan
from haowu_cli.i18n import N_, _
from haowu_cli.reports.document import Chart, Figure, Report, Series, Table, bar
from haowu_cli.tables import Column

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

# Which rule a reason names (the review's reasons start with the rule's words); anything
# else is a person's reason.
RULE_OF_REASON = [
    ("尚未评级", "min_level"),
    ("等级", "min_level"),
    ("佣金比例", "min_commission_rate"),
    ("服务费率", "min_service_fee_rate"),
    ("高于划线价", "max_price_vs_list"),
    ("近期最低价", "max_price_vs_lowest"),
    ("活动库存", "min_stock"),
    ("样品", "sample_required"),
    ("店铺评分", "min_shop_score"),
    ("不在活动类目", "categories"),
    ("招商名单", "merchants"),
]
TOP_PRODUCTS = 10

# Each rule as people read it, with its key in the activity file.
RULE_WORDS = {
    "min_level": N_("minimum grade"),
    "min_commission_rate": N_("minimum commission rate"),
    "min_service_fee_rate": N_("minimum service fee rate"),
    "max_price_vs_list": N_("price against the list price"),
    "max_price_vs_lowest": N_("price against the recent lowest price"),
    "min_stock": N_("minimum activity stock"),
    "sample_required": N_("sample required"),
    "min_shop_score": N_("minimum shop score"),
    "categories": N_("activity categories"),
    "merchants": N_("invited merchants"),
    "person": N_("a reviewer's reason"),
}


def rule_label(rule: str) -> str:
    """A rule of the review in the language in use, its key after it."""
    words = RULE_WORDS.get(rule)
    if words is None:
        return rule
    if rule == "person":
        return _(words)
    return _("{label} ({key})").format(label=_(words), key=rule)


def _rule(reason: pl.Expr) -> pl.Expr:
    expr: Then | ChainedThen  # Then, or a ChainedThen once a `when` is chained to it
    expr = pl.when(reason.str.contains(RULE_OF_REASON[0][0], literal=True)).then(
        pl.lit(RULE_OF_REASON[0][1])
    )
    for words, rule in RULE_OF_REASON[1:]:
        expr = expr.when(reason.str.contains(words, literal=True)).then(pl.lit(rule))
    return expr.otherwise(pl.lit("person"))


def _money(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    return frame.with_columns(yuan(pl.col(f"{n}_fen")).alias(n) for n in names).drop(
        [f"{n}_fen" for n in names]
    )


def _rates(apps: pl.DataFrame, by: str) -> pl.DataFrame:
    return (
        apps.group_by(by)
        .agg(
            pl.len().alias("applications"),
            (pl.col("status") == "passed").sum().alias("passed"),
            (pl.col("status") == "rejected").sum().alias("rejected"),
        )
        .with_columns((pl.col("passed") / pl.col("applications")).round(4).alias("pass_rate"))
        .sort(by)
    )


def activity_report(store: db.Store, activity_id: str) -> Report:
    activity = require_activity(store, activity_id)
    with store.read() as con:
        apps = db.activity_applications(con, activity.activity_id)
        windows, products = db.activity_sales(con, activity.activity_id)
    statuses = ["passed", "rejected", "manual", "pending"]
    by_status = pl.DataFrame(
        {
            "status": statuses,
            "result": [STATUS_WORDS[s] for s in statuses],
            "applications": [int((apps["status"] == s).sum()) for s in statuses],
        }
    )
    reasons = (
        apps.filter(pl.col("status") == "rejected")
        .select("product_id", pl.col("reasons").alias("reason"))
        .explode("reason")
        .drop_nulls("reason")
        .with_columns(_rule(pl.col("reason")).alias("rule"))
        .group_by("rule")
        .agg(pl.col("product_id").n_unique().alias("applications"))
        .sort(["applications", "rule"], descending=[True, False])
    )
    by_category = _rates(apps, "category_l1")
    by_merchant = _rates(apps, "merchant_id")
    windows = windows.with_columns(
        pl.col("first_day").cast(pl.String), pl.col("last_day").cast(pl.String)
    )
    window_frame = _money(windows, "gmv", "planned_gmv")
    top = _money(products.head(TOP_PRODUCTS), "gmv")
    total = apps.height
    passed = int((apps["status"] == "passed").sum())
    gmv = int(windows["gmv_fen"].sum() or 0)
    widest = max([int(v or 0) for v in windows["gmv_fen"]] + [1])
    percent = pl.format("{}%", (pl.col("pass_rate") * 100).round(1))
    tables = [
        Table(
            "by_status",
            _("Applications by status"),
            by_status,
            by_status,
            [Column("result", "审核"), Column("applications", "applications", "right")],
        ),
        Table(
            "by_reason",
            _("Rejections by rule"),
            reasons,
            reasons,
            [
                Column("rule", N_("rule"), words=rule_label),
                Column("applications", "applications", "right"),
            ],
            empty=_("no rejections"),
        ),
        Table(
            "by_category",
            _("Pass rate by category"),
            by_category,
            by_category.with_columns(percent.alias("pass_rate")),
            [
                Column("category_l1", "category"),
                Column("applications", N_("applied"), "right"),
                Column("passed", "通过", "right"),
                Column("rejected", "拒绝", "right"),
                Column("pass_rate", "pass rate", "right"),
            ],
        ),
        Table(
            "by_merchant",
            _("Pass rate by merchant"),
            by_merchant,
            by_merchant.with_columns(percent.alias("pass_rate")),
            [
                Column("merchant_id", "merchant"),
                Column("applications", N_("applied"), "right"),
                Column("passed", "通过", "right"),
                Column("rejected", "拒绝", "right"),
                Column("pass_rate", "pass rate", "right"),
            ],
        ),
        Table(
            "by_window",
            _("GMV by window against the plan"),
            window_frame,
            window_frame.with_columns(
                ("¥" + pl.col("gmv")).alias("gmv"),
                pl.when(pl.col("planned_gmv").is_null())
                .then(pl.lit("—"))
                .otherwise("¥" + pl.col("planned_gmv"))
                .alias("planned_gmv"),
                pl.Series("bar", [bar(int(v or 0), widest) for v in windows["gmv_fen"]]),
            ),
            [
                Column("name", N_("window")),
                Column("first_day", "from"),
                Column("last_day", "to"),
                Column("units", "units", "right"),
                Column("gmv", "GMV", "right"),
                Column("planned_gmv", "planned", "right"),
                Column("bar", ""),
            ],
        ),
        Table(
            "top_products",
            _("Top products"),
            top,
            top.with_columns(("¥" + pl.col("gmv")).alias("gmv")),
            [
                Column("product_id", "product"),
                Column("title", "title", max_width=24),
                Column("merchant_id", "merchant"),
                Column("units", "units", "right"),
                Column("gmv", "GMV", "right"),
            ],
            empty=_("no orders in the activity's windows yet"),
        ),
    ]
    charts = [
        Chart(
            "by_window",
            _("GMV by window against the plan"),
            "bars",
            windows["name"].to_list(),
            [
                Series(
                    "GMV",
                    [int(v or 0) for v in windows["gmv_fen"]],
                    ["¥" + v for v in window_frame["gmv"].to_list()],
                ),
                Series(
                    _("planned"),
                    [int(v or 0) for v in windows["planned_gmv_fen"]],
                    ["¥" + (v or "0.00") for v in window_frame["planned_gmv"].to_list()],
                ),
            ],
        )
    ]
    rate = f"{passed / total:.0%}" if total else "—"
    return Report(
        kind="activity",
        title=_("Activity {id}: {name}").format(id=activity.activity_id, name=activity.name),
        subtitle=" · ".join(  # no date runs into a time: machine text has ISO times only
            f"{w.name} {w.starts_at:%Y-%m-%d}, {w.starts_at:%H:%M} – {w.ends_at:%Y-%m-%d}, "
            f"{w.ends_at:%H:%M}"
            for w in activity.windows
        ),
        figures=[
            Figure("applications", _("applications"), total, f"{total:,}"),
            Figure("passed", _("passed (通过)"), passed, f"{passed:,}"),
            Figure("pass_rate", _("pass rate"), round(passed / total, 4) if total else None, rate),
            Figure(
                "gmv",
                _("GMV in its windows"),
                f"{gmv // 100}.{gmv % 100:02d}",
                f"¥{gmv // 100:,}.{gmv % 100:02d}",
            ),
        ],
        tables=tables,
        charts=charts,
    )
