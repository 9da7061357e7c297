"""Session review (数据复盘): a saved plan against the orders its session brought.

The session's orders are those of its 专场ID: the one given, or the one the anchor's orders
paid on the session's date (and the next, when the session runs past midnight) carry. Orders
of several 专场 in that window are not guessed between; orders with no 专场ID at all are
taken by the window. Per product: the
planned slot, expected units and GMV, and the actual orders, units, GMV and refunds; the same
per category and per merchant; which products beat or missed their expectation and which are
worth keeping as regulars (常播款), by `configs/reports.yaml`; and each party's income from the
ledger for the same orders.

GMV is what was paid (支付GMV), cancelled orders included; refunds are what was refunded, all
of a cancelled (invalid) order. Ratios are integer arithmetic on fen.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from haowu_cli import formats
from haowu_cli import store as db
from haowu_cli.commission import PPM, party_labels
from haowu_cli.dates import today as dates_today
from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.reports.commission import PARTY_COLUMNS, CommissionReport, commission_report
from haowu_cli.reports.document import Chart, Figure, Report, Series, Table, bar
from haowu_cli.reports.settings import ReportRules
from haowu_cli.roles import role_label
from haowu_cli.tables import Column

VERDICT_TEXT = {
    "beat": N_("▲ beat"),
    "missed": N_("▼ missed"),
    "on_plan": N_("on plan"),
    "not_planned": N_("not planned"),
}
SALES = ["orders", "units", "gmv_fen", "refund_fen"]
# What the plan said of each product (besides its expected GMV).
SLOT_COLUMNS = (
    "position",
    "start",
    "product_id",
    "merchant_id",
    "title",
    "category_l1",
    "role",
    "minutes",
    "expected_units",
    "plan_version",  # the version of the plan in force when the product was presented
)


def session_report(
    store: db.Store,
    rules: ReportRules,
    plan_id: int,
    *,
    session: int | None = None,
    orders_session: str | None = None,
    as_of: dt.date,
    today: dt.date | None = None,
) -> Report:
    """The review of a plan's session as of `as_of` (the ledger's day). When no order
    matched, it says so (a session after `today`, default `dates.today()`, has none yet) and
    leaves what cannot be measured (achievement, verdicts, regulars) null, not 0%."""
    if orders_session is not None and not orders_session.strip():
        raise UsageError(_("--orders-session needs a 专场ID"))
    with store.read() as con:
        record = db.plan_record(con, plan_id)
        if record is None:
            raise HaowuError(
                _("no plan {plan_id}").format(plan_id=plan_id),
                hint=_("haowu sessions lists the saved plans"),
            )
        versions = db.plan_versions(con, plan_id)
        latest = int(versions["plan_id"][-1])  # it holds every version's presented products
        items = db.plan_items(con, latest)
        sessions = items["session"].n_unique()
        number, spec = _pick_session(plan_id, items, json.loads(record["brief"]), session)
        items = _in_force(items.filter(pl.col("session") == number), versions, number)
        anchor_id, day = items["anchor_id"][0], items["session_date"][0]
        hour, minute = (int(x) for x in spec["start"].split(":"))
        last_day = day + dt.timedelta(days=(hour * 60 + minute + spec["minutes"] - 1) // 1440)
        dates = str(day) if last_day == day else f"{day} to {last_day}"
        if orders_session is None:
            orders_session, notes = _find_session_id(
                db.session_ids(con, anchor_id, day, last_day),
                _("{anchor_id}'s orders paid {dates}").format(anchor_id=anchor_id, dates=dates),
            )
        else:
            notes = [
                _("matched: the orders of 专场 {orders_session}").format(
                    orders_session=orders_session
                )
            ]
        sales = db.session_orders(
            con, session_id=orders_session, anchor_id=anchor_id, start=day, end=last_day
        )
        if sales.is_empty():
            notes = []  # nothing was matched: the alert says what was looked for
        anchor = db.anchor_row(con, anchor_id) or {}
        names = db.merchant_names(con)
    ledger_filters = (
        {"session": orders_session}
        if orders_session
        else {"anchor": anchor_id, "start": day, "end": last_day}
    )
    income = commission_report(store, by="party", as_of=as_of, filters=ledger_filters)

    products = _products(items, sales, rules)
    if versions.height > 1:
        notes.append(
            _(
                "plan {plan_id} has {count} versions (haowu live replan): each product is "
                "compared with the version in force when it was presented"
            ).format(plan_id=int(versions["plan_id"][0]), count=versions.height)
        )
    notes.append(_("income {check}").format(check=income.check))
    alert = headline = None
    if sales.is_empty():
        headline, alert = _no_orders(
            day,
            last_day,
            today or dates_today(),
            orders_session,
            _("{anchor_id}'s orders paid {dates}").format(anchor_id=anchor_id, dates=dates),
        )
    title = _("Session review 数据复盘: plan {plan_id}").format(plan_id=plan_id) + (
        _(", session {number}").format(number=number) if sessions > 1 else ""
    )
    subtitle = _("{anchor} on {day} from {start}, {minutes} minutes").format(
        anchor=f"{anchor_id} {anchor.get('name') or ''}".strip(),
        day=day,
        start=spec["start"],
        minutes=spec["minutes"],
    )
    groups = {
        "categories": _groups(products, ["category_l1"]),
        "merchants": _groups(products, ["merchant_id"]).join(
            names, on="merchant_id", how="left", maintain_order="left"
        ),
    }
    measured = not sales.is_empty()
    return Report(
        kind="session",
        title=title,
        subtitle=subtitle,
        figures=_figures(products, income, headline),
        tables=[
            _products_table(products, measured=measured),
            _group_table(
                "categories",
                _("by category"),
                groups["categories"],
                "category_l1",
                measured=measured,
            ),
            _group_table(
                "merchants", _("by merchant"), groups["merchants"], "merchant_id", measured=measured
            ),
            _regulars_table(products, rules),
            Table(
                key="income",
                title=_("each party's income, from the ledger as of {as_of}").format(as_of=as_of),
                frame=income.frame,
                view=income.table,
                columns=PARTY_COLUMNS,
                empty=_("no ledger entries for these orders"),
            ),
        ],
        charts=_charts(products, groups["categories"], income),
        notes=notes,
        alert=alert,
    )


def _no_orders(
    day: dt.date, last_day: dt.date, today: dt.date, orders_session: str | None, window: str
) -> tuple[str, str]:
    """What to say when no order matched the session, as a headline and a sentence: it has
    not happened yet, or where the orders were looked for and how to bring them."""
    if day > today:
        return _("no orders yet"), _(
            "no orders yet: the session is on {day}, after today ({today})"
        ).format(day=day, today=today)
    if last_day >= today:
        return _("no orders yet"), (
            _(
                "no orders yet: the session is today ({today}); import its orders when "
                "it is over (haowu import --kind orders FILE)"
            ).format(today=today)
        )
    looked = f"专场 {orders_session}" if orders_session else window
    return _("no orders matched"), (
        _(
            "no orders matched {looked}: nothing to measure. Import the session's "
            "orders (haowu import --kind orders FILE), or name its 专场ID with "
            "--orders-session"
        ).format(looked=looked)
    )


def _in_force(items: pl.DataFrame, versions: pl.DataFrame, number: int) -> pl.DataFrame:
    """`items` (one session of the latest version) with `plan_version`: the version in force
    when each was presented, the last to re-plan this session from its start minute or
    before. A re-plan keeps what was presented as it was, so the latest version holds each
    product as the version in force then planned it."""
    replans = versions.filter(pl.col("replanned_session") == number).select(
        "version", "applies_from_minute"
    )
    version = pl.lit(1, dtype=pl.Int64)
    for replan_version, minute in replans.sort("applies_from_minute", "version").iter_rows():
        version = (
            pl.when(pl.col("start_minute") >= minute)
            .then(pl.lit(int(replan_version), dtype=pl.Int64))
            .otherwise(version)
        )
    return items.with_columns(version.alias("plan_version"))


def _pick_session(
    plan_id: int, items: pl.DataFrame, brief: dict, session: int | None
) -> tuple[int, dict]:
    numbers = sorted(items["session"].unique().to_list())
    if session is None and len(numbers) > 1:
        listed = "; ".join(
            _("{number}: {anchor} on {date}").format(number=n, anchor=s["anchor"], date=s["date"])
            for n, s in enumerate(brief["sessions"], start=1)
            if n in numbers
        )
        raise UsageError(
            _("plan {plan_id} has {count} sessions ({listed})").format(
                plan_id=plan_id, count=len(numbers), listed=listed
            ),
            hint=_("pick one with --session N"),
        )
    number = numbers[0] if session is None else session
    if number not in numbers:
        raise UsageError(
            _("plan {plan_id} has no session {number}").format(plan_id=plan_id, number=number),
            hint=_("its sessions: {join}").format(join=", ".join(map(str, numbers))),
        )
    return number, brief["sessions"][number - 1]


def _find_session_id(found: list[tuple], window: str) -> tuple[str | None, list[str]]:
    """Which 专场 the session's orders are: the one 专场ID among the anchor's orders in the
    session's window (several: the team leader must say which), or none when they carry
    none. With the notes that say what was matched."""
    named = [(sid, n) for sid, n in found if sid is not None]
    unnamed = sum(n for sid, n in found if sid is None)
    if len(named) > 1:
        listed = ", ".join(f"{sid} ({n:,} orders)" for sid, n in named)
        raise UsageError(
            _("{window} belong to {count} sessions: {listed}").format(
                window=window, count=len(named), listed=listed
            ),
            hint=_("name this plan's session with --orders-session 专场ID"),
        )
    if not named:
        return None, [
            _("matched: {window} (they carry no 专场ID)").format(window=window)
        ] if unnamed else []
    notes = [
        _("matched: the orders of 专场 {value}, the 专场 of {window}").format(
            value=named[0][0], window=window
        )
    ]
    if unnamed:
        notes.append(
            _("{unnamed:,} of {window} carry no 专场ID and are left out").format(
                unnamed=unnamed, window=window
            )
        )
    return named[0][0], notes


def _products(items: pl.DataFrame, sales: pl.DataFrame, rules: ReportRules) -> pl.DataFrame:
    """One row per product planned or sold: the plan's slot and expectation beside the sales,
    the verdict and whether it is a regular (常播款)."""
    planned = items.select(*SLOT_COLUMNS, "expected_gmv_fen")
    sold = sales.select("product_id", "title", "merchant_id", "category_l1", *SALES)
    frame = planned.join(sold, on="product_id", how="full", coalesce=True, suffix="_sold")
    # In 128 bits: fen × a million would overflow 64 for sums above ¥92 billion.
    gmv, expected = pl.col("gmv_fen").cast(pl.Int128), pl.col("expected_gmv_fen").cast(pl.Int128)
    verdict = (
        pl.when(expected.is_null())
        .then(pl.lit("not_planned"))
        .when(expected == 0)
        .then(pl.when(gmv > 0).then(pl.lit("beat")).otherwise(pl.lit("on_plan")))
        .when(gmv * PPM >= expected * rules.beat_ppm)
        .then(pl.lit("beat"))
        .when(gmv * PPM < expected * rules.missed_ppm)
        .then(pl.lit("missed"))
        .otherwise(pl.lit("on_plan"))
    )
    regular = (
        expected.is_not_null()
        & (gmv > 0)
        & (pl.col("orders") >= rules.regular_min_orders)
        & (gmv * PPM >= expected * rules.regular_min_achievement_ppm)
        & (pl.col("refund_fen").cast(pl.Int128) * PPM <= gmv * rules.regular_max_refund_ppm)
    )
    return (
        frame.with_columns(
            *[
                pl.coalesce(c, f"{c}_sold").alias(c)
                for c in ("title", "merchant_id", "category_l1")
            ],
            *[pl.col(c).fill_null(0) for c in SALES],
        )
        .drop("title_sold", "merchant_id_sold", "category_l1_sold")
        .with_columns(
            # With no order at all there is nothing to judge: no verdict, not "missed".
            (verdict if not sales.is_empty() else pl.lit(None, pl.String)).alias("verdict"),
            regular.fill_null(False).alias("regular"),
            # What the plan is measured by: the GMV of planned products; the rest sold off
            # the sheet.
            pl.when(expected.is_not_null()).then("gmv_fen").otherwise(0).alias("planned_gmv_fen"),
            pl.when(expected.is_null()).then("gmv_fen").otherwise(0).alias("off_sheet_gmv_fen"),
        )
        .sort(
            pl.col("position").is_null(),
            "position",
            pl.col("gmv_fen"),
            descending=[False, False, True],
        )
    )


def _groups(products: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    planned = pl.col("expected_gmv_fen").is_not_null()
    return (
        products.group_by(by)
        .agg(
            planned.sum().cast(pl.Int64).alias("planned_products"),
            pl.when(planned.any()).then(pl.col("expected_gmv_fen").sum()).alias("expected_gmv_fen"),
            (pl.col("orders") > 0).sum().cast(pl.Int64).alias("sold_products"),
            *[pl.col(c).sum() for c in [*SALES, "planned_gmv_fen", "off_sheet_gmv_fen"]],
        )
        .sort(["gmv_fen", *by], descending=[True] + [False] * len(by), nulls_last=True)
    )


def _rates(*, off_sheet: bool = False, measured: bool = True) -> list[pl.Expr]:
    """The machine columns every table shares: money as yuan, ratios as fractions; the
    achievement is the planned products' GMV against the plan (null when no order matched:
    nothing was measured)."""
    achievement = formats.ratio(pl.col("planned_gmv_fen"), pl.col("expected_gmv_fen"))
    return [
        pl.col("orders"),
        pl.col("units"),
        formats.yuan(pl.col("gmv_fen")).alias("gmv"),
        *([formats.yuan(pl.col("off_sheet_gmv_fen")).alias("off_sheet_gmv")] if off_sheet else []),
        formats.yuan(pl.col("refund_fen")).alias("refund"),
        formats.ratio(pl.col("refund_fen"), pl.col("gmv_fen")).alias("refund_rate"),
        (achievement if measured else pl.lit(None, pl.String)).alias("achievement"),
    ]


def _people(*, off_sheet: bool = False, measured: bool = True) -> list[pl.Expr]:
    vs_plan = formats.share(pl.col("planned_gmv_fen"), pl.col("expected_gmv_fen"), 0)
    return [
        pl.col("orders"),
        pl.col("units"),
        _money("expected_gmv_fen", "expected").fill_null("—"),
        _money("gmv_fen", "gmv"),
        *([_money("off_sheet_gmv_fen", "off_sheet")] if off_sheet else []),
        (vs_plan if measured else pl.lit("—")).alias("vs_plan"),
        formats.share(pl.col("refund_fen"), pl.col("gmv_fen")).alias("refunds"),
    ]


def _money(column: str, name: str) -> pl.Expr:
    return formats.yuan_label(pl.col(column)).alias(name)


SALES_COLUMNS = [
    Column("orders", N_("orders"), "right"),
    Column("units", N_("units"), "right"),
    Column("expected", N_("expected GMV"), "right"),
    Column("gmv", N_("GMV"), "right"),
    Column("vs_plan", N_("vs plan"), "right"),
    Column("refunds", N_("refunds"), "right"),
]


def _products_table(products: pl.DataFrame, *, measured: bool) -> Table:
    frame = products.select(
        *SLOT_COLUMNS,
        formats.yuan(pl.col("expected_gmv_fen")).alias("expected_gmv"),
        *_rates(measured=measured),
        "verdict",
        "regular",
    )
    view = products.select(
        pl.col("position").cast(pl.String).fill_null("+"),
        pl.col("start").fill_null(""),
        "product_id",
        "title",
        pl.col("role").fill_null(""),
        pl.col("plan_version").cast(pl.String).fill_null(""),
        pl.col("expected_units").cast(pl.String).fill_null(""),
        *_people(measured=measured),
        pl.col("verdict")
        .replace_strict({k: _(v) for k, v in VERDICT_TEXT.items()}, default=None)
        .fill_null("—"),
        pl.when(pl.col("regular")).then(pl.lit("★")).otherwise(pl.lit("")).alias("regular"),
    )
    columns = [
        Column("position", "#", "right"),
        Column("start", N_("start")),
        Column("product_id", N_("product")),
        Column("title", N_("title"), max_width=22),
        Column("role", N_("role"), words=role_label),
        Column("plan_version", N_("version"), "right"),
        Column("expected_units", N_("exp. units"), "right"),
        *SALES_COLUMNS,
        Column("verdict", N_("verdict")),
        Column("regular", "常播"),
    ]
    return Table("products", _("per product (+: sold but not planned)"), frame, view, columns)


def _group_table(key: str, title: str, groups: pl.DataFrame, name: str, *, measured: bool) -> Table:
    named = ["merchant_name"] if "merchant_name" in groups.columns else []
    frame = groups.select(
        name,
        *named,
        "planned_products",
        formats.yuan(pl.col("expected_gmv_fen")).alias("expected_gmv"),
        "sold_products",
        *_rates(off_sheet=True, measured=measured),
    )
    # (fen: polars types an integer column's max as any scalar)
    widest = int(groups["gmv_fen"].max() or 0)  # type: ignore[arg-type]
    view = groups.select(
        pl.col(name).fill_null("—"),
        *[pl.col(c).fill_null("") for c in named],
        "planned_products",
        "sold_products",
        *_people(off_sheet=True, measured=measured),
        pl.col("gmv_fen")
        .map_elements(lambda v: bar(v, widest), return_dtype=pl.String)
        .alias("bar"),
    )
    heading = N_("category") if name == "category_l1" else N_("merchant")
    columns = [
        Column(name, heading),
        *[Column(c, N_("name"), max_width=16) for c in named],
        Column("planned_products", N_("planned"), "right"),
        Column("sold_products", N_("sold"), "right"),
        *SALES_COLUMNS[:4],
        Column("off_sheet", N_("off sheet"), "right"),
        *SALES_COLUMNS[4:],
        Column("bar", ""),
    ]
    return Table(key, title, frame, view, columns)


def _regulars_table(products: pl.DataFrame, rules: ReportRules) -> Table:
    regulars = products.filter(pl.col("regular")).sort("gmv_fen", descending=True)
    frame = regulars.select(
        "product_id",
        "title",
        "merchant_id",
        "category_l1",
        "orders",
        formats.yuan(pl.col("gmv_fen")).alias("gmv"),
        formats.ratio(pl.col("gmv_fen"), pl.col("expected_gmv_fen")).alias("achievement"),
        formats.ratio(pl.col("refund_fen"), pl.col("gmv_fen")).alias("refund_rate"),
    )
    view = regulars.select(
        "product_id",
        "title",
        "merchant_id",
        "orders",
        _money("gmv_fen", "gmv"),
        formats.share(pl.col("gmv_fen"), pl.col("expected_gmv_fen"), 0).alias("vs_plan"),
        formats.share(pl.col("refund_fen"), pl.col("gmv_fen")).alias("refunds"),
    )

    def _percent(ppm: int) -> str:
        return pl.select(formats.percent_ppm(pl.lit(ppm))).item()

    rule = _(
        "GMV ≥ {percent} of plan, refunds ≤ {percent2}, at least {regular_min_orders} orders"
    ).format(
        percent=_percent(rules.regular_min_achievement_ppm),
        percent2=_percent(rules.regular_max_refund_ppm),
        regular_min_orders=rules.regular_min_orders,
    )
    columns = [
        Column("product_id", N_("product")),
        Column("title", N_("title"), max_width=22),
        Column("merchant_id", N_("merchant")),
        Column("orders", N_("orders"), "right"),
        Column("gmv", N_("GMV"), "right"),
        Column("vs_plan", N_("vs plan"), "right"),
        Column("refunds", N_("refunds"), "right"),
    ]
    return Table(
        "regulars",
        _("worth keeping as regulars 常播款 ({rule})").format(rule=rule),
        frame,
        view,
        columns,
        empty=_("no product met the rule"),
    )


def _figures(products: pl.DataFrame, income: CommissionReport, alert: str | None) -> list[Figure]:
    """The headline figures; with no order matched (`alert` says so in a few words), the
    achievement, verdicts and regulars are null: there is nothing to measure, which is not
    0%."""
    planned = products.filter(pl.col("expected_gmv_fen").is_not_null())
    expected = int(planned["expected_gmv_fen"].sum())
    gmv, refund = int(products["gmv_fen"].sum()), int(products["refund_fen"].sum())
    planned_gmv, off_sheet = int(planned["gmv_fen"].sum()), gmv - int(planned["gmv_fen"].sum())
    counts = products["verdict"].value_counts()
    verdicts = dict(zip(counts["verdict"], counts["count"], strict=True))
    leader = income.estimated_fen.get("leader", 0)

    return [
        Figure("gmv", "GMV", formats.fen_text(gmv), formats.fen_label(gmv)),
        Figure(
            "expected_gmv",
            _("expected GMV"),
            formats.fen_text(expected),
            formats.fen_label(expected),
        ),
        Figure(
            "achievement",
            _("planned products' GMV vs plan"),
            None if alert else formats.ratio_of(planned_gmv, expected),
            alert or formats.share_of(planned_gmv, expected, 0),
        ),
        Figure(
            "off_sheet_gmv",
            _("GMV off the sheet"),
            formats.fen_text(off_sheet),
            formats.fen_label(off_sheet),
        ),
        Figure(
            "orders", _("orders"), int(products["orders"].sum()), f"{products['orders'].sum():,}"
        ),
        Figure("units", _("units"), int(products["units"].sum()), f"{products['units'].sum():,}"),
        Figure(
            "refund_rate",
            _("refunds"),
            formats.ratio_of(refund, gmv),
            formats.share_of(refund, gmv),
        ),
        Figure(
            "leader_income",
            _("team leader income (estimated)"),
            formats.fen_text(leader),
            formats.fen_label(leader),
        ),
        Figure(
            "products_sold",
            _("products sold / planned"),
            {"sold": int((planned["orders"] > 0).sum()), "planned": planned.height},
            f"{int((planned['orders'] > 0).sum())} / {planned.height}",
        ),
        Figure(
            "verdicts",
            _("beat / to plan / missed"),
            None if alert else {k: int(verdicts.get(k, 0)) for k in VERDICT_TEXT},
            "—"
            if alert
            else f"{verdicts.get('beat', 0)} / {verdicts.get('on_plan', 0)} / "
            f"{verdicts.get('missed', 0)}",
        ),
        Figure(
            "regulars",
            _("regulars 常播款"),
            None if alert else int(products["regular"].sum()),
            "—" if alert else str(products["regular"].sum()),
        ),
    ]


def _label(position: int | None, title: str) -> str:
    mark = f"{position}." if position is not None else "+"
    return f"{mark} {title or ''}".strip()


def _charts(
    products: pl.DataFrame, categories: pl.DataFrame, income: CommissionReport
) -> list[Chart]:
    def series(name: str, frame: pl.DataFrame, column: str, *, zero: bool = True) -> Series:
        values = [int(v or 0) for v in frame[column]]
        texts = [
            "" if v is None or (v == 0 and not zero) else formats.fen_label(int(v))
            for v in frame[column]
        ]
        return Series(name, values, texts)

    labels = [_label(p, t) for p, t in zip(products["position"], products["title"], strict=True)]
    parties = [p for p in income.estimated_fen if p != "base"]
    return [
        Chart(
            "gmv_by_product",
            _("GMV by product: plan against actual"),
            "bars",
            labels,
            [
                series(_("plan"), products, "expected_gmv_fen"),
                series(_("actual"), products, "gmv_fen"),
            ],
            note=_("in run-sheet order; + marks a product sold but not planned"),
        ),
        Chart(
            "gmv_by_category",
            _("GMV by category: plan against actual"),
            "bars",
            [c or "—" for c in categories["category_l1"]],
            [
                series(_("plan"), categories, "expected_gmv_fen"),
                series(_("actual"), categories, "planned_gmv_fen"),
                *(
                    [series(_("off the sheet"), categories, "off_sheet_gmv_fen", zero=False)]
                    if categories["off_sheet_gmv_fen"].sum()
                    else []
                ),
            ],
            note=_("actual: the planned products' GMV"),
        ),
        Chart(
            "income",
            _("who earns what (estimated, from the ledger)"),
            "bars",
            [party_labels().get(p, p) for p in parties],
            [
                Series(
                    _("income"),
                    [income.estimated_fen[p] for p in parties],
                    [formats.fen_label(income.estimated_fen[p]) for p in parties],
                )
            ],
        ),
    ]
