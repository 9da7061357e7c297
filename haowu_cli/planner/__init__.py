"""Planning live sessions (组货专场): from a brief to a proven-optimal plan and its run sheet.

`plan_sessions` reads the products and anchors, works out every candidate (eligible or why
not, role, minutes, expected sales), checks the brief can be met, solves the selection as a
MILP with HiGHS, orders each session's run sheet, and saves the plan.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import cast

import polars as pl

from haowu_cli import store as db
from haowu_cli.errors import HaowuError
from haowu_cli.i18n import _
from haowu_cli.planner.brief import Brief, brief_rules
from haowu_cli.planner.candidates import PPM, candidate_frame, objective_column
from haowu_cli.planner.explain import obvious_problems, relaxation_problems
from haowu_cli.planner.greedy import MODEL_COLUMNS, with_category_key
from haowu_cli.planner.model import prune, solve
from haowu_cli.planner.output import ITEM_COLUMNS
from haowu_cli.planner.rules import SessionRules
from haowu_cli.planner.run_sheet import order_items, rule_breaks

DEFAULT_TIME_LIMIT = 10.0


@dataclass
class Plan:
    """What `plan-session` found. `items` are the run sheets (column `session` 1, 2 …);
    `candidates` every product considered, per session."""

    status: str  # optimal | feasible | infeasible
    brief: Brief
    objective_fen: int | None = None
    bound_fen: int | None = None
    gap: float = 0.0
    items: pl.DataFrame | None = None
    candidates: pl.DataFrame | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    variables: int = 0
    seconds: float = 0.0
    plan_id: int | None = None


def plan_sessions(
    store: db.Store,
    brief: Brief,
    rules: SessionRules,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    save: bool = True,
) -> Plan:
    """Plan the brief's sessions. An infeasible brief comes back with `problems` (nothing
    is saved); a plan is saved (unless `save` is false) and gets its `plan_id`."""
    clock = time.perf_counter()
    rules = brief_rules(rules, brief)  # the brief's `sequence:` overrides
    if brief.activity is not None:
        _check_activity_windows(store, brief)
    with store.read() as con:
        products = db.planning_products(con, activity=brief.activity)
        anchors = [db.anchor_row(con, s.anchor) for s in brief.sessions]
    if brief.activity is not None and products.is_empty():
        raise HaowuError(
            _("activity {activity} has passed no application yet").format(activity=brief.activity),
            hint=_("import 报名 and review them: haowu activity review {activity}").format(
                activity=brief.activity
            ),
        )
    _check_inputs(brief, products, anchors)
    found = cast("list[dict]", anchors)  # _check_inputs: every session's anchor is known
    plan = Plan(status="infeasible", brief=brief)
    plan.warnings = _anchor_warnings(found, rules)
    plan.candidates = _candidates(products, found, brief, rules)
    plan.problems = obvious_problems(plan.candidates, brief, rules, found)
    if plan.problems:
        plan.seconds = time.perf_counter() - clock
        return plan
    eligible = _eligible(plan.candidates, rules)
    pool = prune(eligible, brief, rules)
    solution, rows, slack = solve(pool, brief, rules, time_limit=time_limit, everything=eligible)
    del eligible
    plan.variables = pool.height
    if solution is None:
        plan.problems = relaxation_problems(rows, slack)
        plan.seconds = time.perf_counter() - clock
        return plan
    plan.status = solution.status
    if solution.source == "greedy":
        plan.warnings.append(
            _(
                "the solver found no plan better than the greedy plan (best value first, "
                "every constraint of the brief kept) within the time limit: this is that plan"
            )
        )
    plan.objective_fen, plan.bound_fen, plan.gap = (
        solution.objective_fen,
        solution.bound_fen,
        solution.gap,
    )
    chosen = pl.Series("chosen", [False] * plan.candidates.height).scatter(
        solution.chosen["_row"], True
    )
    if rules.prefer is not None:  # the solver saw preferred values; the plan is worth this
        plan.objective_fen = int(plan.candidates.filter(chosen)["value"].sum())
    plan.candidates = plan.candidates.with_columns(chosen)
    plan.items = _run_sheets(plan.candidates.filter(chosen), brief, rules, plan.warnings)
    if save:
        plan.plan_id = _save(store, plan, rules)
    plan.seconds = time.perf_counter() - clock
    return plan


def _check_activity_windows(store: db.Store, brief: Brief) -> None:
    """Every session of a brief with `activity:` lies inside one of its selling windows."""
    from haowu_cli.activities import require_activity

    activity = require_activity(store, str(brief.activity))
    selling = [w for w in activity.windows if w.kind == "sale"] or list(activity.windows)
    outside = []
    for index, session in enumerate(brief.sessions, start=1):
        start = dt.datetime.combine(session.date, session.start)
        end = start + dt.timedelta(minutes=session.minutes)
        if not any(w.starts_at <= start and end <= w.ends_at for w in selling):
            outside.append(
                _("session {number} ({start}–{end})").format(
                    number=index, start=f"{start:%Y-%m-%d %H:%M}", end=f"{end:%H:%M}"
                )
            )
    if outside:
        shown = "; ".join(
            f"{w.name} {w.starts_at:%Y-%m-%d %H:%M}–{w.ends_at:%Y-%m-%d %H:%M}" for w in selling
        )
        raise HaowuError(
            _("{sessions} not inside a window of activity {activity}: {windows}").format(
                sessions=_("; ").join(outside), activity=activity.activity_id, windows=shown
            ),
            hint=_("move the session's date, start or minutes into a window"),
        )


def _eligible(candidates: pl.DataFrame, rules: SessionRules) -> pl.DataFrame:
    """The eligible candidates with the columns the model reads and their row in
    `candidates` (`_row`): a narrow copy, not every product column of every session. With
    session.yaml's `prefer_benefit`, the value of a product whose level grants the 权益 is
    raised by its weight (whole fen, rounded half up): the solver prefers it."""
    value = pl.col("value")
    if rules.prefer is not None:
        ppm = rules.prefer.weight_ppm
        preferred = pl.col("level").is_in(list(rules.prefer.levels)).fill_null(False)
        value = pl.when(preferred).then(value + (value * ppm + PPM // 2) // PPM).otherwise(value)
    return (
        with_category_key(candidates)
        .with_columns(value.alias("value"))
        .select(*MODEL_COLUMNS, "eligible")
        .with_row_index("_row")
        .filter(pl.col("eligible"))
        .drop("eligible")
    )


def _check_inputs(brief: Brief, products: pl.DataFrame, anchors: list) -> None:
    for session, anchor in zip(brief.sessions, anchors, strict=True):
        if anchor is None:
            raise HaowuError(
                _("anchor {anchor} is not in the database").format(anchor=session.anchor),
                hint=_(
                    "import the anchors sheet (haowu import --kind anchors FILE); "
                    "haowu anchors lists them"
                ),
            )
    if products.is_empty():
        raise HaowuError(_("the database has no products"), hint=_("import product sheets first"))
    if products["level"].is_null().all():
        raise HaowuError(_("no product has a grade yet"), hint=_("run haowu grade first"))


def _anchor_warnings(anchors: list[dict], rules: SessionRules) -> list[str]:
    warnings = []
    for anchor in dict((a["anchor_id"], a) for a in anchors).values():
        if not anchor.get("gmv_per_hour_fen"):
            warnings.append(
                _(
                    "anchor {anchor_id} has no GMV per hour: expected sales use "
                    "¥{value:,.0f} per hour (expected_sales.default_gmv_per_hour in "
                    "session.yaml)"
                ).format(
                    anchor_id=anchor["anchor_id"], value=rules.sales.default_gmv_per_hour_fen / 100
                )
            )
        if not anchor.get("avg_ticket_fen"):
            warnings.append(
                _(
                    "anchor {anchor_id} has no average ticket: roles by price to ticket do "
                    "not apply and price fit counts as 1"
                ).format(anchor_id=anchor["anchor_id"])
            )
    return warnings


def _candidates(
    products: pl.DataFrame, anchors: list[dict], brief: Brief, rules: SessionRules
) -> pl.DataFrame:
    value = objective_column(brief.objective)
    frames = []
    for index, (session, anchor) in enumerate(zip(brief.sessions, anchors, strict=True)):
        frame = candidate_frame(products, anchor, session, rules)
        frames.append(
            frame.with_columns(
                pl.lit(index, dtype=pl.Int64).alias("session"),
                pl.col(value).fill_null(0).alias("value"),
                (pl.col("product_id").is_in(list(session.pinned)) & pl.col("eligible")).alias(
                    "pinned"
                ),
            )
        )
    return pl.concat(frames)


def _run_sheets(
    chosen: pl.DataFrame, brief: Brief, rules: SessionRules, warnings: list[str]
) -> pl.DataFrame:
    sheets = []
    for index, session in enumerate(brief.sessions):
        ordered = order_items(chosen.filter(pl.col("session") == index), session, rules.sequence)
        for problem in rule_breaks(ordered, rules.sequence):
            warnings.append(
                _("session {value}: the run sheet {problem}").format(
                    value=index + 1, problem=problem
                )
            )
        sheets.append(
            ordered.with_columns(
                (pl.col("session") + 1).alias("session"),
                pl.lit(session.anchor).alias("anchor_id"),
                pl.lit(session.date).alias("session_date"),
                pl.col("value").alias("objective_fen"),
            ).select(ITEM_COLUMNS)
        )
    return pl.concat(sheets, how="vertical_relaxed")


def _save(store: db.Store, plan: Plan, rules: SessionRules) -> int:
    assert plan.candidates is not None and plan.items is not None  # a solved plan has both
    record = {
        "created_at": dt.datetime.now(),
        "status": plan.status,
        "objective": plan.brief.objective,
        "objective_fen": plan.objective_fen,
        "bound_fen": plan.bound_fen,
        "brief": json.dumps(plan.brief.as_json(), ensure_ascii=False),
        "config_fingerprint": rules.fingerprint,
        "candidates": plan.candidates.height,
        "eligible": int(plan.candidates["eligible"].sum()),
        "variables": plan.variables,
    }
    items = plan.items
    assert items is not None  # a solved plan has its run sheets
    return db.write_transaction(store, lambda con: db.save_plan(con, record, items))
