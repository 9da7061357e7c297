"""Merchants (商家) as a table: join date (加入快分销日期), the new-merchant window and how
much of its GMV cap is used, shop score, activities and GMV this month, 降佣 eligibility; and
the changes that re-split their orders (a join date set by hand, `merchants resplit`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from haowu_cli import store as db
from haowu_cli.i18n import _

if TYPE_CHECKING:
    import duckdb

    from haowu_cli.commission import MerchantTerms


def month_bounds(month: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of `YYYY-MM` (default: today's month)."""
    from haowu_cli.errors import UsageError

    if month is None:
        first = today.replace(day=1)
    else:
        try:
            first = dt.datetime.strptime(month.strip(), "%Y-%m").date()
        except ValueError:
            raise UsageError(_("--month {value!r}: expected YYYY-MM").format(value=month)) from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following - dt.timedelta(days=1)


def merchant_table(store: db.Store, config_dir: Path, *, month: str | None) -> pl.DataFrame:
    """Every merchant haowu knows, with its terms as of today (`dates.today()`)."""
    from haowu_cli import dates
    from haowu_cli.commission import load_rules

    terms = load_rules(config_dir).terms
    today = dates.today()
    first, last = month_bounds(month, today)
    if not store.exists():
        return pl.DataFrame()
    with store.read() as con:
        rows = db.merchant_rows(
            con, month_start=first, month_end=last, new_days=max(terms.new_days, 1)
        )
    is_new = (
        pl.col("joined_on").is_not_null()
        & (pl.col("joined_on") <= today)
        & (pl.col("new_until") >= today)
        & pl.lit(terms.new_merchants)
    )
    return rows.with_columns(
        is_new.fill_null(False).alias("new_merchant"),
        pl.when(pl.col("joined_on").is_not_null() & pl.lit(terms.new_merchants))
        .then((pl.lit(terms.new_cap_fen) - pl.col("new_window_gmv_fen")).clip(0))
        .otherwise(None)
        .alias("new_cap_left_fen"),
        discount_eligible(terms),
        pl.lit(first.strftime("%Y-%m")).alias("month"),
    )


def discount_eligible(terms: MerchantTerms) -> pl.Expr:
    """Whether a merchant earns 降佣 (merchant_terms in commission.yaml: enough activities
    in the month), from its `activities_this_month`."""
    busy = terms.busy_min_activities or 0
    return (
        pl.lit(busy > 0 and terms.busy_relief_ppm > 0) & (pl.col("activities_this_month") >= busy)
    ).alias("discount_eligible")


def month_activities(store: db.Store, config_dir: Path, first: dt.date) -> pl.DataFrame:
    """Each merchant's activities in the month that starts on `first`
    (`activities_this_month`) and its 降佣 eligibility, for the merchants report."""
    from haowu_cli.commission import load_rules

    terms = load_rules(config_dir).terms
    _first, last = month_bounds(first.strftime("%Y-%m"), first)
    with store.read() as con:
        rows = db.merchant_rows(
            con, month_start=first, month_end=last, new_days=max(terms.new_days, 1)
        )
    return rows.select("merchant_id", "activities_this_month", discount_eligible(terms))


def set_joined(store: db.Store, merchant: str, day: dt.date, config_dir: Path) -> tuple[int, int]:
    """Set a merchant's join date by hand and re-split its orders under the new terms
    (reversing entries for what changed). Returns (orders posted, of which reversed)."""
    from haowu_cli import activities, commission

    rules = commission.load_rules(config_dir)

    def write(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
        db.set_joined(con, merchant, day, "haowu merchants joined", activities.beijing_now())
        return commission.resplit(
            con, rules, merchant=merchant, what=f"haowu merchants joined {merchant} {day}"
        )

    return db.write_transaction(store, write)


def resplit_all(store: db.Store, config_dir: Path, merchant: str | None) -> tuple[int, int]:
    """Split every order again by today's commission.yaml and merchants' status."""
    from haowu_cli import commission

    rules = commission.load_rules(config_dir)
    return db.write_transaction(
        store,
        lambda con: commission.resplit(
            con, rules, merchant=merchant, what="haowu merchants resplit"
        ),
    )
