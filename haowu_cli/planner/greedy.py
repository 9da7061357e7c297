"""A greedy plan: best value first, every constraint of the brief kept.

It is the solver's starting solution (so a plan stopped by the time limit is never worse
than it) and the benchmark's yardstick. It never returns a plan the MILP could not choose:
every count, minute, merchant, category and role bound, the sequencing rules, pinned
products, at most once per product (unless allow_repeat) and shared stock hold, and a final
check refuses anything else.

The order of work: pinned products; plan-level pinned products (in the session where each is
worth most and fits); each session's minimums (the deals the run sheet opens and closes with,
then each category and role minimum) with the best products that fit; then every remaining
candidate of every session, best value first, while it fits. A product that fits but would
break the deal spacing (at most `deal_every` other items per deal) brings the best deal that
fits in with it. Neither the greedy nor the MILP orders the run sheet: that comes after.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl

from haowu_cli.planner.brief import Brief, SessionBrief
from haowu_cli.planner.rules import SessionRules

MODEL_COLUMNS = (  # the candidate columns the model and the greedy read
    "session",
    "product_id",
    "merchant_id",
    "category_key",
    "role",
    "minutes",
    "value",
    "pinned",
    "expected_units",
    "stock",
    "expected_gmv_fen",
)


@dataclass
class _Rows:
    """The candidates' columns as Python lists (row i of each is candidate row i)."""

    session: list[int]
    product: list[str]
    merchant: list[str]
    category: list[str | None]
    role: list[str]
    minutes: list[int]
    value: list[int]
    pinned: list[bool]
    units: list[int]
    stock: list[int]
    gmv: list[int]
    deal: list[bool]


def with_category_key(candidates: pl.DataFrame) -> pl.DataFrame:
    """Candidates with `category_key`, the brief's bounded category each counts towards
    (`candidates.category_key_column`); a frame built without one counts by its category_l1."""
    if "category_key" in candidates.columns:
        return candidates
    return candidates.with_columns(pl.col("category_l1").alias("category_key"))


def greedy_plan(candidates: pl.DataFrame, brief: Brief, rules: SessionRules) -> list[int] | None:
    """The greedy plan as the candidate rows it chooses (row numbers of `candidates`), or
    None when it cannot meet the brief. `candidates` are eligible rows with the model's
    columns (`session`, `product_id`, `merchant_id`, `category_key`, `role`, `minutes`,
    `value`, `pinned`, `expected_units`, `stock`)."""
    return _Greedy(candidates, brief, rules).run()


def greedy_value(candidates: pl.DataFrame, brief: Brief, rules: SessionRules) -> int | None:
    """The greedy plan's objective in fen, or None when it cannot meet the brief."""
    chosen = greedy_plan(candidates, brief, rules)
    if chosen is None:
        return None
    return int(candidates["value"].gather(chosen).sum()) if chosen else 0


class _Greedy:
    def __init__(self, candidates: pl.DataFrame, brief: Brief, rules: SessionRules):
        self.brief, self.sequence = brief, rules.sequence
        if "expected_gmv_fen" not in candidates.columns:  # a frame built without sales
            candidates = candidates.with_columns(
                pl.lit(0, dtype=pl.Int64).alias("expected_gmv_fen")
            )
        frame = with_category_key(candidates).select(MODEL_COLUMNS).with_row_index("_row")
        deal_roles = list(rules.sequence.deal_roles)
        self.rows = _Rows(
            session=frame["session"].to_list(),
            product=frame["product_id"].to_list(),
            merchant=frame["merchant_id"].to_list(),
            category=frame["category_key"].to_list(),
            role=frame["role"].to_list(),
            minutes=frame["minutes"].to_list(),
            value=frame["value"].to_list(),
            pinned=frame["pinned"].to_list(),
            units=frame["expected_units"].to_list(),
            stock=frame["stock"].to_list(),
            gmv=frame["expected_gmv_fen"].to_list(),
            deal=frame["role"].is_in(deal_roles).to_list(),
        )
        # A replan's products presented before its last deal: the sequencing rules count
        # from that deal on.
        self.settled = (
            candidates["settled"].to_list()
            if "settled" in candidates.columns
            else [False] * frame.height
        )
        # Best value first; then the shorter slot, the product ID and the session, so that
        # equal inputs give the same plan.
        self.order = (
            frame.sort(
                ["value", "minutes", "product_id", "session"],
                descending=[True, False, False, False],
            )
            .get_column("_row")
            .to_list()
        )
        self.shortest: dict[int, int] = dict(  # each session's shortest slot
            frame.group_by("session").agg(pl.col("minutes").min()).iter_rows()
        )
        # Shared stock binds only a product whose rows could sell more than its stock.
        self.tight = set()
        if brief.allow_repeat and len(brief.sessions) > 1:
            self.tight = set(
                frame.group_by("product_id")
                .agg(pl.len(), pl.col("expected_units").sum(), pl.col("stock").first())
                .filter((pl.col("len") > 1) & (pl.col("expected_units") > pl.col("stock")))
                .get_column("product_id")
                .to_list()
            )
        self.taken: set[int] = set()
        self.in_session: set[tuple[int, str]] = set()
        self.used: Counter = Counter()  # product -> sessions it is in
        self.sold: Counter = Counter()  # product -> expected units over its sessions
        self.count: Counter = Counter()  # (session, key): products, minutes, deals, others,
        # merchant:M, category:C, role:R

    def session(self, r: int) -> SessionBrief:
        return self.brief.sessions[self.rows.session[r]]

    def fits(self, r: int) -> bool:
        """Every constraint but the deal spacing and the minimums holds with row r added."""
        rows, s = self.rows, self.rows.session[r]
        session, product, count = self.brief.sessions[s], rows.product[r], self.count
        if r in self.taken or (s, product) in self.in_session:
            return False
        if self.used[product] and not self.brief.allow_repeat:
            return False
        if product in self.tight and self.sold[product] + rows.units[r] > rows.stock[r]:
            return False
        most = session.products.max
        # (a row without a category gets None: no bounds)
        category = session.categories.get(rows.category[r])  # type: ignore[arg-type]
        role = session.roles.get(rows.role[r])
        return (
            (most is None or count[s, "products"] < most)
            and count[s, "minutes"] + rows.minutes[r] <= session.minutes
            and count[s, "merchant:" + rows.merchant[r]] < session.max_per_merchant
            and (
                category is None
                or category.max is None
                or count[s, f"category:{rows.category[r]}"] < category.max
            )
            and (role is None or role.max is None or count[s, "role:" + rows.role[r]] < role.max)
        )

    def spaced(self, r: int) -> bool:
        """The deal spacing holds with row r added: others ≤ deal_every × (deals + 1 − needed)."""
        every = self.sequence.deal_every
        if self.rows.deal[r] or not every:
            return True
        s = self.rows.session[r]
        needed = self.sequence.deal_slots_needed
        return self.count[s, "others"] + 1 <= every * (self.count[s, "deals"] + 1 - needed)

    def keys(self, r: int) -> list:
        rows, s = self.rows, self.rows.session[r]
        return [
            (s, "products"),
            (s, "merchant:" + rows.merchant[r]),
            (s, f"category:{rows.category[r]}"),
            (s, "role:" + rows.role[r]),
            (s, "settled" if self.settled[r] else ("deals" if rows.deal[r] else "others")),
        ]

    def take(self, r: int, sign: int = 1) -> None:
        rows = self.rows
        product = rows.product[r]
        if sign > 0:
            self.taken.add(r)
            self.in_session.add((rows.session[r], product))
        else:
            self.taken.discard(r)
            self.in_session.discard((rows.session[r], product))
        for key in self.keys(r):
            self.count[key] += sign
        self.count[rows.session[r], "minutes"] += sign * rows.minutes[r]
        self.count[rows.session[r], "gmv"] += sign * (rows.gmv[r] or 0)
        self.used[product] += sign
        self.sold[product] += sign * rows.units[r]

    def add(self, r: int, deals: _Cursor) -> bool:
        """Add row r (it fits), with the best deal that fits if the spacing needs one."""
        if self.spaced(r):
            self.take(r)
            return True
        deal = deals.next(self.fits)
        if deal is None:
            return False
        self.take(deal)
        if self.fits(r) and self.spaced(r):
            self.take(r)
            return True
        self.take(deal, -1)
        return False

    def run(self) -> list[int] | None:
        rows, brief = self.rows, self.brief
        by_session: dict[int, list[int]] = defaultdict(list)
        for r in self.order:
            by_session[rows.session[r]].append(r)
        deals = {
            s: _Cursor([r for r in members if rows.deal[r]]) for s, members in by_session.items()
        }
        empty = _Cursor([])
        for r in self.order:  # pinned in a session
            if rows.pinned[r] and r not in self.taken:
                if not self.fits(r):
                    return None
                self.take(r)
        for product in brief.pinned:  # pinned in one of the sessions
            if self.used[product]:
                continue
            r = next((r for r in self.order if rows.product[r] == product and self.fits(r)), None)
            if r is None:
                return None
            self.take(r)
        for s, session in enumerate(brief.sessions):
            for least, members in self.minimums(s, session, by_session.get(s, [])):
                cursor = _Cursor(members)
                while least():
                    r = cursor.next(self.fits)
                    if r is None:
                        return None
                    if not self.add(r, deals.get(s, empty)):
                        cursor.pass_over()
        # The rest, best first, while a session has room: a full session (products.max, or
        # no minutes left for its shortest slot) takes no more, so its rows need no look.
        shortest = self.shortest
        open_sessions = {s for s in by_session if self.has_room(s, shortest[s])}
        for r in self.order:
            s = rows.session[r]
            if s not in open_sessions:
                if not open_sessions:
                    break
                continue
            if self.fits(r):
                self.add(r, deals.get(s, empty))  # adds to session s only
                if not self.has_room(s, shortest[s]):
                    open_sessions.discard(s)
        chosen = sorted(self.taken)
        return chosen if self.meets_brief() else None

    def has_room(self, s: int, shortest: int) -> bool:
        """Whether session s can take another product (of at least `shortest` minutes)."""
        session, count = self.brief.sessions[s], self.count
        most = session.products.max
        return (most is None or count[s, "products"] < most) and count[
            s, "minutes"
        ] + shortest <= session.minutes

    def minimums(
        self, s: int, session: SessionBrief, members: list[int]
    ) -> Iterator[tuple[Callable[..., bool], list[int]]]:
        """(still short?, the session's rows that count towards it) per minimum, deals first."""
        rows, count = self.rows, self.count
        needed = self.sequence.deal_slots_needed
        yield (lambda: count[s, "deals"] < needed), [r for r in members if rows.deal[r]]
        for name, bounds in session.categories.items():
            least = bounds.min or 0
            yield (
                (lambda name=name, least=least: count[s, f"category:{name}"] < least),
                [r for r in members if rows.category[r] == name],
            )
        for name, bounds in session.roles.items():
            least = bounds.min or 0
            yield (
                (lambda name=name, least=least: count[s, "role:" + name] < least),
                [r for r in members if rows.role[r] == name],
            )

    def meets_brief(self) -> bool:
        """Every constraint of the MILP holds for the rows taken."""
        count, sequence = self.count, self.sequence
        for s, session in enumerate(self.brief.sessions):
            products = count[s, "products"]
            if session.products.min is not None and products < session.products.min:
                return False
            if session.products.max is not None and products > session.products.max:
                return False
            for prefix, bounded in (("category:", session.categories), ("role:", session.roles)):
                for name, bounds in bounded.items():
                    n = count[s, prefix + name]
                    if n < (bounds.min or 0) or n > (bounds.max if bounds.max is not None else n):
                        return False
            if (
                session.min_expected_gmv_fen is not None
                and count[s, "gmv"] < session.min_expected_gmv_fen
            ):
                return False
            deals, others = count[s, "deals"], count[s, "others"]
            if deals < sequence.deal_slots_needed:
                return False
            if sequence.deal_every and others > sequence.deal_every * (
                deals + 1 - sequence.deal_slots_needed
            ):
                return False
        return all(self.used[p] for p in self.brief.pinned)


class _Cursor:
    """Walks rows best first to the first that fits. Adding rows only ever makes fewer rows
    fit, so a row that did not fit once never needs looking at again."""

    def __init__(self, members: list[int]):
        self.members, self.at = members, 0

    def next(self, fits: Callable[[int], bool]) -> int | None:
        while self.at < len(self.members):
            if fits(self.members[self.at]):
                return self.members[self.at]
            self.at += 1
        return None

    def pass_over(self) -> None:
        """Skip the row `next` returned (it fits but could not be added)."""
        self.at += 1
