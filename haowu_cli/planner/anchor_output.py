"""`haowu match anchors` as output: rows for machines (CSV, JSON) with stable English keys and
money as exact yuan text, a table for people with the reasons in short, and the goal's lines."""

from __future__ import annotations

from typing import Any

import polars as pl

from haowu_cli import formats
from haowu_cli.i18n import _, ngettext
from haowu_cli.planner.anchors import AnchorMatch, Goal

MONEY = {
    "expected_gmv_fen": "expected_gmv",
    "commission_fen": "expected_commission",
    "team_income_fen": "expected_team_income",
    "gmv_per_hour_fen": "gmv_per_hour",
    "avg_ticket_fen": "avg_ticket",
    "median_price_fen": "median_price",
}
LISTS = ("categories_matched", "audience_age_bands")


def _shown(found: AnchorMatch, limit: int | None) -> pl.DataFrame:
    """The ranked anchors, the first `limit`, with `goal_session` (the place of their first
    session among the goal's, or null)."""
    frame = found.anchors
    places: dict[str, int] = {}
    for index, s in enumerate(found.goal.sessions if found.goal else [], 1):
        places.setdefault(s.anchor_id, index)
    frame = frame.with_columns(
        pl.col("anchor_id")
        .replace_strict(places, default=None, return_dtype=pl.Int64)
        .alias("goal_session")
    )
    return frame.head(limit) if limit is not None else frame


def _machine(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(
            *(formats.yuan(pl.col(fen)).alias(fen) for fen in MONEY),
        )
        .rename(MONEY)
        .drop("a_idx")
    )


def anchors_machine(found: AnchorMatch, limit: int | None) -> pl.DataFrame:
    """One row per anchor for CSV: lists joined with `;`."""
    frame = _machine(_shown(found, limit))
    return frame.with_columns(pl.col(c).list.join(";") for c in LISTS)


def anchors_json(found: AnchorMatch, limit: int | None) -> dict[str, Any]:
    """The whole answer as one JSON object."""
    goal = found.goal
    return {
        "merchant_id": found.merchant_id,
        "date": found.date.isoformat(),
        "products": found.products,
        "eligible": found.eligible,
        "not_eligible": found.not_eligible,
        "session_minutes": found.session_minutes,
        "session_max_products": found.session_max_products,
        "anchors": _machine(_shown(found, limit)).to_dicts(),
        "goal": None
        if goal is None
        else {
            "goal": formats.fen_text(goal.goal_fen),
            "reachable": goal.reachable,
            "expected_gmv": formats.fen_text(goal.expected_gmv_fen),
            "shortfall": formats.fen_text(goal.shortfall_fen),
            "stopped_by": goal.stopped_by,
            "max_sessions": goal.max_sessions,
            "sessions": [
                {
                    "session": index,
                    "anchor_id": s.anchor_id,
                    "expected_gmv": formats.fen_text(s.expected_gmv_fen),
                    "expected_commission": formats.fen_text(s.commission_fen),
                    "cumulative_gmv": formats.fen_text(s.cumulative_gmv_fen),
                }
                for index, s in enumerate(goal.sessions, 1)
            ],
        },
    }


def anchors_table(found: AnchorMatch, limit: int | None) -> pl.DataFrame:
    """The ranked anchors for people: money grouped, the reasons in short."""
    frame = _shown(found, limit)
    yes, no = "✓", "✗"
    female = (pl.col("female_share") * 100).round(0).cast(pl.Int64).cast(pl.String) + pl.lit("%")
    target = (pl.col("audience_female_share") * 100).round(0).cast(pl.Int64).cast(
        pl.String
    ) + pl.lit("%")
    fans = pl.concat_str(
        [
            pl.when(pl.col("female_share").is_null())
            .then(pl.lit("—"))
            .when(pl.col("audience_female_share").is_null())
            .then(female)
            .otherwise(female + pl.lit(" / ") + target),
            pl.lit(", "),
            pl.col("age_band").fill_null("—"),
            pl.when(pl.col("age_band_score").is_null())
            .then(pl.lit(""))
            .when(pl.col("age_band_score") >= 0.5)
            .then(pl.lit(" " + yes))
            .otherwise(pl.lit(" " + no)),
        ]
    )
    template = _("sessions {sessions}, orders {orders}")
    history = pl.Series(
        "history_shown",
        [
            template.format(sessions=a, orders=b)
            for a, b in frame.select("history_sessions", "history_orders").iter_rows()
        ],
        dtype=pl.String,
    )
    return frame.with_columns(
        pl.col("fit").round(2).cast(pl.String).alias("fit"),
        formats.yuan_label(pl.col("expected_gmv_fen")).alias("expected_gmv"),
        formats.yuan_label(pl.col("commission_fen")).alias("expected_commission"),
        pl.col("categories_matched").list.join("、").alias("categories_matched"),
        pl.when(pl.col("price_to_ticket").is_null())
        .then(pl.lit("—"))
        .otherwise(pl.format("{}×", pl.col("price_to_ticket")))
        .alias("price_shown"),
        fans.alias("fans_shown"),
        (
            formats.yuan_label(pl.col("gmv_per_hour_fen"))
            + pl.when(pl.col("gmv_per_hour_default")).then(pl.lit("*")).otherwise(pl.lit(""))
        ).alias("gmv_per_hour_shown"),
        pl.lit(history),
        pl.col("goal_session").cast(pl.String).fill_null(""),
    )


def _who(goal: Goal) -> str:
    """The goal's sessions in short: each anchor with its expected GMV, and when anchors come
    round again, each anchor once, in the order of its first session, with its count."""
    if len({s.anchor_id for s in goal.sessions}) == len(goal.sessions):
        return ", ".join(
            f"{s.anchor_id} {formats.fen_label(s.expected_gmv_fen)}" for s in goal.sessions
        )
    sessions: dict[str, list[int]] = {}
    for s in goal.sessions:
        sessions.setdefault(s.anchor_id, []).append(s.expected_gmv_fen)
    return ", ".join(
        f"{anchor} ×{len(gmv)} {formats.fen_label(sum(gmv))}" for anchor, gmv in sessions.items()
    )


def goal_lines(found: AnchorMatch) -> list[str]:
    """What the goal comes to, for people."""
    goal = found.goal
    if goal is None:
        return []
    who = _who(goal)
    count = len(goal.sessions)
    if goal.reachable:
        # Each session's GMV here sells from the stock the sessions before it left: not the
        # table's figure for one session on its own.
        head = ngettext(
            "goal {goal}: reached with {count} session ({gmv} expected in all): {who}",
            "goal {goal}: reached with {count} sessions ({gmv} expected in all; in rank "
            "order, each selling the merchant's stock the ones before it left): {who}",
            count,
        )
        return [
            head.format(
                goal=formats.fen_label(goal.goal_fen),
                count=count,
                gmv=formats.fen_label(goal.expected_gmv_fen),
                who=who,
            )
        ]
    why = {
        "max_sessions": _(
            "at most {max} sessions (anchors.goal_max_sessions in match.yaml)"
        ).format(max=goal.max_sessions),
        "stock": _("the merchant's stock runs out"),
        "anchors": _("no anchor's next session would sell any more of the stock left"),
    }[goal.stopped_by]
    lines = [
        _("goal {goal}: not reachable: {why}; {count} sessions reach {gmv}, {short} short").format(
            goal=formats.fen_label(goal.goal_fen),
            why=why,
            count=count,
            gmv=formats.fen_label(goal.expected_gmv_fen),
            short=formats.fen_label(goal.shortfall_fen),
        )
    ]
    if who:
        lines.append(
            _(
                "sessions, in rank order, each selling the merchant's stock the ones before "
                "it left: {who}"
            ).format(who=who)
        )
    return lines
