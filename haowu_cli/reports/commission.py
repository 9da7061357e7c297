"""Report data for people and machines; nothing here prints.

The commission report reads the ledger (`store.commission_totals`) and shapes it: totals per
party, or per merchant, anchor, session or day, with a check that the parts add up to the
base, to the fen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from haowu_cli import formats
from haowu_cli import store as db
from haowu_cli.commission import PARTIES, party_labels
from haowu_cli.i18n import N_, _
from haowu_cli.tables import Column


@dataclass
class CommissionReport:
    frame: pl.DataFrame  # for machines: stable columns, money as yuan text
    table: pl.DataFrame  # for people
    title: str
    check: str  # the line that says the parts add up (or by how much they do not)
    balanced: bool
    estimated_fen: dict[str, int] = field(default_factory=dict)  # per party (--by party)
    # Orders paid by `as_of` but imported after it: out of this view (README: commission).
    posted_later: int = 0

    def later_note(self, as_of: date) -> str | None:
        """What the posting-date view leaves out, and the paid-date view that has it."""
        if not self.posted_later:
            return None
        return _(
            "{posted_later:,} orders paid on or before {as_of} were imported after "
            "it and are not in the ledger as of {as_of}; every order paid by then, "
            "as known today: --paid-to {as_of} (without --as-of)"
        ).format(posted_later=self.posted_later, as_of=as_of)


# The terminal columns of the report by party.
PARTY_COLUMNS = [
    Column("party", N_("party")),
    Column("estimated", N_("estimated"), "right"),
    Column("settled", N_("settled"), "right"),
]


# The platform's items under "platform" in the table by party, as people read them (the
# machine rows keep the codes).
PLATFORM_ITEMS = {
    "commission_cut": N_("cut of the commission"),
    "service_fee_cut": N_("cut of the service fee"),
    "technical_fee": N_("technical service fee"),
}

# The headings of the table per group (--by merchant|anchor|session|day) for people.
GROUP_HEADINGS = {
    "merchant_id": N_("merchant ID"),
    "anchor_id": N_("anchor ID"),
    "session_id": N_("session ID"),
    "day": N_("paid on"),
    "orders": N_("orders"),
    "base": N_("commission base"),
    "merchant": N_("merchant"),
    "anchor": N_("anchor"),
    "agency": N_("agency"),
    "leader": N_("team leader"),
    "second_leader": N_("second-level leader"),
    "platform": N_("platform"),
    "settled_base": N_("settled base"),
    "check": N_("parts − base"),
}


def commission_report(store: db.Store, *, by: str, as_of: date, filters: dict) -> CommissionReport:
    """The ledger's totals as it stood at the end of `as_of` (entries posted, that is
    imported, on or before it; settled: settlement date on or before it), for the orders the
    filters pick; `start` and `end` are paid dates."""
    with store.read() as con:
        totals = db.commission_totals(con, by=by, as_of=as_of, filters=filters)
        later = db.orders_posted_later(con, as_of=as_of, filters=filters)
    names = {"start": _("paid from"), "end": _("paid to")}
    shown = ", ".join(f"{names.get(k, k)} {v}" for k, v in filters.items() if v)
    title = _("commission as of {as_of}").format(as_of=as_of) + (f" ({shown})" if shown else "")
    report = _by_party(totals, title) if by == "party" else _by_group(totals, by, title)
    report.posted_later = later
    return report


def _sum(totals: pl.DataFrame, column: str, accounts: Iterable[str]) -> int:
    return int(totals.filter(pl.col("account").is_in(list(accounts)))[column].sum())


def _check(totals: pl.DataFrame) -> tuple[str, bool]:
    lines, balanced = [], True
    for column, track in (("estimated_fen", _("estimated")), ("settled_fen", _("settled"))):
        base, parts = _sum(totals, column, ["base"]), _sum(totals, column, PARTIES)
        balanced &= parts == base
        shown = {
            k: formats.fen_text(v, grouped=True)
            for k, v in (("parts", parts), ("base", base), ("off", parts - base))
        }
        state = _("add up") if parts == base else _("are off by ¥{off}").format(off=shown["off"])
        lines.append(
            _("{track}: parts ¥{parts} {state} to the base ¥{base}").format(
                track=track, parts=shown["parts"], state=state, base=shown["base"]
            )
        )
    return _("check: {lines}").format(lines=_("; ").join(lines)), balanced


def _by_party(totals: pl.DataFrame, title: str) -> CommissionReport:
    order = {name: i for i, name in enumerate(["base", *PARTIES])}
    rows = (
        totals.group_by("account", "item")
        .agg(pl.col("estimated_fen").sum(), pl.col("settled_fen").sum())
        .with_columns(pl.col("account").replace_strict(order, return_dtype=pl.Int64).alias("_o"))
        .sort("_o", "item")
        .drop("_o")
    )
    frame = rows.select(
        pl.col("account").alias("party"),
        "item",
        formats.yuan(pl.col("estimated_fen")).alias("estimated"),
        formats.yuan(pl.col("settled_fen")).alias("settled"),
    )
    parties = rows.group_by("account", maintain_order=True).agg(
        pl.col("estimated_fen").sum(), pl.col("settled_fen").sum()
    )
    table = pl.concat(
        [
            parties.select(
                pl.col("account")
                .replace_strict(party_labels(), default=pl.col("account"))
                .alias("party"),
                "estimated_fen",
                "settled_fen",
            ),
            rows.filter(pl.col("account") == "platform").select(
                (
                    pl.lit(_("  platform: "))
                    + pl.col("item").replace_strict(
                        {k: _(v) for k, v in PLATFORM_ITEMS.items()}, default=pl.col("item")
                    )
                ).alias("party"),
                "estimated_fen",
                "settled_fen",
            ),
        ]
    ).select(
        "party",
        formats.yuan_label(pl.col("estimated_fen")).alias("estimated"),
        formats.yuan_label(pl.col("settled_fen")).alias("settled"),
    )
    check, balanced = _check(totals)
    estimated = {
        a: int(f) for a, f in zip(parties["account"], parties["estimated_fen"], strict=True)
    }
    return CommissionReport(frame, table, title, check, balanced, estimated)


GROUP_COLUMNS = {
    "merchant": "merchant_id",
    "anchor": "anchor_id",
    "session": "session_id",
    "day": "day",
}


def _by_group(totals: pl.DataFrame, by: str, title: str) -> CommissionReport:
    wide = totals.group_by("group", maintain_order=True).agg(
        pl.col("orders").filter(pl.col("account") == "base").sum().alias("orders"),
        *[
            pl.col("estimated_fen").filter(pl.col("account") == name).sum().alias(name)
            for name in ("base", *PARTIES)
        ],
        pl.col("settled_fen").filter(pl.col("account") == "base").sum().alias("settled_base"),
    )
    wide = wide.with_columns(
        (pl.sum_horizontal(list(PARTIES)) - pl.col("base")).alias("check")
    ).sort("group", nulls_last=True)
    money = ["base", *PARTIES, "settled_base", "check"]
    name = GROUP_COLUMNS[by]
    frame = wide.select(
        pl.col("group").alias(name),
        "orders",
        *[formats.yuan(pl.col(c)).alias(c) for c in money],
    )
    table = wide.select(
        pl.col("group").fill_null("—").alias(name),
        "orders",
        *[formats.yuan_label(pl.col(c)).alias(c) for c in money],
    )
    check, balanced = _check(totals)
    return CommissionReport(frame, table, title, check, balanced)


# What each column of the ledger export holds (`exporting`); the others are text.
LEDGER_KINDS = {
    "import_id": "number",
    "posted_at": "datetime",
    "order_id": "id",
    "merchant_id": "id",
    "anchor_id": "id",
    "session_id": "id",
    "paid_on": "date",
    "party_id": "id",
    "settles_on": "date",
    "amount": "money",
}


def ledger_export(store: db.Store) -> pl.DataFrame:
    with store.read() as con:
        entries = db.ledger_entries(con)
    return entries.with_columns(
        formats.timestamp(pl.col("posted_at")),
        pl.col("settles_on").cast(pl.String),
        pl.col("paid_on").cast(pl.String),
        formats.yuan(pl.col("amount_fen")).alias("amount"),
    ).drop("amount_fen")


def order_kinds() -> dict[str, str]:
    """What each column of the orders export holds (`exporting`)."""
    from haowu_cli.exporting import field_kinds
    from haowu_cli.ingest.columns import ORDERS

    return field_kinds(ORDERS.fields)


def orders_export(store: db.Store) -> pl.DataFrame:
    from haowu_cli.ingest.columns import ORDERS

    with store.read() as con:
        orders = db.query_orders(con)
    columns = []
    for f in ORDERS.fields:
        value = pl.col(f.column)
        if f.type.name == "money":
            value = formats.yuan(value)
        elif f.type.name == "rate":
            value = formats.decimal_text(value)
        elif f.type.name == "date":
            value = value.cast(pl.String)
        columns.append(value.alias(f.name))
    return orders.select(*columns, "extra")
