"""Why a brief cannot be met, in words a team leader can act on, with the numbers behind it.

First the direct checks (a minimum above what the eligible products can give, a pinned
product that fails a filter, slots that cannot fit the session); when those all pass and
the solver still finds no plan, the constraints HiGHS' feasibility relaxation has to bend,
and by how much.
"""

from __future__ import annotations

import math

import polars as pl

from haowu_cli import formats
from haowu_cli.i18n import _
from haowu_cli.planner.brief import Brief, SessionBrief
from haowu_cli.planner.candidates import percent_text
from haowu_cli.planner.greedy import with_category_key
from haowu_cli.planner.model import Row, deal_class
from haowu_cli.planner.rules import RoleRule, SessionRules


def _n(count: int, noun: str) -> str:
    """ "1 product", "3 products"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def filters_text(session: SessionBrief) -> str:
    """The brief's filters, as a clause: "min_level L2, min_commission_rate 15% …"."""
    parts = [f"min_level {session.min_level}"]
    if session.min_commission_rate:
        parts.append(f"min_commission_rate {percent_text(session.min_commission_rate)}")
    if session.require_sample:
        parts.append("require_sample")
    if session.exclude_products or session.exclude_merchants:
        parts.append(_("the exclusions"))
    for key, listed in (
        ("merchants", session.merchants),
        ("brands", session.brands),
        ("categories", session.only_categories),
    ):
        if listed:
            parts.append(f"{key} {'/'.join(listed)}")
    parts.append(_("stock above zero"))
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def role_text(rule: RoleRule, anchor: dict) -> str:
    words = {
        "price_to_ticket": _("live price {op} {x:g} × the anchor's average ticket"),
        "live_price": _("live price {op} ¥{x:g}"),
        "commission_rate": _("commission rate {op} {x:.0%}"),
        "sales_strength": _("30-day sales ahead of {x:.0%} of the category"),
    }
    parts = []
    for name, (low, high) in rule.conditions.items():
        for op, x in ((">=", low), ("<=", high)):
            if x is not None:
                shown_op = "≥" if op == ">=" else "≤"
                if name == "sales_strength" and op == "<=":
                    parts.append(
                        _("30-day sales behind {value:.0%} of the category").format(value=1 - x)
                    )
                else:
                    parts.append(words[name].format(op=shown_op, x=x))
    ticket = anchor.get("avg_ticket_fen")
    if ticket and "price_to_ticket" in rule.conditions:
        parts.append(_("average ticket {money}").format(money=formats.money(ticket)))
    return "; ".join(parts) if parts else _("every other product")


def roles_text(rules: SessionRules, role: str, anchor: dict) -> str:
    """What makes a product this role, from every rule that gives it."""
    return " or ".join(role_text(r, anchor) for r in rules.roles if r.role == role)


def obvious_problems(
    candidates: pl.DataFrame, brief: Brief, rules: SessionRules, anchors: list[dict]
) -> list[str]:
    """Constraints that cannot hold, each checked on its own against the candidates."""
    problems: list[str] = []
    several = len(brief.sessions) > 1
    for index, session in enumerate(brief.sessions):
        part = with_category_key(candidates.filter(pl.col("session") == index))
        label = (
            _("session {number} ({anchor}): ").format(number=index + 1, anchor=session.anchor)
            if several
            else ""
        )
        for problem in _session_problems(part, session, rules, anchors[index]):
            problems.append(label + problem)
    for product in brief.pinned:
        rows = candidates.filter(pl.col("product_id") == product)
        if rows.is_empty():
            problems.append(
                _("pinned {product} is not a product in the database").format(product=product)
            )
        elif not rows["eligible"].any():
            problems.append(
                _("pinned {product} is not eligible: {value}").format(
                    product=product, value=rows["reason"][0]
                )
            )
    return problems


def _session_problems(
    part: pl.DataFrame, session: SessionBrief, rules: SessionRules, anchor: dict
) -> list[str]:
    problems = []
    eligible = part.filter(pl.col("eligible"))
    passing = _("pass {filters}").format(filters=filters_text(session))
    cap = session.max_per_merchant

    def most_from(frame: pl.DataFrame) -> int:
        """The most products a set can give under max_per_merchant."""
        counts = frame.group_by("merchant_id").len()["len"]
        return int(counts.clip(upper_bound=cap).sum()) if frame.height else 0

    for product in session.pinned:
        rows = part.filter(pl.col("product_id") == product)
        if rows.is_empty():
            problems.append(
                _("pinned {product} is not a product in the database").format(product=product)
            )
        elif not rows["eligible"][0]:
            problems.append(
                _("pinned {product} is not eligible: {value}").format(
                    product=product, value=rows["reason"][0]
                )
            )

    wanted = session.products.min or 0
    if wanted > eligible.height:
        problems.append(
            _("products.min = {wanted}, but only {n} {passing}").format(
                wanted=wanted, n=_n(eligible.height, "product"), passing=passing
            )
        )
    elif wanted > most_from(eligible):
        merchants = eligible["merchant_id"].n_unique()
        problems.append(
            _(
                "products.min = {wanted}, but the {n} with eligible products give at "
                "most {most_from} at max_per_merchant {cap}"
            ).format(
                wanted=wanted, n=_n(merchants, "merchant"), most_from=most_from(eligible), cap=cap
            )
        )
    for name, bounds in session.categories.items():
        members = eligible.filter(pl.col("category_key") == name)
        if bounds.min and bounds.min > members.height:
            known = "" if part["category_key"].eq(name).any() else " (no product has it)"
            problems.append(
                _(
                    "categories.{name}.min = {min}, but only {height} {name} "
                    "products{known} {passing}"
                ).format(
                    name=name, min=bounds.min, height=members.height, known=known, passing=passing
                )
            )
        elif bounds.min and bounds.min > most_from(members):
            merchants_text = _n(members["merchant_id"].n_unique(), "merchant")
            problems.append(
                _(
                    "categories.{name}.min = {min}, but the {name} products come from "
                    "{merchants}: at most {most_from} at max_per_merchant {cap}"
                ).format(
                    name=name,
                    min=bounds.min,
                    merchants=merchants_text,
                    most_from=most_from(members),
                    cap=cap,
                )
            )
    for name, bounds in session.roles.items():
        members = eligible.filter(pl.col("role") == name)
        if bounds.min and bounds.min > members.height:
            verb = "is" if members.height == 1 else "are"
            problems.append(
                _("roles.{name}.min = {min}, but only {n} {verb} {name} ({roles_text})").format(
                    name=name,
                    min=bounds.min,
                    n=_n(members.height, _("eligible product")),
                    verb=verb,
                    roles_text=roles_text(rules, name, anchor),
                )
            )
    limit = session.products.max
    for key, mins in (
        ("categories", {k: b.min for k, b in session.categories.items() if b.min}),
        ("roles", {k: b.min for k, b in session.roles.items() if b.min}),
    ):
        if limit is not None and sum(mins.values()) > limit:
            listed = " + ".join(f"{k} {v}" for k, v in mins.items())
            problems.append(
                _(
                    "the {key} minimums add up to {sum} ({listed}), above products.max = {limit}"
                ).format(key=key, sum=sum(mins.values()), listed=listed, limit=limit)
            )
    shortest = eligible["minutes"].sort().head(wanted).sum() if wanted else 0
    if wanted and wanted <= eligible.height and shortest > session.minutes:
        problems.append(
            _(
                "products.min = {wanted} needs at least {shortest} minutes of slots, "
                "but minutes = {minutes}"
            ).format(wanted=wanted, shortest=shortest, minutes=session.minutes)
        )
    target = session.min_expected_gmv_fen
    if target is not None:
        # The most any plan can sell: the best expected GMV per product, as many as fit.
        most = eligible["expected_gmv_fen"].fill_null(0).sort(descending=True)
        if session.products.max is not None:
            most = most.head(session.products.max)
        if int(most.sum()) < target:
            problems.append(
                _(
                    "min_expected_gmv = ¥{target:,.2f}, but the {n} that {passing} are "
                    "expected to sell at most ¥{most:,.2f} together in this session"
                ).format(
                    target=target / 100,
                    n=_n(eligible.height, "product"),
                    passing=passing,
                    most=int(most.sum()) / 100,
                )
            )
    problems += _sequence_problems(eligible, session, rules, anchor)
    problems += _pinned_problems(part, session)
    return problems


def _sequence_problems(
    eligible: pl.DataFrame, session: SessionBrief, rules: SessionRules, anchor: dict
) -> list[str]:
    sequence = rules.sequence
    deals = eligible.filter(deal_class(rules) == "deal")
    needed = sequence.deal_slots_needed
    if needed and deals.height < needed:
        roles = "/".join(sequence.deal_roles)
        problem = _(
            "the run sheet opens and closes with a deal ({roles}; sequence in "
            "session.yaml), but only {n} {value}"
        ).format(
            roles=roles,
            n=_n(deals.height, _("eligible product")),
            value=_("is a deal") if deals.height == 1 else _("are deals"),
        )
        if not anchor.get("avg_ticket_fen"):
            problem += _(
                ": anchor {anchor_id} has no average ticket (客单价), which deals are "
                "priced against; add it to the anchors sheet and import it again"
            ).format(anchor_id=anchor["anchor_id"])
        problem += _(
            " (a 专场 without deals: sequence: {open_with_deal: false, close_with_deal: "
            "false} in the brief)"
        )
        return [problem]
    wanted = session.products.min or 0
    if sequence.deal_every and wanted:
        # With d deals, at most deal_every × (d + 1 − open − close) other items fit.
        runs = deals.height + 1 - needed
        most = min(wanted, deals.height + sequence.deal_every * runs)
        if most < wanted:
            return [
                _(
                    "products.min = {wanted}, but with {height} eligible deals and a deal "
                    "every {deal_every} items (sequence.deal_every in session.yaml) at "
                    "most {value} products can be ordered"
                ).format(
                    wanted=wanted,
                    height=deals.height,
                    deal_every=sequence.deal_every,
                    value=deals.height + sequence.deal_every * runs,
                )
            ]
    return []


def _pinned_problems(part: pl.DataFrame, session: SessionBrief) -> list[str]:
    pinned = part.filter(pl.col("product_id").is_in(list(session.pinned)) & pl.col("eligible"))
    problems = []
    if session.products.max is not None and pinned.height > session.products.max:
        problems.append(
            _("{height} pinned products, above products.max = {max}").format(
                height=pinned.height, max=session.products.max
            )
        )
    if pinned["minutes"].sum() > session.minutes:
        problems.append(
            _("the pinned products' slots take {sum} minutes, above minutes = {minutes}").format(
                sum=pinned["minutes"].sum(), minutes=session.minutes
            )
        )
    for merchant, count in pinned.group_by("merchant_id").len().sort("merchant_id").iter_rows():
        if count > session.max_per_merchant:
            problems.append(
                _(
                    "{count} pinned products of merchant {merchant}, above "
                    "max_per_merchant = {max_per_merchant}"
                ).format(count=count, merchant=merchant, max_per_merchant=session.max_per_merchant)
            )
    for key, column, limits in (
        ("categories", "category_key", session.categories),
        ("roles", "role", session.roles),
    ):
        for name, bounds in limits.items():
            count = pinned.filter(pl.col(column) == name).height
            if bounds.max is not None and count > bounds.max:
                problems.append(
                    _("{count} pinned {name} products, above {key}.{name}.max = {max}").format(
                        count=count, name=name, key=key, max=bounds.max
                    )
                )
    return problems


def relaxation_problems(rows: list[Row], bends: list[tuple[float, float]] | None) -> list[str]:
    """The constraints the least bending has to bend, and how, in the brief's words."""
    bent = [(row, below, above) for row, (below, above) in zip(rows, bends or [], strict=False)]
    bent = [(row, below, above) for row, below, above in bent if below > 1e-6 or above > 1e-6]
    if not bent:
        return [_("the constraints cannot all hold together (the solver found no plan)")]
    return [
        _(
            "these constraints cannot all hold together; the least change that makes a plan "
            "possible:"
        )
    ] + [f"  {_bend_text(row, below, above)}" for row, below, above in bent]


def _bend_text(row: Row, below: float, above: float) -> str:
    label, key = "", row.name
    if key.startswith("sessions."):
        number, key = key.split(".", 2)[1:]
        label = _("session {number}: ").format(number=int(number) + 1)
    name = key.split(".", 1)[1] if "." in key else key
    if key == "sequence.deals":
        return _(
            "{label}the run sheet opens and closes with a deal (sequence in "
            "session.yaml): {lower:g} deals, but only {value:g} fit this brief"
        ).format(label=label, lower=row.lower, value=row.lower - below)
    if key == "sequence.deal_every":
        every = -min(row.coefficients)
        return _(
            "{label}a deal after every {every:g} other items (sequence.deal_every "
            "in session.yaml) would need {ceil} more deals"
        ).format(label=label, every=every, ceil=math.ceil(above / every))
    if key == "min_expected_gmv":
        return _(
            "{label}min_expected_gmv = ¥{lower:,.2f} would have to come down to ¥{value:,.2f}"
        ).format(label=label, lower=row.lower / 100, value=max(row.lower - below, 0) / 100)
    if key.startswith("pinned."):
        return _("{label}pinned {name} would have to be left out").format(label=label, name=name)
    if key.startswith("once."):
        return _("{name} would have to be in more than one session (allow_repeat is false)").format(
            name=name
        )
    if key.startswith("stock."):
        return _("{name} would have to sell {above:g} more than its stock").format(
            name=name, above=above
        )
    if key.startswith("max_per_merchant."):
        return _(
            "{label}max_per_merchant = {upper:g} would have to be {value:g} for merchant {name}"
        ).format(label=label, upper=row.upper, value=row.upper + above, name=name)
    if key == "minutes":
        return _("{label}minutes = {upper:g} would have to be {value:g}").format(
            label=label, upper=row.upper, value=row.upper + above
        )
    if below > 1e-6:
        return _("{label}{key}.min = {lower:g} would have to come down to {value:g}").format(
            label=label, key=key, lower=row.lower, value=row.lower - below
        )
    return _("{label}{key}.max = {upper:g} would have to go up to {value:g}").format(
        label=label, key=key, upper=row.upper, value=row.upper + above
    )
