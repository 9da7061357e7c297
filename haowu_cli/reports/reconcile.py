"""The 对账 report: the platform's settlement against haowu's ledger, by party and month, and
line by line (`haowu reconcile`)."""

from __future__ import annotations

import polars as pl

from haowu_cli import formats
from haowu_cli.i18n import N_, _
from haowu_cli.reconcile import STATES, Reconciliation
from haowu_cli.reports.document import Figure, Report, Table
from haowu_cli.tables import Column

STATE_LABELS = {
    "matched": N_("matched 一致"),
    "differs": N_("differs 不一致"),
    "only_platform": N_("only on the platform 仅平台"),
    "only_haowu": N_("only in haowu 仅haowu"),
}


def reconcile_report(result: Reconciliation) -> Report:
    states = result.line_states()
    lines = sum(states.values())
    figures = [
        Figure(f"lines_{state}", _(STATE_LABELS[state]), count, f"{count:,}")
        for state, count in states.items()
    ]
    figures.insert(0, Figure("lines", _("settlement lines compared"), lines, f"{lines:,}"))
    tables = [_lines_table(result.detail), _summary_table(result)]  # csv: the lines by default
    files = "; ".join(f"{path} ({label})" for path, label in result.files)
    alert = None
    if result.differences:
        alert = _("Differences found: {count} of {lines} lines do not match").format(
            count=lines - states["matched"], lines=lines
        )
    notes = []
    if result.rejections.height:
        notes.append(
            _("{count} cells could not be read; their lines were left out").format(
                count=result.rejections.height
            )
        )
    return Report(
        kind="reconcile",
        title=_("对账: the platform's settlement against haowu's ledger"),
        subtitle=files,
        figures=figures,
        tables=tables,
        notes=notes,
        alert=alert,
    )


# The parties a settlement file names besides haowu's own (commission.PARTY_LABELS).
OTHER_PARTIES = {
    "technical_fee": N_("technical fee 技术服务费"),
    "kwaimoney": N_("快赚客"),
    "service_provider": N_("service provider 服务商"),
    "other": N_("other charges 其他收费"),
}


def _party_view() -> pl.Expr:
    """The party as people read it (the tables for people; CSV and JSON keep the code)."""
    from haowu_cli.commission import party_labels

    words = {**party_labels(), **{k: _(v) for k, v in OTHER_PARTIES.items()}}
    return pl.col("party").replace_strict(words, default=pl.col("party"))


def _summary_table(result: Reconciliation) -> Table:
    summary = result.summary if result.summary is not None else _summary(result.detail)
    frame = summary.select(
        "month",
        "party",
        formats.yuan(pl.col("platform_fen")).alias("platform"),
        formats.yuan(pl.col("haowu_fen")).alias("haowu"),
        formats.yuan(pl.col("difference_fen")).alias("difference"),
        "lines",
        "lines_differing",
    )
    view = summary.select(
        pl.col("month").fill_null(""),
        _party_view(),
        formats.yuan_label(pl.col("platform_fen")).alias("platform"),
        formats.yuan_label(pl.col("haowu_fen")).alias("haowu"),
        formats.yuan_label(pl.col("difference_fen")).alias("difference"),
        "lines",
        "lines_differing",
    )
    columns = [
        Column("month", _("month")),
        Column("party", _("party")),
        Column("platform", _("platform"), "right"),
        Column("haowu", N_("haowu"), "right"),
        Column("difference", _("difference"), "right"),
        Column("lines", _("lines"), "right"),
        Column("lines_differing", _("differing"), "right"),
    ]
    return Table("summary", _("By month and party"), frame, view, columns)


def _summary(detail: pl.DataFrame) -> pl.DataFrame:
    """By month and party, from the detail (what `store.reconciled_summary` gives)."""
    month = pl.coalesce(
        pl.col("settled_at").dt.strftime("%Y-%m"), pl.col("settles_on").dt.strftime("%Y-%m")
    )
    return (
        detail.with_columns(month.alias("month"))
        .group_by("month", "party")
        .agg(
            pl.col("platform_fen").sum().alias("platform_fen"),
            pl.col("haowu_fen").sum().alias("haowu_fen"),
            pl.col("difference_fen").sum().alias("difference_fen"),
            pl.len().alias("lines"),
            (pl.col("difference_fen") != 0).sum().alias("lines_differing"),
        )
        .sort("month", "party", nulls_last=True)
    )


def _lines_table(detail: pl.DataFrame) -> Table:
    frame = detail.select(
        "platform_order_id",
        "product_id",
        "party",
        "state",
        formats.yuan(pl.col("platform_fen")).alias("platform"),
        formats.yuan(pl.col("haowu_fen")).alias("haowu"),
        formats.yuan(pl.col("difference_fen")).alias("difference"),
        pl.col("settled_at").dt.strftime("%Y-%m-%dT%H:%M:%S").alias("settled_at"),
        pl.col("settles_on").dt.strftime("%Y-%m-%d").alias("haowu_settles_on"),
    )
    shown = detail.filter(pl.col("difference_fen") != 0)
    view = shown.select(
        "platform_order_id",
        "product_id",
        _party_view(),
        pl.col("state").replace_strict(
            {k: _(v) for k, v in STATE_LABELS.items()}, default=pl.col("state")
        ),
        formats.yuan_label(pl.col("platform_fen")).fill_null("—").alias("platform"),
        formats.yuan_label(pl.col("haowu_fen")).fill_null("—").alias("haowu"),
        formats.yuan_label(pl.col("difference_fen")).alias("difference"),
        pl.col("settled_at").dt.strftime("%Y-%m-%d").fill_null("").alias("settled_at"),
    )
    columns = [
        Column("platform_order_id", _("order")),
        Column("product_id", _("product")),
        Column("party", _("party")),
        Column("state", _("state")),
        Column("platform", _("platform"), "right"),
        Column("haowu", N_("haowu"), "right"),
        Column("difference", _("difference"), "right"),
        Column("settled_at", _("settled")),
    ]
    return Table(
        "lines",
        _("Lines that do not match"),
        frame,
        view,
        columns,
        empty=_("none: every line matches"),
    )


__all__ = ["STATES", "reconcile_report"]
