"""`haowu merchants`: merchants with their join date, new-merchant window, activities and GMV
this month; `merchants joined` and `merchants resplit`."""

import datetime as dt
from typing import Annotated

import typer

from haowu_cli.commands.common import DATE_FORMAT, FormatOption, app_context
from haowu_cli.i18n import N_, _
from haowu_cli.render import Column, OutputFormat

merchants_app = typer.Typer(
    help=N_(
        "Merchants (商家): join date, new-merchant window, shop score, activities and GMV "
        "this month, 降佣 eligibility."
    ),
    invoke_without_command=True,
)

COLUMNS = [
    Column("merchant_id", "merchant"),
    Column("name", "name", max_width=20),
    Column("joined_on", "加入快分销"),
    Column("new_until", N_("new until")),
    Column("new_merchant", N_("new")),
    Column("new_cap_left", N_("cap left (1%)"), "right"),
    Column("shop_score", N_("DSR"), "right"),
    Column("activities_this_month", "activities", "right"),
    Column("gmv_this_month", N_("GMV this month"), "right"),
    Column("discount_eligible", "降佣"),
]


@merchants_app.callback()
def merchants_command(
    ctx: typer.Context,
    month: Annotated[
        str | None, typer.Option("--month", help=N_("YYYY-MM [default: this month]."))
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List merchants: join date (加入快分销日期) and new-merchant window, shop score,
    activities taken part in and GMV this month, 降佣 eligibility."""
    if ctx.invoked_subcommand is not None:
        return
    import polars as pl

    from haowu_cli.formats import yuan
    from haowu_cli.merchants import merchant_table

    app = app_context(ctx)
    frame = merchant_table(app.store(), app.config_dir, month=month)
    if frame.is_empty():
        app.out.info(_("no merchants yet"))
        return
    frame = frame.with_columns(  # money as yuan text, as every machine output has it
        yuan(pl.col(f"{name}_fen")).alias(name)
        for name in ("new_window_gmv", "new_cap_left", "gmv_this_month")
    ).select(
        "merchant_id",
        "name",
        "joined_on",
        "joined_from",
        "new_until",
        "new_merchant",
        "new_window_gmv",
        "new_cap_left",
        "shop_score",
        "month",
        "activities_this_month",
        "gmv_this_month",
        "discount_eligible",
    )
    if fmt is OutputFormat.table:
        frame = frame.with_columns(
            ("¥" + pl.col("gmv_this_month")).alias("gmv_this_month"),
            ("¥" + pl.col("new_cap_left")).alias("new_cap_left"),
            pl.col("new_merchant").replace_strict({True: "✓", False: ""}),
            pl.col("discount_eligible").replace_strict({True: "✓", False: ""}),
        )
    app.out.emit(frame, fmt, COLUMNS, footer=_("{count} merchants").format(count=frame.height))


@merchants_app.command("joined")
def joined_command(
    ctx: typer.Context,
    merchant: Annotated[str, typer.Argument(help=N_("The merchant's ID."), show_default=False)],
    day: Annotated[
        dt.datetime, typer.Argument(help=N_("加入快分销日期."), show_default=False, **DATE_FORMAT)
    ],
) -> None:
    """Set the day a merchant joined 快分销; its orders are split again under the
    new-merchant terms (reversing entries for what changes)."""
    from haowu_cli.merchants import set_joined

    app = app_context(ctx)
    posted, reversed_ = set_joined(app.store(), merchant, day.date(), app.config_dir)
    app.out.info(
        _(
            "{merchant} joined on {day}; ledger: {posted} orders re-posted, {reversed} with "
            "reversing entries"
        ).format(merchant=merchant, day=day.date(), posted=posted, reversed=reversed_)
    )


@merchants_app.command("resplit")
def resplit_command(
    ctx: typer.Context,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help=N_("This merchant's orders only."))
    ] = None,
) -> None:
    """Split every order again by today's commission.yaml and merchant terms (after changing
    them, or a merchant's status): what changed gets reversing entries and new ones."""
    from haowu_cli.merchants import resplit_all

    app = app_context(ctx)
    posted, reversed_ = resplit_all(app.store(), app.config_dir, merchant)
    app.out.info(
        _("ledger: {posted} orders re-posted, {reversed} with reversing entries").format(
            posted=posted, reversed=reversed_
        )
    )
