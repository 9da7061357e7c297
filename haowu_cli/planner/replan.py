"""场控: re-plan the rest of a live session (`haowu live replan PLAN_ID --at HH:MM`).

The products already presented (their slot has begun by the moment) stay as they were, in
their slots. The rest of the night is planned again by the same model (`model.solve`, proven
optimal by HiGHS) over every candidate of the brief not presented yet — the plan's and the
others — with:

- the remaining stock: each product's stock less the units the session has sold of it;
- the expected sales of `candidates.candidate_frame` multiplied by the room's observed pace
  (per category_l1 and per role, blended with the prior: `ReplanSettings`, the `replan`
  section of session.yaml);
- the brief's constraints over the whole night: the presented products are in the model as
  fixed (pinned) variables, so products, minutes, categories, roles, merchants and a sales
  target count them; the sequencing rules order the rest only, continuing from the presented
  part (`rest_sequence`).

A multi-session plan is re-planned one session at a time; the products of its other sessions
stay there and are not candidates. The result is a new version of the plan, linked to its
first plan, in force from the moment.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import polars as pl

from haowu_cli import store as db
from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import _
from haowu_cli.planner.brief import Bounds, Brief, SessionBrief, brief_rules
from haowu_cli.planner.candidates import candidate_frame, objective_column
from haowu_cli.planner.explain import relaxation_problems
from haowu_cli.planner.greedy import MODEL_COLUMNS, with_category_key
from haowu_cli.planner.model import prune, solve
from haowu_cli.planner.output import ITEM_COLUMNS
from haowu_cli.planner.rules import ReplanSettings, SequenceRules, SessionRules
from haowu_cli.planner.run_sheet import order_items, rule_breaks

DEFAULT_TIME_LIMIT = 10.0


@dataclass(frozen=True)
class Pace:
    """The room's observed pace (GMV so far ÷ expected by now, blended with the prior 1):
    the room's, and each category_l1's and role's presented so far."""

    room: float
    categories: dict[str, float]
    roles: dict[str, float]

    def multiplier(self, settings: ReplanSettings) -> pl.Expr:
        """A candidate's multiplier of its expected GMV, over `category_l1` and `role`."""
        room = pl.lit(self.room)
        category = (
            pl.col("category_l1")
            .replace_strict(self.categories, default=room, return_dtype=pl.Float64)
            .fill_null(room)
            if self.categories
            else room
        )
        role = (
            pl.col("role").replace_strict(self.roles, default=room, return_dtype=pl.Float64)
            if self.roles
            else room
        )
        weight = settings.category_weight
        return (weight * category + (1 - weight) * role).clip(settings.pace_min, settings.pace_max)

    def as_json(self) -> dict[str, Any]:
        return {
            "room": round(self.room, 4),
            "categories": {k: round(v, 4) for k, v in sorted(self.categories.items())},
            "roles": {k: round(v, 4) for k, v in sorted(self.roles.items())},
        }


@dataclass
class Replan:
    """What `replan` found. `items` is the new version's run sheets (every session of the
    plan), `rest` the re-planned part of the session, `fixed` its presented part."""

    status: str  # optimal | feasible | infeasible
    base_plan_id: int  # the version re-planned
    root_plan_id: int
    version: int
    session: int
    at: dt.datetime
    minute: int  # of the session, at the moment
    from_minute: int  # the rest starts then (the end of the slot on now)
    pace: Pace
    fixed: pl.DataFrame
    rest: pl.DataFrame | None = None
    items: pl.DataFrame | None = None
    dropped: list[dict] = field(default_factory=list)
    added: list[dict] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)
    old_rest_value_fen: int = 0
    new_rest_value_fen: int = 0
    objective_fen: int | None = None
    bound_fen: int | None = None
    gap: float = 0.0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    candidates: int = 0
    variables: int = 0
    solve_seconds: float = 0.0
    seconds: float = 0.0
    plan_id: int | None = None  # the new version's, once saved
    objective: str = "gmv"  # the brief's: what the values and the gain are in

    @property
    def gain_fen(self) -> int:
        """The rest of the night's expected objective, re-planned, less the old plan's rest
        under the same updated expectations."""
        return self.new_rest_value_fen - self.old_rest_value_fen


def brief_from_json(data: dict[str, Any]) -> Brief:
    """The `Brief` a saved plan was planned by, from its stored JSON (`Brief.as_json`)."""

    def bounds(value: dict[str, Any] | None) -> Bounds:
        value = value or {}
        return Bounds(value.get("min"), value.get("max"))

    sessions = tuple(
        SessionBrief(
            anchor=s["anchor"],
            date=dt.date.fromisoformat(s["date"]),
            start=dt.time.fromisoformat(s["start"]),
            minutes=int(s["minutes"]),
            products=bounds(s.get("products")),
            min_level=s["min_level"],
            min_commission_rate=Decimal(str(s["min_commission_rate"])),
            max_per_merchant=int(s["max_per_merchant"]),
            require_sample=bool(s["require_sample"]),
            categories={k: bounds(v) for k, v in (s.get("categories") or {}).items()},
            roles={k: bounds(v) for k, v in (s.get("roles") or {}).items()},
            pinned=tuple(s.get("pinned") or ()),
            exclude_products=tuple(s.get("exclude_products") or ()),
            exclude_merchants=tuple(s.get("exclude_merchants") or ()),
            merchants=tuple(s.get("merchants") or ()),
            brands=tuple(s.get("brands") or ()),
            only_categories=tuple(s.get("only_categories") or ()),
            min_expected_gmv_fen=s.get("min_expected_gmv_fen"),
        )
        for s in data["sessions"]
    )
    return Brief(
        sessions=sessions,
        objective=data["objective"],
        allow_repeat=bool(data.get("allow_repeat")),
        pinned=tuple(data.get("pinned") or ()),
        activity=data.get("activity"),
        sequence=dict(data.get("sequence") or {}),
    )


def observed_pace(
    items: pl.DataFrame, sold: pl.DataFrame, minute: float, settings: ReplanSettings
) -> Pace:
    """The pace of the products presented by `minute` (`items`: the session's run sheet;
    `sold`: its orders so far per product, `store.live_orders`). A product's expected GMV by
    now is its planned GMV times the share of its slot gone by (as the live view counts)."""
    prior = float(settings.prior_gmv_fen)
    gmv = dict(zip(sold["product_id"].to_list(), sold["gmv_fen"].to_list(), strict=True))
    rows: list[tuple[str | None, str, float, float]] = []
    for item in items.iter_rows(named=True):
        begin, length = int(item["start_minute"]), int(item["minutes"])
        if minute < begin:
            continue
        share = min((minute - begin) / length, 1.0) if length else 1.0
        expected = int(item["expected_gmv_fen"]) * share
        rows.append(
            (item["category_l1"], item["role"], float(gmv.get(item["product_id"]) or 0), expected)
        )
    total_sold = sum(r[2] for r in rows)
    total_expected = sum(r[3] for r in rows)
    room = (total_sold + prior) / (total_expected + prior)

    def by(index: int) -> dict[str, float]:
        groups: dict[str, list[float]] = {}
        for row in rows:
            key = row[index]
            if not isinstance(key, str):
                continue
            group = groups.setdefault(key, [0.0, 0.0])
            group[0] += row[2]
            group[1] += row[3]
        return {k: (s + prior * room) / (e + prior) for k, (s, e) in groups.items()}

    return Pace(room, by(0), by(1))


@dataclass(frozen=True)
class RestRules:
    """How the sequencing rules apply to the rest of the night after the presented products.

    The sequencing rules count from the last deal presented (`settled`: the presented rows
    before it): with it as the opening, `model` holds exactly when the rest can be ordered
    by `order` after the `lead` items presented since that deal (the run sheet keeps every
    run, the first counting the lead, within deal_every, and closes on a deal). A lead longer
    than deal_every counts as deal_every."""

    model: SequenceRules
    order: SequenceRules
    lead: int
    settled: list[bool]


def rest_rules(rules: SequenceRules, fixed_roles: list[str]) -> RestRules:
    """The `RestRules` after the presented products (`fixed_roles`, in order)."""
    if not fixed_roles:
        return RestRules(rules, rules, 0, [])
    deals = [i for i, role in enumerate(fixed_roles) if role in rules.deal_roles]
    last = deals[-1] if deals else None
    lead = len(fixed_roles) - (last + 1 if last is not None else 0)
    # A presented run longer than deal_every (the rules changed since the plan) cannot be
    # undone: it counts as deal_every, so the rest opens on a deal.
    counted = min(lead, rules.deal_every) if rules.deal_every else lead
    settled = [
        (last is not None and i < last)
        or (i < len(fixed_roles) - counted and (last is None or i > last))
        for i in range(len(fixed_roles))
    ]
    lead = counted
    model = dataclasses.replace(rules, open_with_deal=last is not None)
    order = dataclasses.replace(rules, open_with_deal=False)
    return RestRules(model, order, lead, settled)


def replan(
    store: db.Store,
    plan_id: int,
    rules: SessionRules,
    *,
    at: dt.datetime,
    session: int = 1,
    time_limit: float = DEFAULT_TIME_LIMIT,
    save: bool = True,
) -> Replan:
    """Re-plan session `session` of plan `plan_id` (any of its versions: the one in force at
    `at` is re-planned) from the moment `at` (Beijing time)."""
    from haowu_cli.live import session_sheet

    clock = time.perf_counter()
    with store.read() as con:
        versions = db.plan_versions(con, plan_id)
        if versions.is_empty():
            raise HaowuError(
                _("no plan {plan_id}").format(plan_id=plan_id),
                hint=_("haowu sessions lists the saved plans"),
            )
        in_force = versions.filter(
            pl.col("applies_from").is_null() | (pl.col("applies_from") <= at)
        )
        base = (
            in_force.row(-1, named=True) if not in_force.is_empty() else versions.row(0, named=True)
        )
        base_id, root_id = int(base["plan_id"]), int(versions["plan_id"][0])
        record = db.plan_record(con, base_id)
        assert record is not None
        items = db.plan_items(con, base_id)
    brief = brief_from_json(json.loads(record["brief"]))
    rules = brief_rules(rules, brief)
    sheet = session_sheet(base_id, items, session)
    if sheet is None or session > len(brief.sessions):
        raise UsageError(
            _("plan {plan_id} has no session {session}").format(plan_id=base_id, session=session)
        )
    spec = brief.sessions[session - 1]
    minute = int((at - sheet.start).total_seconds() // 60)
    part = sheet.items
    fixed = part.filter(pl.col("start_minute") <= minute) if minute >= 0 else part.clear()
    ends = (fixed["start_minute"] + fixed["minutes"]).to_list()
    # The rest starts when the slot on now ends, or now when the run sheet is behind us.
    from_minute = max(int(max(ends)) if ends else 0, minute)
    if from_minute >= spec.minutes:
        raise UsageError(
            _("session {session} of plan {plan_id} has no minutes left to re-plan at {at}").format(
                session=session, plan_id=base_id, at=at.strftime("%H:%M")
            )
        )
    with store.read() as con:
        sold = db.live_orders(
            con,
            anchor_id=sheet.anchor_id,
            session_date=sheet.session_date,
            start=sheet.start,
            at=at,
            recent_from=at,
        )
        products = db.planning_products(con, activity=brief.activity)
        anchor = db.anchor_row(con, spec.anchor)
    if anchor is None:
        raise HaowuError(_("anchor {anchor} is not in the database").format(anchor=spec.anchor))
    pace = observed_pace(part, sold, float(minute), rules.replan)
    result = Replan(
        status="infeasible",
        base_plan_id=base_id,
        root_plan_id=root_id,
        version=max(versions["version"].to_list()) + 1,
        session=session,
        at=at,
        minute=minute,
        from_minute=from_minute,
        pace=pace,
        fixed=fixed,
        objective=brief.objective,
    )
    candidates = _candidates(products, sold, anchor, spec, brief, rules, pace)
    elsewhere = items.filter(pl.col("session") != session)["product_id"].to_list()
    presented = fixed["product_id"].to_list()
    rest_pool = candidates.filter(~pl.col("product_id").is_in(presented + elsewhere))
    # Minutes between the run sheet's end and now are gone: the rest has the others.
    idle = from_minute - (int(max(ends)) if ends else 0)
    one = dataclasses.replace(
        brief, sessions=(dataclasses.replace(spec, minutes=spec.minutes - idle),), pinned=()
    )
    old_rest = part.filter(~pl.col("product_id").is_in(presented))["product_id"].to_list()
    result.old_rest_value_fen = _old_rest_value(part, presented, candidates)
    found = plan_rest(fixed, rest_pool, one, rules, old_rest=old_rest, time_limit=time_limit)
    result.candidates, result.variables = rest_pool.height, found.variables
    if found.chosen is None:
        result.problems = found.problems
        result.seconds = time.perf_counter() - clock
        return result
    result.status, result.solve_seconds = found.status, found.seconds
    chosen, sequence = found.chosen, found.sequence
    result.new_rest_value_fen = int(chosen["value"].sum())
    # The same products as the plan in force (worth no more, by the tie-break of plan_rest):
    # their order stays too, when it keeps the sequencing rules, rather than being sorted
    # again by the updated figures (a swap worth nothing is no change to make).
    kept = _in_old_order(chosen, part, old_rest, spec, sequence, from_minute)
    rest = (
        kept
        if kept is not None
        else order_items(
            chosen,
            spec,
            sequence.order,
            from_minute=from_minute,
            lead=sequence.lead,
        )
    )
    for problem in rule_breaks(rest, sequence.order, lead=sequence.lead):
        result.warnings.append(_("the rest of the run sheet {problem}").format(problem=problem))
    rest = rest.with_columns(
        (pl.col("position") + fixed.height).alias("position"),
        pl.lit(session, dtype=pl.Int64).alias("session"),
        pl.lit(sheet.anchor_id).alias("anchor_id"),
        pl.lit(sheet.session_date).alias("session_date"),
        pl.col("value").alias("objective_fen"),
    ).select(ITEM_COLUMNS)
    result.rest = rest
    others = items.filter(pl.col("session") != session).drop("plan_id")
    result.items = pl.concat([others, fixed.drop("plan_id"), rest], how="vertical_relaxed").sort(
        "session", "position"
    )
    result.objective_fen = int(result.items["objective_fen"].sum())
    result.bound_fen = result.objective_fen + found.bound_gap_fen
    result.gap = found.gap
    reasons = dict(candidates.filter(~pl.col("eligible")).select("product_id", "reason").rows())
    _changes(result, part.filter(~pl.col("product_id").is_in(presented)), rest, reasons)
    if save:
        result.plan_id = _save(store, result, record, rules, int(rest_pool["eligible"].sum()))
    result.seconds = time.perf_counter() - clock
    return result


@dataclass
class RestPlan:
    """The rest of the night as `plan_rest` chose it: `chosen` the rest pool's rows (None
    when no plan meets the brief: `problems` say why), their objective `value_fen`, how far
    the solver's bound may lie above it (`bound_gap_fen`, 0 when proven optimal)."""

    status: str
    chosen: pl.DataFrame | None
    sequence: RestRules
    value_fen: int = 0
    bound_gap_fen: int = 0
    gap: float = 0.0
    problems: list[str] = field(default_factory=list)
    variables: int = 0
    seconds: float = 0.0


def plan_rest(
    fixed: pl.DataFrame,
    rest_pool: pl.DataFrame,
    brief: Brief,
    rules: SessionRules,
    *,
    old_rest: list[str],
    time_limit: float,
) -> RestPlan:
    """Choose the rest of a one-session `brief` by the planner's model: `fixed` the products
    presented, in order (their `role`, `minutes`, `objective_fen` … as planned), pinned;
    `rest_pool` the candidates of the rest (the model's columns and `eligible`). Of plans worth
    as much, the one keeping most of `old_rest` (each fen counts `scale`, a product of the old
    rest one more), so that nothing changes for nothing."""
    sequence = rest_rules(rules.sequence, fixed["role"].to_list())
    model_rules = dataclasses.replace(rules, sequence=sequence.model)
    presented = _fixed_rows(fixed)
    if "category_key" in rest_pool.columns:
        # A presented product counts towards the brief's bounded category it is in (its
        # levels are the rest pool's); one gone from the products, by its category_l1.
        keys = rest_pool.select("product_id", "category_key").unique("product_id")
        presented = presented.join(keys, on="product_id", how="left").with_columns(
            pl.coalesce("category_key", "category_l1").alias("category_key")
        )
    frame = pl.concat(
        [presented, rest_pool.with_columns(pl.lit(False).alias("fixed"))],
        how="diagonal_relaxed",
    ).with_columns(pl.Series("settled", sequence.settled + [False] * rest_pool.height, pl.Boolean))
    scale = len(old_rest) + 1
    pool = prune(
        with_category_key(frame)
        .select(*MODEL_COLUMNS, "settled", "fixed", "eligible")
        .with_row_index("_row")
        .filter(pl.col("eligible"))
        .drop("eligible")
        .with_columns(
            pl.col("value") * scale
            + (pl.col("product_id").is_in(old_rest) & ~pl.col("fixed")).cast(pl.Int64)
        ),
        brief,
        model_rules,
    )
    variables = pool.height - fixed.height
    solution, rows, slack = solve(pool, brief, model_rules, time_limit=time_limit)
    if solution is None:
        return RestPlan(
            "infeasible",
            None,
            sequence,
            problems=relaxation_problems(rows, slack),
            variables=variables,
        )
    chosen = frame[solution.chosen["_row"].to_list()].filter(~pl.col("fixed"))
    return RestPlan(
        solution.status,
        chosen.drop("fixed", "settled"),
        sequence,
        value_fen=int(chosen["value"].sum()),
        bound_gap_fen=max(solution.bound_fen - solution.objective_fen, 0) // scale,
        gap=solution.gap,
        variables=variables,
        seconds=solution.seconds,
    )


def _in_old_order(
    chosen: pl.DataFrame,
    part: pl.DataFrame,
    old_rest: list[str],
    spec: SessionBrief,
    sequence: RestRules,
    from_minute: int,
) -> pl.DataFrame | None:
    """`chosen` in the order of the plan in force (`part`, the session's run sheet), as
    `order_items` shapes a run sheet, when it holds exactly the old rest's products and that
    order keeps the sequencing rules; None otherwise. The host notes 开场 and 收尾 stay where
    they were; 高峰 follows the clock."""
    if chosen.height != len(old_rest) or set(chosen["product_id"]) != set(old_rest):
        return None
    old = (
        part.filter(pl.col("product_id").is_in(old_rest))
        .sort("start_minute")
        .select("product_id", pl.col("note").alias("_old_note"))
        .with_row_index("_old")
    )
    ordered = chosen.join(old, on="product_id", how="inner").sort("_old")
    rules = sequence.order
    clock, starts, notes = from_minute, [], []
    for role, minutes, note in ordered.select("role", "minutes", "_old_note").iter_rows():
        peak = rules.peak_from <= clock < rules.peak_to and role in rules.peak_roles
        notes.append(note if note in ("开场", "收尾") else "高峰" if peak else None)
        starts.append(clock)
        clock += int(minutes)
    begins = dt.datetime.combine(spec.date, spec.start)
    frame = ordered.drop("_old", "_old_note").with_columns(
        pl.Series("start_minute", starts, dtype=pl.Int64),
        pl.Series("note", notes, dtype=pl.String),
        pl.int_range(1, ordered.height + 1, dtype=pl.Int64).alias("position"),
        pl.Series(
            "start",
            [(begins + dt.timedelta(minutes=m)).strftime("%H:%M") for m in starts],
            dtype=pl.String,
        ),
    )
    if rule_breaks(frame, rules, lead=sequence.lead):
        return None
    return frame


def _candidates(
    products: pl.DataFrame,
    sold: pl.DataFrame,
    anchor: dict,
    spec: SessionBrief,
    brief: Brief,
    rules: SessionRules,
    pace: Pace,
) -> pl.DataFrame:
    """Every product as a candidate of the rest of the night: its stock less what the session
    sold of it, its expected sales times the pace."""
    units = sold.select("product_id", pl.col("units").cast(pl.Int64).alias("_sold"))
    remaining = (
        products.join(units, on="product_id", how="left")
        .with_columns(
            (pl.col("stock") - pl.col("_sold").fill_null(0)).clip(lower_bound=0).alias("stock")
        )
        .drop("_sold")
    )
    frame = candidate_frame(remaining, anchor, spec, rules, pace=pace.multiplier(rules.replan))
    value = objective_column(brief.objective)
    return frame.with_columns(
        pl.lit(0, dtype=pl.Int64).alias("session"),
        pl.col(value).fill_null(0).alias("value"),
        (pl.col("product_id").is_in(list(spec.pinned)) & pl.col("eligible")).alias("pinned"),
    )


def _fixed_rows(fixed: pl.DataFrame) -> pl.DataFrame:
    """The presented products as the model's candidates: pinned, with their slot and their
    planned figures (what they were planned at counts for the whole night)."""
    return fixed.drop(
        "plan_id",
        "session",
        "position",
        "start_minute",
        "start",
        "note",
        "anchor_id",
        "session_date",
        strict=False,
    ).with_columns(
        pl.lit(0, dtype=pl.Int64).alias("session"),
        pl.col("objective_fen").alias("value"),
        pl.lit(True).alias("pinned"),
        pl.lit(True).alias("eligible"),
        pl.lit(True).alias("fixed"),
        pl.lit(None, dtype=pl.String).alias("reason"),
    )


def _old_rest_value(part: pl.DataFrame, presented: list[str], candidates: pl.DataFrame) -> int:
    """The old plan's rest of the night under the updated expectations (a product no longer
    eligible — sold out, say — counts nothing)."""
    old = part.filter(~pl.col("product_id").is_in(presented)).select("product_id")
    values = candidates.filter(pl.col("eligible")).select("product_id", "value")
    return int(old.join(values, on="product_id", how="inner")["value"].sum())


def _changes(result: Replan, old: pl.DataFrame, new: pl.DataFrame, reasons: dict[str, str]) -> None:
    """Dropped (with `reason` when the product is no longer eligible: sold out, say), added
    and moved (another start) between the old rest and the new."""
    before = {r["product_id"]: r for r in old.iter_rows(named=True)}
    after = {r["product_id"]: r for r in new.iter_rows(named=True)}

    def brief_row(row: dict) -> dict:
        return {
            "product_id": row["product_id"],
            "title": row["title"],
            "role": row["role"],
            "start": row["start"],
            "expected_gmv_fen": int(row["expected_gmv_fen"]),
            "objective_fen": int(row["objective_fen"]),
        }

    result.dropped = [
        brief_row(r) | {"reason": reasons.get(p)} for p, r in before.items() if p not in after
    ]
    result.added = [brief_row(r) for p, r in after.items() if p not in before]
    result.moved = [
        {
            "product_id": p,
            "title": r["title"],
            "role": r["role"],
            "from": before[p]["start"],
            "to": r["start"],
            "expected_gmv_fen": int(r["expected_gmv_fen"]),
            "was_expected_gmv_fen": int(before[p]["expected_gmv_fen"]),
        }
        for p, r in after.items()
        if p in before and before[p]["start"] != r["start"]
    ]


def _save(store: db.Store, result: Replan, record: dict, rules: SessionRules, eligible: int) -> int:
    assert result.items is not None and result.objective_fen is not None
    saved = {
        "created_at": dt.datetime.now(),
        "status": result.status,
        "objective": record["objective"],
        "objective_fen": result.objective_fen,
        "bound_fen": result.bound_fen,
        "brief": record["brief"],
        "config_fingerprint": rules.fingerprint,
        "candidates": result.candidates,
        "eligible": eligible,
        "variables": result.variables,
        "parent_plan_id": result.root_plan_id,
        "version": result.version,
        "replanned_session": result.session,
        "applies_from": result.at,
        "applies_from_minute": result.minute,
    }
    items = result.items
    assert items is not None  # a solved plan has its run sheets
    return db.write_transaction(store, lambda con: db.save_plan(con, saved, items))
