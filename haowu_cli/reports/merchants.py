"""Merchant growth (跃迁): monthly GMV per merchant from the orders, the milestones crossed
this month, and the merchants closest to their next one.

A merchant crossed a milestone this month when its GMV reached it this month and had not the
month before; `first_time` when no earlier month on record reached it either (the record
starts with the first imported order). GMV is paid or net of refunds by
`configs/reports.yaml`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from haowu_cli import formats
from haowu_cli import store as db
from haowu_cli.commission import PPM
from haowu_cli.dates import today as dates_today
from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.reports.document import Chart, Figure, Report, Series, Table, bar
from haowu_cli.reports.settings import Milestone, ReportRules
from haowu_cli.tables import Column


def previous_month(month: dt.date) -> dt.date:
    if (month.year, month.month) == (1, 1):
        raise UsageError(_("there is no month before 0001-01"))
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def merchants_report(
    store: db.Store,
    rules: ReportRules,
    month: dt.date | None,
    *,
    today: dt.date | None = None,
    config_dir: Path | None = None,
) -> Report:
    """The report for `month`, by default the latest month with orders that is not after
    `today`'s (default: `dates.today()`): orders dated in a later month (a wrong clock, a
    pre-sale) do not make a month that has not come the default. Each merchant's activities
    that month and its 降佣 eligibility come from the merchant terms in `config_dir`'s
    commission.yaml (default: the packaged one)."""
    from haowu_cli.config import packaged_path
    from haowu_cli.merchants import month_activities

    with store.read() as con:
        monthly = db.monthly_gmv(con, net=rules.merchant_gmv == "net")
        names = db.merchant_names(con)
    if monthly.is_empty():
        raise HaowuError(
            _("no orders with a paid date yet"),
            hint=_("import orders first: haowu import --kind orders FILE"),
        )
    later_note: list[str] = []
    if month is None:
        this_month = (today or dates_today()).replace(day=1)
        # The latest month of a Date column: a date, or None (polars types it as any scalar).
        month = (
            monthly.filter(pl.col("month") <= this_month)["month"].max()  # type: ignore[assignment]
        )
        later = monthly.filter(pl.col("month") > this_month)
        if month is None:
            raise HaowuError(
                _(
                    "no orders paid in {this_month:%Y-%m} or before: every order is dated "
                    "{min:%Y-%m} or later"
                ).format(this_month=this_month, min=later["month"].min()),
                hint=_("name the month with --month YYYY-MM"),
            )
        if later.height:
            later_note.append(
                _(
                    "{sum:,} orders are dated after this month (to {max:%Y-%m}): see them "
                    "with --month YYYY-MM"
                ).format(sum=later["orders"].sum(), max=later["month"].max())
            )
    month = month.replace(day=1)
    before = previous_month(month)
    unknown = monthly.filter(pl.col("merchant_id").is_null() & (pl.col("month") == month))
    monthly = monthly.filter(pl.col("merchant_id").is_not_null())
    activities = month_activities(store, config_dir or packaged_path("configs"), month)
    merchants = (
        _merchants(monthly, month, before, rules.milestones)
        .join(names, on="merchant_id", how="left", maintain_order="left")
        .join(activities, on="merchant_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("activities_this_month").fill_null(0).alias("activities"),
            pl.col("discount_eligible").fill_null(False),
        )
    )
    crossings = _crossings(merchants, rules.milestones)
    closest = (
        merchants.filter(pl.col("next_fen").is_not_null() & (pl.col("gmv_fen") > 0))
        .with_columns(
            (pl.col("gmv_fen").cast(pl.Int128) * PPM // pl.col("next_fen")).alias("_progress")
        )
        .sort(["_progress", "gap_fen", "merchant_id"], descending=[True, False, False])
        .head(rules.closest)
        .drop("_progress")
    )
    gmv_word = _("as paid") if rules.merchant_gmv == "paid" else _("net of refunds")
    total, total_before = int(merchants["gmv_fen"].sum()), int(merchants["previous_fen"].sum())
    growth = formats.ratio_of(total - total_before, total_before)
    growth_text = formats.share_of(total - total_before, total_before, 0)
    label = f"{month:%Y-%m}"
    active = merchants.filter(pl.col("orders") > 0).height
    firsts = crossings.filter(pl.col("first_time")).height
    notes = ([] if active else [_("no orders paid in {label}").format(label=label)]) + later_note
    if unknown.height:
        notes.append(
            _(
                "{sum:,} orders of {label} name no merchant, nor does their product: "
                "left out (import the product sheet)"
            ).format(sum=unknown["orders"].sum(), label=label)
        )
    return Report(
        kind="merchants",
        title=_("Merchant growth 跃迁: {label}").format(label=label),
        subtitle=(
            _("monthly GMV ({gmv_word}) per merchant against {before:%Y-%m}; milestones ").format(
                gmv_word=gmv_word, before=before
            )
            + ", ".join(
                f"{m.name} (¥{formats.fen_text(m.gmv_fen, grouped=True).removesuffix('.00')})"
                for m in rules.milestones
            )
        ),
        figures=[
            Figure("month", _("month"), label, label),
            Figure("merchants", _("merchants with orders"), active, str(active)),
            Figure("gmv", "GMV", formats.fen_text(total), formats.fen_label(total)),
            Figure(
                "previous_gmv",
                f"GMV {before:%Y-%m}",
                formats.fen_text(total_before),
                formats.fen_label(total_before),
            ),
            Figure("growth", _("growth"), growth, growth_text),
            Figure("crossed", _("milestones crossed"), crossings.height, str(crossings.height)),
            Figure("first_time", _("crossed for the first time"), firsts, str(firsts)),
        ],
        tables=[
            _merchants_table(merchants, label, before),
            _crossings_table(crossings),
            _closest_table(closest),
        ],
        charts=_charts(merchants, closest, label, before),
        notes=notes,
    )


def _merchants(
    monthly: pl.DataFrame, month: dt.date, before: dt.date, milestones: tuple[Milestone, ...]
) -> pl.DataFrame:
    """One row per merchant with orders this month or last: GMV both months, its best month
    before this one, the highest milestone reached and the next, with the gap."""

    def in_month(when: dt.date) -> pl.DataFrame:
        return monthly.filter(pl.col("month") == when).drop("month")

    best_before = (
        monthly.filter(pl.col("month") < month)
        .group_by("merchant_id")
        .agg(pl.col("gmv_fen").max().alias("best_before_fen"))
    )
    frame = (
        in_month(month)
        .join(
            in_month(before).select("merchant_id", pl.col("gmv_fen").alias("previous_fen")),
            on="merchant_id",
            how="full",
            coalesce=True,
        )
        .join(best_before, on="merchant_id", how="left")
        .with_columns(pl.col("orders", "gmv_fen", "previous_fen", "best_before_fen").fill_null(0))
    )
    reached, following = [], []
    for gmv in frame["gmv_fen"]:
        done = [m for m in milestones if gmv >= m.gmv_fen]
        ahead = [m for m in milestones if gmv < m.gmv_fen]
        reached.append(done[-1].name if done else None)
        following.append(ahead[0] if ahead else None)
    return (
        frame.with_columns(
            pl.Series("reached", reached, dtype=pl.String),
            pl.Series("next", [m.name if m else None for m in following], dtype=pl.String),
            pl.Series("next_fen", [m.gmv_fen if m else None for m in following], dtype=pl.Int64),
        )
        .with_columns((pl.col("next_fen") - pl.col("gmv_fen")).alias("gap_fen"))
        .sort(["gmv_fen", "merchant_id"], descending=[True, False])
    )


def _crossings(merchants: pl.DataFrame, milestones: tuple[Milestone, ...]) -> pl.DataFrame:
    rows = []
    for row in merchants.iter_rows(named=True):
        for milestone in milestones:
            if row["previous_fen"] < milestone.gmv_fen <= row["gmv_fen"]:
                rows.append(
                    {
                        "merchant_id": row["merchant_id"],
                        "merchant_name": row["merchant_name"],
                        "milestone": milestone.name,
                        "milestone_fen": milestone.gmv_fen,
                        "gmv_fen": row["gmv_fen"],
                        "previous_fen": row["previous_fen"],
                        "first_time": row["best_before_fen"] < milestone.gmv_fen,
                    }
                )
    schema = {
        "merchant_id": pl.String,
        "merchant_name": pl.String,
        "milestone": pl.String,
        "milestone_fen": pl.Int64,
        "gmv_fen": pl.Int64,
        "previous_fen": pl.Int64,
        "first_time": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema).sort(
        ["milestone_fen", "gmv_fen"], descending=[True, True]
    )


def _merchants_table(merchants: pl.DataFrame, label: str, before: dt.date) -> Table:
    growth = pl.col("gmv_fen") - pl.col("previous_fen")
    frame = merchants.select(
        "merchant_id",
        "merchant_name",
        "orders",
        formats.yuan(pl.col("gmv_fen")).alias("gmv"),
        formats.yuan(pl.col("previous_fen")).alias("previous_gmv"),
        formats.ratio(growth, pl.col("previous_fen")).alias("growth"),
        "reached",
        "next",
        formats.yuan(pl.col("gap_fen")).alias("gap"),
        "activities",
        "discount_eligible",
    )
    # (fen: polars types an integer column's max as any scalar)
    widest = int(merchants["gmv_fen"].max() or 0)  # type: ignore[arg-type]
    view = merchants.select(
        "merchant_id",
        pl.col("merchant_name").fill_null(""),
        "orders",
        formats.yuan_label(pl.col("gmv_fen")).alias("gmv"),
        formats.yuan_label(pl.col("previous_fen")).alias("previous_gmv"),
        formats.share(growth, pl.col("previous_fen"), 0)
        .fill_null(_("none last month"))
        .alias("growth"),
        pl.col("reached").fill_null(""),
        pl.col("next").fill_null("—"),
        formats.yuan_label(pl.col("gap_fen")).fill_null("").alias("gap"),
        "activities",
        pl.when(pl.col("discount_eligible"))
        .then(pl.lit(_("yes")))
        .otherwise(pl.lit(""))
        .alias("discount_eligible"),
        pl.col("gmv_fen")
        .map_elements(lambda v: bar(v, widest), return_dtype=pl.String)
        .alias("bar"),
    )
    columns = [
        Column("merchant_id", N_("merchant")),
        Column("merchant_name", N_("name"), max_width=16),
        Column("orders", N_("orders"), "right"),
        Column("gmv", f"GMV {label}", "right"),
        Column("previous_gmv", f"GMV {before:%Y-%m}", "right"),
        Column("growth", N_("growth"), "right"),
        Column("reached", N_("reached")),
        Column("next", N_("next")),
        Column("gap", N_("gap"), "right"),
        Column("activities", N_("activities"), "right"),
        Column("discount_eligible", N_("降佣")),
        Column("bar", ""),
    ]
    return Table(
        "merchants", _("GMV per merchant, {label}").format(label=label), frame, view, columns
    )


def _crossings_table(crossings: pl.DataFrame) -> Table:
    frame = crossings.select(
        "merchant_id",
        "merchant_name",
        "milestone",
        formats.yuan(pl.col("gmv_fen")).alias("gmv"),
        formats.yuan(pl.col("previous_fen")).alias("previous_gmv"),
        "first_time",
    )
    view = crossings.select(
        "merchant_id",
        pl.col("merchant_name").fill_null(""),
        "milestone",
        formats.yuan_label(pl.col("gmv_fen")).alias("gmv"),
        formats.yuan_label(pl.col("previous_fen")).alias("previous_gmv"),
        pl.when(pl.col("first_time"))
        .then(pl.lit("首次 first"))
        .otherwise(pl.lit("again"))
        .alias("first_time"),
    )
    columns = [
        Column("merchant_id", N_("merchant")),
        Column("merchant_name", N_("name"), max_width=16),
        Column("milestone", N_("milestone")),
        Column("gmv", N_("GMV"), "right"),
        Column("previous_gmv", N_("month before"), "right"),
        Column("first_time", N_("first time?")),
    ]
    return Table(
        "crossed",
        _("milestones crossed this month"),
        frame,
        view,
        columns,
        empty=_("no merchant crossed a milestone this month"),
    )


def _closest_table(closest: pl.DataFrame) -> Table:
    frame = closest.select(
        "merchant_id",
        "merchant_name",
        formats.yuan(pl.col("gmv_fen")).alias("gmv"),
        "next",
        formats.yuan(pl.col("next_fen")).alias("next_gmv"),
        formats.yuan(pl.col("gap_fen")).alias("gap"),
        formats.ratio(pl.col("gmv_fen"), pl.col("next_fen")).alias("progress"),
    )
    view = closest.select(
        "merchant_id",
        pl.col("merchant_name").fill_null(""),
        formats.yuan_label(pl.col("gmv_fen")).alias("gmv"),
        "next",
        formats.yuan_label(pl.col("gap_fen")).alias("gap"),
        formats.share(pl.col("gmv_fen"), pl.col("next_fen"), 0).alias("progress"),
        (pl.col("gmv_fen") * 100 // pl.col("next_fen"))
        .map_elements(lambda v: bar(v, 100), return_dtype=pl.String)
        .alias("bar"),
    )
    columns = [
        Column("merchant_id", N_("merchant")),
        Column("merchant_name", N_("name"), max_width=16),
        Column("gmv", N_("GMV"), "right"),
        Column("next", N_("next")),
        Column("gap", N_("gap"), "right"),
        Column("progress", N_("progress"), "right"),
        Column("bar", N_("of the next milestone")),
    ]
    return Table(
        "closest",
        _("closest to their next milestone"),
        frame,
        view,
        columns,
        empty=_("no merchant with orders this month below the last milestone"),
    )


def _charts(
    merchants: pl.DataFrame, closest: pl.DataFrame, label: str, before: dt.date
) -> list[Chart]:
    top = merchants.head(20)

    def series(name: str, frame: pl.DataFrame, column: str) -> Series:
        values = [int(v) for v in frame[column]]
        return Series(name, values, [formats.fen_label(v) for v in values])

    def who(frame: pl.DataFrame) -> list[str]:
        return [
            f"{m} {n or ''}".strip()
            for m, n in zip(frame["merchant_id"], frame["merchant_name"], strict=True)
        ]

    return [
        Chart(
            "gmv_by_merchant",
            _("GMV per merchant: {label} against {before:%Y-%m}").format(
                label=label, before=before
            ),
            "bars",
            who(top),
            [series(f"{before:%Y-%m}", top, "previous_fen"), series(label, top, "gmv_fen")],
            note=_("the 20 largest this month") if merchants.height > 20 else "",
        ),
        Chart(
            "milestone_progress",
            _("closest to their next milestone"),
            "progress",
            [f"{w} → {n}" for w, n in zip(who(closest), closest["next"], strict=True)],
            [
                Series(
                    "GMV",
                    [int(v) for v in closest["gmv_fen"]],
                    [
                        f"{formats.fen_label(g)}, gap {formats.fen_label(gap)}"
                        for g, gap in zip(closest["gmv_fen"], closest["gap_fen"], strict=True)
                    ],
                ),
                series("milestone", closest, "next_fen"),
            ],
        ),
    ]
