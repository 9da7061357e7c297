"""A plan as people and machines read it: the run sheet table, the CSV export, the JSON object.

Money leaves as yuan text with two decimals ("59.90"), rates as fractions ("0.2"); nothing
is turned into a float on the way out.
"""

from __future__ import annotations

import polars as pl

from haowu_cli import formats
from haowu_cli.store.plans import RUN_SHEET_COLUMNS

ITEM_COLUMNS = list(RUN_SHEET_COLUMNS)  # the stored run sheet, without plan_id


def _money(column: str, name: str) -> pl.Expr:
    return formats.yuan(pl.col(column)).alias(name)


def run_sheet_export(items: pl.DataFrame) -> pl.DataFrame:
    """The run sheet for the host, the merchants and Excel: one row per product in order."""
    return items.select(
        "session",
        "anchor_id",
        pl.col("session_date").cast(pl.String).alias("date"),
        "position",
        "start",
        "start_minute",
        "product_id",
        "merchant_id",
        "title",
        "category_l1",
        "role",
        _money("live_price_fen", "live_price"),
        "mechanism",
        formats.decimal_text(pl.col("commission_rate")).alias("commission_rate"),
        formats.decimal_text(pl.col("service_fee_rate")).alias("service_fee_rate"),
        "stock",
        "minutes",
        "expected_units",
        _money("expected_gmv_fen", "expected_gmv"),
        _money("commission_fen", "expected_commission"),
        _money("team_income_fen", "expected_team_income"),
        _money("objective_fen", "objective_value"),
        "note",
    )


# What each column of the run sheet export holds (`exporting`); the others are text.
RUN_SHEET_KINDS = {
    "session": "number",
    "anchor_id": "id",
    "date": "date",
    "position": "number",
    "start_minute": "number",
    "product_id": "id",
    "merchant_id": "id",
    "live_price": "money",
    "commission_rate": "rate",
    "service_fee_rate": "rate",
    "stock": "number",
    "minutes": "number",
    "expected_units": "number",
    "expected_gmv": "money",
    "expected_commission": "money",
    "expected_team_income": "money",
    "objective_value": "money",
}


def run_sheet_table(items: pl.DataFrame) -> pl.DataFrame:
    """The columns of the terminal run sheet, formatted for people (¥59.90, 20%)."""
    return items.select(
        "position",
        "start",
        "product_id",
        "merchant_id",
        "title",
        "category_l1",
        "role",
        formats.yuan_label(pl.col("live_price_fen")).alias("live_price"),
        "mechanism",
        formats.percent(pl.col("commission_rate")).alias("commission_rate"),
        "stock",
        "minutes",
        "expected_units",
        formats.yuan_label(pl.col("expected_gmv_fen")).alias("expected_gmv"),
        "note",
    )


def session_totals(items: pl.DataFrame, brief_json: dict) -> list[dict]:
    """Per session: its brief's anchor, date, start and minutes, and the plan's totals."""
    totals = []
    for number, session in enumerate(brief_json["sessions"], start=1):
        part = items.filter(pl.col("session") == number)
        totals.append(
            {
                "session": number,
                "anchor_id": session["anchor"],
                "date": session["date"],
                "start": session["start"],
                "minutes": session["minutes"],
                "used_minutes": int(part["minutes"].sum()),
                "products": part.height,
                "expected_units": int(part["expected_units"].sum()),
                "expected_gmv": formats.fen_text(int(part["expected_gmv_fen"].sum())),
                "expected_commission": formats.fen_text(int(part["commission_fen"].sum())),
                "expected_team_income": formats.fen_text(int(part["team_income_fen"].sum())),
                "objective_value": formats.fen_text(int(part["objective_fen"].sum())),
            }
        )
    return totals


def _maybe_yuan(fen: int | None) -> str | None:
    return None if fen is None else formats.fen_text(fen)


def candidates_json(candidates: pl.DataFrame) -> pl.DataFrame:
    """The candidates as the JSON output lists them (a frame: `render.to_json` writes it)."""
    shown = candidates.select(
        (pl.col("session") + 1).alias("session"),
        "product_id",
        "merchant_id",
        "category_l1",
        "eligible",
        "reason",
        "role",
        "minutes",
        _money("live_price_fen", "live_price"),
        "stock",
        "expected_units",
        _money("expected_gmv_fen", "expected_gmv"),
        _money("value", "objective_value"),
        (pl.col("chosen") if "chosen" in candidates.columns else pl.lit(False)).alias("chosen"),
    )
    return shown


def plan_json(
    *,
    plan_id: int | None,
    status: str,
    brief_json: dict,
    objective_fen: int | None,
    bound_fen: int | None,
    gap: float | None,
    items: pl.DataFrame | None,
    candidates: pl.DataFrame | None,
    problems: list[str],
    warnings: list[str],
    solver: dict | None,
    extra: dict | None = None,
) -> dict:
    """The documented `--format json` object of a plan (README, Sessions). Without a plan
    (`objective_fen` None: infeasible, or the time ran out first) there is no bound and no
    gap: both are null."""
    no_plan = objective_fen is None
    return {
        "plan_id": plan_id,
        "status": status,
        "objective": {"name": brief_json["objective"], "value": _maybe_yuan(objective_fen)},
        "bound": None if no_plan else _maybe_yuan(bound_fen),
        "gap": None if no_plan or gap is None else round(gap, 6),
        "solver": solver,
        "brief": brief_json,
        "sessions": [] if items is None else session_totals(items, brief_json),
        "items": [] if items is None else run_sheet_export(items).to_dicts(),
        "candidates": None if candidates is None else candidates_json(candidates),
        "problems": problems,
        "warnings": warnings,
        **(extra or {}),
    }
