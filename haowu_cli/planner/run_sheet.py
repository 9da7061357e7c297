"""The run sheet (排品表): the chosen products in the order the host sells them, with times.

The order follows `sequence` in `configs/session.yaml`: the strongest deal (most expected
units) opens, the next strongest closes, and the other deals break the rest into runs as
even as they can be, none longer than `deal_every`. Between them: other items while the
peak window has not begun, then the heroes (best first) from the peak on, then the rest.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from haowu_cli.i18n import _
from haowu_cli.planner.brief import SessionBrief
from haowu_cli.planner.rules import SequenceRules


def order_items(
    chosen: pl.DataFrame,
    session: SessionBrief,
    rules: SequenceRules,
    *,
    from_minute: int = 0,
    lead: int = 0,
) -> pl.DataFrame:
    """`chosen` (one session's products) in run-sheet order, with `position`,
    `start_minute` (from the session start), `start` (HH:MM on the clock) and `note` for
    the host: 开场 (the opening deal), 收尾 (the closing deal), 高峰 (a hero in the peak).
    `from_minute`: the first starts then, `lead` items without a deal just before it (a
    replan's rest of the night, after the products presented)."""
    by_value = ["value", "product_id"]
    deals = chosen.filter(pl.col("role").is_in(list(rules.deal_roles))).sort(
        ["expected_units", "value", "product_id"], descending=[True, True, False]
    )
    heroes = chosen.filter(pl.col("role").is_in(list(rules.peak_roles))).sort(
        by_value, descending=[True, False]
    )
    others = chosen.filter(
        ~pl.col("role").is_in(list(rules.deal_roles) + list(rules.peak_roles))
    ).sort(by_value, descending=[True, False])
    deal_rows = deals.to_dicts()
    opening = deal_rows.pop(0) if rules.open_with_deal and deal_rows else None
    closing = deal_rows.pop(0) if rules.close_with_deal and deal_rows else None
    runs = _run_lengths(heroes.height + others.height, len(deal_rows), lead)

    hero_rows, other_rows = heroes.to_dicts(), others.to_dicts()
    sequence: list[dict] = []
    clock = from_minute

    def place(row: dict) -> None:
        nonlocal clock
        peak = rules.peak_from <= clock < rules.peak_to and row["role"] in rules.peak_roles
        sequence.append({"note": "高峰" if peak else None} | row | {"start_minute": clock})
        clock += row["minutes"]

    if opening:
        place(opening | {"note": "开场"})
    for index, length in enumerate(runs):
        for _slot in range(length):
            before_peak = clock < rules.peak_from
            if other_rows and (before_peak or not hero_rows):
                place(other_rows.pop(0))
            else:
                place(hero_rows.pop(0))
        if index < len(deal_rows):
            place(deal_rows[index])
    if closing:
        place(closing | {"note": "收尾"})
    begins = dt.datetime.combine(session.date, session.start)
    schema = chosen.schema | {"start_minute": pl.Int64, "note": pl.String}
    frame = pl.DataFrame(sequence, schema=schema)
    return frame.with_columns(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("position"),
        pl.Series(
            "start",
            [(begins + dt.timedelta(minutes=m)).strftime("%H:%M") for m in frame["start_minute"]],
            dtype=pl.String,
        ),
    )


def _run_lengths(items: int, deals: int, lead: int = 0) -> list[int]:
    """`items` split into `deals + 1` runs (before, between and after the middle deals) as
    evenly as possible, the longer runs first. With a `lead` (items without a deal just
    before), the first run counts it: the runs as they stand are as even as they can be."""
    runs = deals + 1
    if lead:
        lengths = [lead] + [0] * deals
        for _item in range(items):
            shortest = lengths.index(min(lengths))
            lengths[shortest] += 1
        return [lengths[0] - lead, *lengths[1:]]
    base, extra = divmod(items, runs)
    return [base + (1 if i < extra else 0) for i in range(runs)]


def rule_breaks(ordered: pl.DataFrame, rules: SequenceRules, *, lead: int = 0) -> list[str]:
    """Where an ordered run sheet breaks the sequencing rules (empty when it keeps them);
    `lead` items without a deal come just before it (a replan's rest of the night)."""
    roles = ordered["role"].to_list()
    deal = [r in rules.deal_roles for r in roles]
    breaks = []
    if roles and rules.open_with_deal and not deal[0]:
        breaks.append(_("does not open with a deal"))
    if roles and rules.close_with_deal and not deal[-1]:
        breaks.append(_("does not close with a deal"))
    if rules.deal_every:
        streak = lead
        for position, is_deal in enumerate(deal, start=1):
            streak = 0 if is_deal else streak + 1
            if streak > rules.deal_every:
                breaks.append(
                    _("{streak} items without a deal up to position {position}").format(
                        streak=streak, position=position
                    )
                )
                break
    return breaks
