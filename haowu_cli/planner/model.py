"""Choosing the products: a mixed-integer program solved by HiGHS, proven optimal.

One binary variable per (session, eligible product): in the plan or not. The objective is
the sum of the chosen products' objective values (integer fen), so a solution within less
than one fen of the bound is optimal. Constraints, each named after the brief key it comes
from: products.min/max, minutes, categories.X, roles.X, max_per_merchant, the sequencing
rules (enough deals to open, close and break up the run), pinned products; across sessions
a product appears at most once (unless allow_repeat) and never sells more than its stock.

Before solving, candidates that enough others dominate are dropped (`prune`): that keeps a
pool of 100,000 products to a few thousand variables without changing the optimum. The
solver starts from the greedy plan (`greedy.py`), so a plan the time limit stops is never
worse than it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from haowu_cli.errors import HaowuError
from haowu_cli.i18n import _
from haowu_cli.planner.brief import Brief, SessionBrief
from haowu_cli.planner.greedy import greedy_plan, with_category_key
from haowu_cli.planner.rules import SessionRules

if TYPE_CHECKING:
    import highspy
    import numpy as np


class PlanNotFound(HaowuError):
    """The time limit ran out before any plan was found."""


@dataclass(frozen=True)
class Row:
    """A constraint: lower ≤ Σ coefficient × x ≤ upper over some variables."""

    name: str  # the brief key it comes from, e.g. "categories.美妆" (session-qualified)
    lower: float
    upper: float
    columns: list[int]
    coefficients: list[float]


@dataclass
class Solution:
    status: str  # optimal | feasible
    chosen: pl.DataFrame  # the chosen candidate rows
    objective_fen: int
    bound_fen: int
    gap: float
    variables: int
    seconds: float
    # "greedy" when the time limit stopped the solver before it found a plan better than the
    # greedy plan (`greedy.py`), which this then is; else "solver"
    source: str = "solver"


INF = float("inf")


def deal_class(rules: SessionRules) -> pl.Expr:
    """ "deal" for a deal role, else the role (the sequencing rules count deals)."""
    return (
        pl.when(pl.col("role").is_in(list(rules.sequence.deal_roles)))
        .then(pl.lit("deal"))
        .otherwise(pl.lit("other"))
    )


def prune(candidates: pl.DataFrame, brief: Brief, rules: SessionRules) -> pl.DataFrame:
    """Drop each (session, product) candidate that enough others dominate in its session;
    the optimum over what is left is the optimum over every candidate.

    j dominates i in session s when both count the same under every constraint of s (same
    bounded category, `category_key`, where the brief bounds categories, same role where it
    bounds roles, both deals or both not), j's slot is no longer and j is worth at least as
    much in s (ties by product ID: the order `_prune_session` sorts by, in which j comes
    first).

    The exchange. Take any plan with i in s, and a dominator j of i in s. Putting j in s in
    i's place keeps every count of s, uses no more minutes and loses nothing, and is a plan
    unless j is blocked: (a) j is already in s, (b) j's merchant has max_per_merchant
    products in s besides i, or (c) j is in another session and cannot be in s as well
    (without allow_repeat it may be in one session only; with it, j's stock, shared by the
    sessions, may not cover s too). Count at most max_per_merchant dominators of a merchant
    ("counted"), and let P_s be the most products s can hold in any plan (products.max, the
    minutes over the shortest slot, and the sum over merchants of max_per_merchant or their
    candidates, whichever is least). Then, with C counted dominators, T of them "shared"
    (below):
      - (a) and (b) together block at most min(C − F, P_s − 1) of them, F being 1 when
        max_per_merchant of them are of i's own merchant, else 0. A merchant's counted
        dominators blocked by (a) or (b) are at most as many as its products in s besides
        i (all of them when (b): it has max_per_merchant), s holds at most P_s − 1 products
        besides i, and i's own merchant has at most max_per_merchant − 1 besides i;
      - (c) blocks only a product in another session, so at most R_s, the most products of
        i's kind the other sessions can hold: the sum over them of P, each no more than
        its max for i's category (when s bounds categories of that name) and for i's role
        (when s bounds it and every product has the same role in every session); and only
        a shared one: a candidate of another session too, and
        with allow_repeat one whose expected units over its sessions exceed its stock (any
        other has stock for every session at once, a session's units being capped by the
        stock): at most min(T, R_s).
    So if C ≥ 1 + min(C − F, P_s − 1) + min(T, R_s), some dominator is free: every plan with
    i in s can swap it for one, no worse. Each swap moves a session's product earlier in
    the order, so from an optimal plan the swaps end, at an optimal plan that uses only
    candidates kept. Pinned products (in a session or plan-level) are always kept.
    """
    if candidates.is_empty() or any(
        s.min_expected_gmv_fen is not None for s in brief.sessions
    ):  # a sales target counts expected GMV, which dominance does not compare
        return candidates
    candidates = with_category_key(candidates)
    never_drop = pl.col("pinned") | pl.col("product_id").is_in(list(brief.pinned))
    # Products, merchants and roles as whole numbers (their codes in this frame): the windows,
    # sorts and groupings below on strings took most of the time at 100,000 products.
    narrow = candidates.select(
        "session",
        "product_id",
        _code("product_id").alias("_product"),
        _code("merchant_id").alias("_merchant"),
        "category_key",
        "role",
        "minutes",
        "value",
        never_drop.alias("_never_drop"),
        "expected_units",
        "stock",
    ).with_row_index("_at")
    parts = [narrow.filter(pl.col("session") == index) for index in range(len(brief.sessions))]
    capacity = [
        _capacity(part, session) for part, session in zip(parts, brief.sessions, strict=True)
    ]
    shared, roles_agree = _shared_products(narrow, brief)
    kept = []
    for index, (part, session) in enumerate(zip(parts, brief.sessions, strict=True)):

        def elsewhere(category: str, role: str, index: int = index) -> int:
            return _elsewhere(brief, capacity, index, category, role if roles_agree else "")

        part = part.with_columns(pl.col("_product").is_in(shared.implode()).alias("_shared"))
        kept.append(_prune_session(part, session, rules, capacity[index], elsewhere))
    del parts
    return candidates[pl.concat(kept).to_list()]


def _code(column: str) -> pl.Expr:
    """A text column as whole numbers, equal where the texts are (within one frame)."""
    return pl.col(column).cast(pl.Categorical).to_physical().cast(pl.Int64)


def _capacity(part: pl.DataFrame, session: SessionBrief) -> int:
    """The most products session can hold in any plan: products.max, the minutes over the
    shortest slot, and max_per_merchant products of each merchant (or all it has)."""
    if part.is_empty():
        return 0
    by_merchant = part.group_by("_merchant").len().get_column("len")
    most = int(by_merchant.clip(upper_bound=session.max_per_merchant).sum())
    # (minutes: an integer column, whose min polars types as any scalar)
    most = min(most, session.minutes // int(part["minutes"].min()))  # type: ignore[arg-type]
    if session.products.max is not None:
        most = min(most, session.products.max)
    return most


def _shared_products(narrow: pl.DataFrame, brief: Brief) -> tuple[pl.Series, bool]:
    """Products (`_product` codes) another session's use can keep out of a session:
    candidates of two or more sessions, and with allow_repeat only those whose expected
    units exceed their stock; and whether every product has the same role in every session
    it is a candidate of."""
    if len(brief.sessions) < 2:
        return pl.Series("_product", [], dtype=pl.Int64), True
    per_product = narrow.group_by("_product").agg(
        pl.len().alias("_sessions"),
        pl.col("expected_units").sum().alias("_units"),
        pl.col("stock").first().alias("_stock"),
        _code("role").n_unique().alias("_roles"),
    )
    shared = pl.col("_sessions") > 1
    if brief.allow_repeat:
        shared = shared & (pl.col("_units") > pl.col("_stock"))
    roles_agree = bool(per_product["_roles"].max() == 1)
    return per_product.filter(shared).get_column("_product"), roles_agree


def _elsewhere(brief: Brief, capacity: list[int], index: int, category: str, role: str) -> int:
    """R_s (see `prune`): how many products of this category (when the session bounds it,
    else "") and role (likewise, and "" unless roles agree) the other sessions can hold."""
    total = 0
    for other, session in enumerate(brief.sessions):
        if other == index:
            continue
        most = capacity[other]
        for name, bounds in ((category, session.categories), (role, session.roles)):
            bound = bounds.get(name) if name else None
            if bound is not None and bound.max is not None:
                most = min(most, bound.max)
        total += most
    return total


def _prune_session(
    part: pl.DataFrame,
    session: SessionBrief,
    rules: SessionRules,
    capacity: int,
    elsewhere: Callable[[str, str], int],
) -> pl.Series:
    """The rows (`_at`) of `part` (one session) to keep, in dominance order (see `prune`):
    by group (category where bounded, role where bounded, deal or not, in the order of
    their names), best value first, then the shorter slot, then product ID."""
    if part.is_empty():
        return part["_at"]
    cap = session.max_per_merchant
    categories, roles = [""] + list(session.categories), [""] + list(session.roles)
    kind = (
        pl.col("category_key")
        .replace_strict({name: i for i, name in enumerate(categories)}, default=0)
        .fill_null(0)
        .cast(pl.Int64)
        * len(roles)
        + pl.col("role").replace_strict({name: i for i, name in enumerate(roles)}, default=0)
    ) * 2 + (deal_class(rules) == "other").cast(pl.Int64)
    part = part.with_columns(kind.cast(pl.Int64).alias("_kind"))
    if not part["product_id"].is_sorted():
        part = part.sort("product_id")
    part = part.with_row_index("_pos")  # product ID order, as a number
    names = {}
    for code in part["_kind"].unique().to_list():
        category, role = categories[code // 2 // len(roles)], roles[code // 2 % len(roles)]
        names[code] = (category, role, "other" if code % 2 else "deal")
    rank = {code: order for order, code in enumerate(sorted(names, key=names.__getitem__))}
    groups = pl.DataFrame(
        {
            "_kind": list(rank),
            "_group": list(rank.values()),
            "_elsewhere": [elsewhere(*names[code][:2]) for code in rank],
        },
        schema={"_kind": pl.Int64, "_group": pl.Int64, "_elsewhere": pl.Int64},
    )
    ordered = (
        part.join(groups, on="_kind", how="left")
        .sort(["_group", "value", "minutes", "_pos"], descending=[False, True, False, False])
        .with_row_index("_order")
    )
    keep = pl.Series("_keep", [True] * ordered.height)
    for level in ordered["minutes"].unique().sort():
        # Each candidate of this slot length against the candidates before it in its group
        # that are no longer: its counted dominators, not shared (L) and shared (T), and
        # whether its own merchant gives max_per_merchant of them (see `prune`).
        before = pl.int_range(pl.len()).over("_group", "_merchant")
        counted = before < cap

        def earlier(flag: pl.Expr) -> pl.Expr:
            return (flag.cast(pl.Int64).cum_sum() - flag.cast(pl.Int64)).over("_group")

        at_level = ordered.filter(pl.col("minutes") == level).get_column("_group").unique()
        dominated = (
            ordered.filter(
                (pl.col("minutes") <= level) & pl.col("_group").is_in(at_level.implode())
            )
            .with_columns(
                earlier(counted & ~pl.col("_shared")).alias("_l"),
                earlier(counted & pl.col("_shared")).alias("_t"),
                (before >= cap).cast(pl.Int64).alias("_own_full"),
            )
            .filter(pl.col("minutes") == level)
            .filter(
                pl.col("_l") + pl.col("_t")
                >= 1
                + pl.min_horizontal(pl.col("_l") + pl.col("_t") - pl.col("_own_full"), capacity - 1)
                + pl.min_horizontal(pl.col("_t"), pl.col("_elsewhere"))
            )
            .get_column("_order")
        )
        keep = keep.scatter(dominated, False)
    return ordered["_at"].filter(keep | ordered["_never_drop"])


def build_rows(candidates: pl.DataFrame, brief: Brief, rules: SessionRules) -> list[Row]:
    """Every constraint of the plan over the candidates' variables (row i = variable i)."""
    rows: list[Row] = []
    frame = (
        with_category_key(candidates)
        .with_row_index("_var")
        .with_columns(deal_class(rules).alias("_class"))
    )
    several = len(brief.sessions) > 1
    for index, session in enumerate(brief.sessions):
        prefix = f"sessions.{index}." if several else ""
        part = frame.filter(pl.col("session") == index)
        every = part["_var"].to_list()

        def add(
            name: str,
            lower: float | None,
            upper: float | None,
            columns: list[int],
            coefficients: list[float] | None = None,
            prefix: str = prefix,
        ) -> None:
            rows.append(
                Row(
                    prefix + name,
                    -INF if lower is None else lower,
                    INF if upper is None else upper,
                    columns,
                    coefficients or [1.0] * len(columns),
                )
            )

        add("products", session.products.min, session.products.max, every)
        add("minutes", None, session.minutes, every, part["minutes"].cast(pl.Float64).to_list())
        for name, bounds in session.categories.items():
            members = part.filter(pl.col("category_key") == name)["_var"].to_list()
            add(f"categories.{name}", bounds.min, bounds.max, members)
        for name, bounds in session.roles.items():
            members = part.filter(pl.col("role") == name)["_var"].to_list()
            add(f"roles.{name}", bounds.min, bounds.max, members)
        cap = session.max_per_merchant
        for merchant, members in (
            part.group_by("merchant_id", maintain_order=True)
            .agg("_var")
            .filter(pl.col("_var").list.len() > cap)
            .iter_rows()
        ):
            add(f"max_per_merchant.{merchant}", None, cap, members)
        # A replan's products presented before its last deal (`settled`) count for the whole
        # night, but the sequencing rules count from that deal on (`planner.replan`).
        _sequence_rows(
            part.filter(~pl.col("settled")) if "settled" in part.columns else part, rules, add
        )
        if session.min_expected_gmv_fen is not None:
            add(
                "min_expected_gmv",
                float(session.min_expected_gmv_fen),
                None,
                every,
                part["expected_gmv_fen"].fill_null(0).cast(pl.Float64).to_list(),
            )
        for product, variable in part.filter(pl.col("pinned")).select("product_id", "_var").rows():
            add(f"pinned.{product}", 1, None, [variable])
    _shared_rows(frame, brief, rows)
    return rows


def _sequence_rows(part: pl.DataFrame, rules: SessionRules, add: Callable[..., None]) -> None:
    """Enough deals for the run sheet: one to open and one to close the session, and one
    after every `deal_every` other items: others ≤ deal_every × (deals + 1 − open − close)."""
    sequence = rules.sequence
    deals = part.filter(pl.col("_class") == "deal")["_var"].to_list()
    others = part.filter(pl.col("_class") != "deal")["_var"].to_list()
    if sequence.deal_slots_needed:
        add("sequence.deals", sequence.deal_slots_needed, None, deals)
    if sequence.deal_every:
        k = float(sequence.deal_every)
        add(
            "sequence.deal_every",
            None,
            k * (1 - sequence.deal_slots_needed),
            others + deals,
            [1.0] * len(others) + [-k] * len(deals),
        )


def _shared_rows(frame: pl.DataFrame, brief: Brief, rows: list[Row]) -> None:
    """Across sessions: at most once per product (unless allow_repeat), stock shared, and
    plan-level pinned products in one of the sessions."""
    if len(brief.sessions) < 2:
        return
    grouped = (
        frame.group_by("product_id", maintain_order=True)
        .agg("_var", "expected_units", pl.col("stock").first())
        .filter(pl.col("_var").list.len() > 1)
    )
    for product, variables, units, stock in grouped.iter_rows():
        if not brief.allow_repeat:
            rows.append(Row(f"once.{product}", -INF, 1, variables, [1.0] * len(variables)))
        elif sum(units) > stock:
            rows.append(Row(f"stock.{product}", -INF, stock, variables, [float(u) for u in units]))
    for product in brief.pinned:
        variables = frame.filter(pl.col("product_id") == product)["_var"].to_list()
        rows.append(Row(f"pinned.{product}", 1, INF, variables, [1.0] * len(variables)))


def solve(
    candidates: pl.DataFrame,
    brief: Brief,
    rules: SessionRules,
    *,
    time_limit: float,
    everything: pl.DataFrame | None = None,
) -> tuple[Solution | None, list[Row], list[tuple[float, float]] | None]:
    """Maximise the sum of `value` over the candidates under the brief's constraints.

    Returns the solution (None when no plan meets the brief), the rows, and when none does,
    how far each row would have to give (`bends`: below its min, above its max).

    The solver starts from the greedy plan over `candidates`. When the time limit stops it
    before it is proven optimal, the plan returned is the best of the solver's, that greedy
    plan and, given `everything` (the candidates before pruning, with the same columns), the
    greedy plan over them: never worse than a greedy plan that keeps the brief."""
    import highspy
    import numpy as np

    clock = time.perf_counter()
    rows = build_rows(candidates, brief, rules)
    count = candidates.height
    if count == 0:  # nothing eligible: the empty plan, if the brief allows it
        bends = [(max(r.lower, 0.0), max(-r.upper, 0.0)) for r in rows]
        if any(below or above for below, above in bends):
            return None, rows, bends
        return (
            Solution("optimal", candidates, 0, 0, 0.0, 0, time.perf_counter() - clock),
            rows,
            None,
        )
    highs = _highs(time_limit)
    _add_binaries(highs, count, candidates["value"].cast(pl.Float64).to_numpy())
    highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
    _add_rows(highs, rows)
    start = greedy_plan(candidates, brief, rules)
    if start is not None:
        _warm_start(highs, start)
    _run_interruptibly(highs)
    status = highs.getModelStatus()
    info = highs.getInfo()
    kinds = highspy.HighsModelStatus
    if status == kinds.kInfeasible:
        return None, rows, _bends(count, rows, time_limit)
    has_solution = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    optimal = status == kinds.kOptimal and has_solution
    if not optimal and status != kinds.kTimeLimit:
        raise HaowuError(
            _("the solver stopped: {modelStatusToString}").format(
                modelStatusToString=highs.modelStatusToString(status)
            )
        )
    chosen = None
    if has_solution:
        values = np.asarray(highs.getSolution().col_value)
        chosen = candidates.filter(pl.Series(values > 0.5))
    source = "solver"
    if not optimal:  # stopped: no worse than the greedy plans (HiGHS keeps its start, mostly)
        greedy_plans = [] if start is None else [candidates[start]]
        if everything is not None and everything.height > count:
            wider = greedy_plan(everything, brief, rules)
            greedy_plans += [] if wider is None else [everything[wider]]
        for greedy in greedy_plans:
            if chosen is None or int(greedy["value"].sum()) >= int(chosen["value"].sum()):
                chosen, source = greedy, "greedy"
    if chosen is None:
        raise PlanNotFound(
            _("no plan found within the time limit of {time_limit:g} s").format(
                time_limit=time_limit
            ),
            hint=_("allow more time with --time-limit SECONDS"),
        )
    objective = int(chosen["value"].sum())
    bound = objective if optimal else _upper_bound(info.mip_dual_bound, candidates, brief)
    bound = max(bound, objective)  # a bound over the pool is one over everything (`prune`)
    gap = 0.0 if optimal else max(0.0, (bound - objective) / max(bound, 1))
    return (
        Solution(
            status="optimal" if optimal else "feasible",
            chosen=chosen,
            objective_fen=objective,
            bound_fen=bound,
            gap=gap,
            variables=count,
            seconds=time.perf_counter() - clock,
            source=source,
        ),
        rows,
        None,
    )


def _warm_start(highs: highspy.Highs, chosen: list[int]) -> None:
    """Give HiGHS the greedy plan as its first solution (1 for each chosen variable)."""
    import numpy as np

    highs.setSolution(
        len(chosen), np.asarray(chosen, dtype=np.int32), np.ones(len(chosen), dtype=np.float64)
    )


def _upper_bound(dual_bound: float, candidates: pl.DataFrame, brief: Brief) -> int:
    """No plan is worth more than this: the solver's bound when it has one, else each
    session's products.max best values (ignoring every other constraint)."""
    import math

    if math.isfinite(dual_bound):
        return int(math.floor(dual_bound + 1e-6))
    total = 0
    for index, session in enumerate(brief.sessions):
        values = candidates.filter(pl.col("session") == index)["value"].sort(descending=True)
        most = session.products.max if session.products.max is not None else values.len()
        total += int(values.head(most).clip(lower_bound=0).sum())
    return total


def _highs(time_limit: float) -> highspy.Highs:
    import highspy

    with _c_stdout_silenced():  # the banner HiGHS prints from C before any option is read
        highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 0.999)  # the objective is whole fen
    highs.setOptionValue("random_seed", 0)
    # The root reduced-cost heuristic took two thirds of the solve of four sessions over
    # 100,000 products (0.6 of 0.9 s of CPU) and found nothing the greedy start had not;
    # without it every benchmark plan is the same, proven optimal (README, Benchmarks).
    highs.setOptionValue("mip_heuristic_run_root_reduced_cost", False)
    return highs


@contextmanager
def _c_stdout_silenced() -> Iterator[None]:
    """Send what C code writes to the process's stdout (file descriptor 1) to the null device
    while the block runs. `highspy.Highs()` prints a banner there before `output_flag` can be
    turned off, and Python-level redirection (`sys.stdout`) does not see C's writes; stdout
    carries haowu's data only. Python's and C's buffers are flushed on the way in (so nothing
    of ours is lost) and on the way out (so nothing of theirs leaks later); fd 1 is restored
    whatever happens."""
    sys.stdout.flush()
    _flush_c_stdio()
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all: nothing to protect
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
        finally:
            os.close(null)
        yield
    finally:
        _flush_c_stdio()
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdio() -> None:
    """fflush(NULL): every C stdio stream of the process (POSIX; elsewhere nothing to do)."""
    if os.name != "posix":
        return
    import ctypes

    ctypes.CDLL(None).fflush(None)


def _add_binaries(highs: highspy.Highs, count: int, costs: np.ndarray) -> None:
    import highspy
    import numpy as np

    every = np.arange(count, dtype=np.int32)
    highs.addVars(count, np.zeros(count), np.ones(count))
    highs.changeColsIntegrality(
        count, every, np.full(count, highspy.HighsVarType.kInteger, dtype=np.uint8)
    )
    highs.changeColsCost(count, every, costs)


def _bends(count: int, rows: list[Row], time_limit: float) -> list[tuple[float, float]] | None:
    """The least bending of the constraints that lets some plan exist: the same model, each
    row with two slacks (below its min, above its max), minimising their weighted sum. The
    brief's own keys weigh less than session.yaml's sequencing rules, so the bends name what
    a team leader can change first; a minute counts a fifth of a product."""
    import highspy
    import numpy as np

    highs = _highs(time_limit)
    _add_binaries(highs, count, np.zeros(count))
    weights = []
    for row in rows:
        weight = 0.2 if row.name.endswith("minutes") else 1.0
        weight = 2.0 if ".sequence." in f".{row.name}" else weight
        weight = 0.01 if row.name.startswith("stock.") else weight
        weights += [weight, weight]
    slack_count = 2 * len(rows)
    highs.addVars(slack_count, np.zeros(slack_count), np.full(slack_count, highspy.kHighsInf))
    highs.changeColsCost(
        slack_count, np.arange(count, count + slack_count, dtype=np.int32), np.array(weights)
    )
    elastic = [
        Row(
            row.name,
            row.lower,
            row.upper,
            [*row.columns, count + 2 * i, count + 2 * i + 1],
            [*row.coefficients, 1.0, -1.0],
        )
        for i, row in enumerate(rows)
    ]
    _add_rows(highs, elastic)
    _run_interruptibly(highs)
    if highs.getInfo().primal_solution_status != highspy.SolutionStatus.kSolutionStatusFeasible:
        return None
    values = np.asarray(highs.getSolution().col_value)[count:]
    return [(float(values[2 * i]), float(values[2 * i + 1])) for i in range(len(rows))]


def _run_interruptibly(highs: highspy.Highs) -> None:
    """Solve, and stop at once on Ctrl-C. While HiGHS runs, Python only sees a Ctrl-C when
    HiGHS calls back into it; so a Ctrl-C sets a flag, and HiGHS' interrupt callback asks it
    to stop. The KeyboardInterrupt is raised when it has."""
    import signal
    import threading

    import highspy

    interrupted = False

    def on_ctrl_c(_signum: int, _frame: object) -> None:
        nonlocal interrupted
        interrupted = True

    def interrupt(
        _kind: object, _message: object, _data_out: object, data_in: Any, _user_data: object
    ) -> None:
        if interrupted:
            data_in.user_interrupt = True

    if threading.current_thread() is not threading.main_thread():
        highs.run()  # signals reach the main thread only
        return
    highs.setCallback(interrupt, None)
    highs.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        highs.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        raise KeyboardInterrupt


def _add_rows(highs: highspy.Highs, rows: list[Row]) -> None:
    import numpy as np

    starts: list[int] = []
    indices: list[int] = []
    values: list[float] = []
    for row in rows:
        starts.append(len(indices))
        indices += row.columns
        values += row.coefficients
    highs.addRows(
        len(rows),
        np.array([r.lower for r in rows], dtype=np.float64),
        np.array([r.upper for r in rows], dtype=np.float64),
        len(indices),
        np.array(starts, dtype=np.int32),
        np.array(indices, dtype=np.int32),
        np.array(values, dtype=np.float64),
    )
