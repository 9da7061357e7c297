"""`configs/session.yaml`: brief defaults, role and minute rules, the expected-sales model and
the run sheet's sequencing rules, checked with every problem reported as file:line key."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from haowu_cli.commission import load_rules as load_commission_rules
from haowu_cli.config import ConfigDoc, load_config_file, number, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError
from haowu_cli.i18n import _

SESSION_FILE = "session.yaml"
CONDITIONS = ("price_to_ticket", "live_price", "commission_rate", "sales_strength")


@dataclass(frozen=True)
class RoleRule:
    """A product meeting every condition (name -> (low, high), either may be None) gets this
    role and slot minutes."""

    role: str
    conditions: dict[str, tuple[float | None, float | None]]
    minutes: int


@dataclass(frozen=True)
class SalesModel:
    default_gmv_per_hour_fen: int
    strength_low: float
    strength_high: float
    affinity_match: float
    affinity_other: float
    price_fit: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class SequenceRules:
    deal_roles: tuple[str, ...]
    open_with_deal: bool
    close_with_deal: bool
    deal_every: int
    peak_roles: tuple[str, ...]
    peak_from: int
    peak_to: int

    @property
    def deal_slots_needed(self) -> int:
        """Deals the opening and the close need."""
        return int(self.open_with_deal) + int(self.close_with_deal)


@dataclass(frozen=True)
class RunSheetSettings:
    """How the run sheet workbook reads the product sheets: the headers of a sheet column
    holding the host's selling points (卖点), the first one a product has wins."""

    selling_points: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveSettings:
    """How `haowu live` reads a session in progress (the `live` section)."""

    stock_warning: float = 0.8  # warn when this share of a product's stock is sold
    pace_window_minutes: int = 5  # orders per minute over the last this many minutes


@dataclass(frozen=True)
class BenefitPreference:
    """`prefer_benefit`: products whose level grants this 权益 (grading.yaml `benefits`) have
    their objective value counted `weight_ppm` millionths higher when the plan is chosen."""

    benefit: str
    weight_ppm: int
    levels: tuple[str, ...]  # the levels that grant it


@dataclass(frozen=True)
class ReplanSettings:
    """How `haowu live replan` updates the expected sales with what the room has done (the
    `replan` section). A group's pace (a category_l1, a role) is
    (its GMV so far + prior × the room's pace) / (its expected GMV by now + prior), the room's
    (GMV so far + prior) / (expected by now + prior): with little observed the prior (1, the
    plan's model) holds; with much observed, what the room did. A candidate's expected GMV is
    multiplied by category_weight × its category's pace + (1 − category_weight) × its role's,
    kept within pace_min … pace_max."""

    prior_gmv_fen: int = 500_000  # ¥5,000 of expected GMV weigh as much as the prior
    category_weight: float = 0.5
    pace_min: float = 0.2
    pace_max: float = 5.0


@dataclass(frozen=True)
class SessionRules:
    doc: ConfigDoc  # for the defaults' line numbers
    defaults: dict
    roles: tuple[RoleRule, ...]
    sales: SalesModel
    sequence: SequenceRules
    fingerprint: str
    service_fee_cut_ppm: int = 0  # the platform's cut of the service fee (commission.yaml)
    run_sheet: RunSheetSettings = RunSheetSettings()
    live: LiveSettings = LiveSettings()
    prefer: BenefitPreference | None = None  # the planner's preference for a 权益 (off: None)
    replan: ReplanSettings = ReplanSettings()

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.role for r in self.roles))


def load_rules(config_dir: Path) -> SessionRules:
    doc = load_config_file(config_dir, SESSION_FILE)
    problems: list[str] = []
    data = top_level(
        doc,
        {
            "defaults",
            "roles",
            "expected_sales",
            "sequence",
            "run_sheet",
            "live",
            "prefer_benefit",
            "replan",
        },
        problems,
    )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        problems.append(
            _("{where}: expected a mapping of brief keys").format(where=doc.where("defaults"))
        )
        defaults = {}
    roles = _roles(doc, data.get("roles"), problems)
    sales = _sales(doc, data.get("expected_sales"), problems)
    sequence = _sequence(doc, data.get("sequence"), {r.role for r in roles}, problems)
    run_sheet = _run_sheet(doc, data.get("run_sheet"), problems)
    live = _live(doc, data.get("live"), problems)
    prefer = _prefer(doc, data.get("prefer_benefit"), problems)
    replan = _replan(doc, data.get("replan"), problems)
    if problems:
        raise ConfigError(problems)
    if prefer is not None:
        prefer = _granting_levels(prefer, config_dir, doc)
    # The team leader's income is net of the platform's cut, set once for the ledger too.
    cut_ppm = load_commission_rules(config_dir).service_fee_cut_ppm
    # The workbook's and the live view's settings change no plan: they are not part of the
    # fingerprint.
    planning = {
        key: value for key, value in data.items() if key not in {"run_sheet", "live", "replan"}
    }
    facts: list = [planning, cut_ppm]
    if prefer is not None:
        facts.append(list(prefer.levels))  # grading.yaml's 权益 decide which products gain
    canonical = json.dumps(facts, sort_keys=True, ensure_ascii=False, default=str)
    fingerprint = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    return SessionRules(
        doc,
        defaults,
        roles,
        sales,
        sequence,
        fingerprint,
        cut_ppm,
        run_sheet,
        live,
        prefer,
        replan,
    )


def _prefer(doc: ConfigDoc, section: object, problems: list) -> BenefitPreference | None:
    """`prefer_benefit: {benefit: 达人优选, weight: 0.05}`; None when absent or weight 0."""
    if section is None:
        return None
    path = ("prefer_benefit",)
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected {{benefit: …, weight: …}}").format(where=doc.where(*path))
        )
        return None
    unknown_keys(doc, section, path, {"benefit", "weight"}, problems)
    benefit = section.get("benefit", "达人优选")
    if not isinstance(benefit, str) or not benefit.strip():
        problems.append(
            _("{where}: expected the name of a 权益 such as 达人优选, got {value!r}").format(
                where=doc.where(*path, "benefit"), value=benefit
            )
        )
        return None
    weight = section.get("weight", 0)
    number(doc, (*path, "weight"), weight, problems, low=0, high=1, what=_("a share from 0 to 1"))
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1:
        return None
    ppm = int((Decimal(str(weight)) * 1_000_000).to_integral_value(rounding=ROUND_HALF_UP))
    return BenefitPreference(benefit.strip(), ppm, ()) if ppm else None


def _granting_levels(
    prefer: BenefitPreference, config_dir: Path, doc: ConfigDoc
) -> BenefitPreference:
    """The preference with the levels whose 权益 include its benefit (grading.yaml); a 权益
    no level grants is refused (the weight would do nothing)."""
    from haowu_cli.grading import LEVEL_RANK, load_model

    benefits = load_model(config_dir).benefits
    levels = tuple(level for level in LEVEL_RANK if prefer.benefit in benefits.get(level, ()))
    if not levels:
        raise ConfigError(
            [
                _("{where}: no level grants the 权益 {benefit} (grading.yaml benefits)").format(
                    where=doc.where("prefer_benefit", "benefit"), benefit=prefer.benefit
                )
            ]
        )
    return BenefitPreference(prefer.benefit, prefer.weight_ppm, levels)


def _replan(doc: ConfigDoc, section: object, problems: list) -> ReplanSettings:
    defaults = ReplanSettings()
    if section is None:
        return defaults
    path = ("replan",)
    if not isinstance(section, dict):
        problems.append(_("{where}: expected a mapping").format(where=doc.where(*path)))
        return defaults
    unknown_keys(doc, section, path, {"prior_gmv", "category_weight", "pace"}, problems)
    prior = number(
        doc,
        (*path, "prior_gmv"),
        section.get("prior_gmv", defaults.prior_gmv_fen / 100),
        problems,
        low=1,
        high=1e9,
        what=_("yuan from 1 up"),
    )
    weight = number(
        doc,
        (*path, "category_weight"),
        section.get("category_weight", defaults.category_weight),
        problems,
        low=0,
        high=1,
        what=_("a share between 0 and 1"),
    )
    limits = section.get("pace", {"min": defaults.pace_min, "max": defaults.pace_max})
    if not isinstance(limits, dict):
        problems.append(
            _("{where}: expected {{min: …, max: …}}").format(where=doc.where(*path, "pace"))
        )
        limits = {}
    unknown_keys(doc, limits, (*path, "pace"), {"min", "max"}, problems)
    low = number(
        doc,
        (*path, "pace", "min"),
        limits.get("min", defaults.pace_min),
        problems,
        low=0,
        high=1,
        what=_("a multiplier from 0 to 1"),
    )
    high = number(
        doc,
        (*path, "pace", "max"),
        limits.get("max", defaults.pace_max),
        problems,
        low=1,
        high=100,
        what=_("a multiplier from 1 to 100"),
    )
    return ReplanSettings(round(prior * 100), weight, low, high)


def _live(doc: ConfigDoc, section: object, problems: list) -> LiveSettings:
    if section is None:
        return LiveSettings()
    path = ("live",)
    if not isinstance(section, dict):
        problems.append(_("{where}: expected a mapping").format(where=doc.where(*path)))
        return LiveSettings()
    unknown_keys(doc, section, path, {"stock_warning", "pace_window_minutes"}, problems)
    defaults = LiveSettings()
    warning = section.get("stock_warning", defaults.stock_warning)
    window = section.get("pace_window_minutes", defaults.pace_window_minutes)
    return LiveSettings(
        stock_warning=number(
            doc,
            (*path, "stock_warning"),
            warning,
            problems,
            low=0.01,
            high=1,
            what=_("a share between 0.01 and 1"),
        ),
        pace_window_minutes=whole(
            doc,
            (*path, "pace_window_minutes"),
            window,
            problems,
            low=1,
            high=240,
            what=_("whole minutes from 1 to 240"),
        ),
    )


def _run_sheet(doc: ConfigDoc, section: object, problems: list) -> RunSheetSettings:
    if section is None:
        return RunSheetSettings()
    path = ("run_sheet",)
    if not isinstance(section, dict):
        problems.append(f"{doc.where(*path)}: expected the run sheet settings")
        return RunSheetSettings()
    unknown_keys(doc, section, path, {"selling_points"}, problems)
    value = section.get("selling_points") or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(
            f"{doc.where(*path, 'selling_points')}: expected a column header, or a list of them"
        )
        return RunSheetSettings()
    return RunSheetSettings(selling_points=tuple(v.strip() for v in value))


def _roles(doc: ConfigDoc, section: object, problems: list) -> tuple[RoleRule, ...]:
    if not isinstance(section, list) or not section:
        problems.append(
            _("{where}: expected a list of rules (role, when, minutes)").format(
                where=doc.where("roles")
            )
        )
        return ()
    rules = []
    for index, spec in enumerate(section):
        path = ("roles", str(index))
        if not isinstance(spec, dict) or not isinstance(spec.get("role"), str):
            problems.append(
                _("{where}: expected role, when and minutes").format(where=doc.where(*path))
            )
            continue
        unknown_keys(doc, spec, path, {"role", "when", "minutes"}, problems)
        minutes = whole(
            doc,
            (*path, "minutes"),
            spec.get("minutes"),
            problems,
            low=1,
            high=600,
            what=_("whole minutes from 1 to 600"),
        )
        when = spec.get("when") or {}
        if not isinstance(when, dict):
            problems.append(
                _("{where}: expected conditions by name").format(where=doc.where(*path, "when"))
            )
            when = {}
        conditions = {}
        for name, bounds in when.items():
            here = (*path, "when", str(name))
            if name not in CONDITIONS:
                problems.append(
                    _("{where}: unknown condition {name!r}; known: {join}").format(
                        where=doc.where(*here), name=name, join=", ".join(CONDITIONS)
                    )
                )
                continue
            if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
                problems.append(
                    _("{where}: expected {{min: …, max: …}}").format(where=doc.where(*here))
                )
                continue
            low, high = (
                None
                if bounds.get(end) is None
                else number(doc, (*here, end), bounds[end], problems)
                for end in ("min", "max")
            )
            if low is not None and high is not None and low > high:
                problems.append(
                    _("{where}: min {low:g} is above max {high:g}").format(
                        where=doc.where(*here), low=low, high=high
                    )
                )
            conditions[str(name)] = (low, high)
        rules.append(RoleRule(spec["role"], conditions, minutes))
    if rules and rules[-1].conditions:
        problems.append(
            _(
                "{where}: the last rule takes every product no rule above takes; give "
                "it no conditions (no `when`)"
            ).format(where=doc.where("roles", str(len(section) - 1)))
        )
    return tuple(rules)


def _sales(doc: ConfigDoc, section: object, problems: list) -> SalesModel:
    path = ("expected_sales",)
    if not isinstance(section, dict):
        problems.append(
            _("{where}: expected the expected-sales model").format(where=doc.where(*path))
        )
        section = {}
    known = {"default_gmv_per_hour", "strength", "affinity", "price_fit"}
    if "platform_cut" in section:
        problems.append(
            _(
                "{where}: this setting moved to commission.yaml "
                "(platform_cut.service_fee), where the ledger reads it too; remove it "
                "here"
            ).format(where=doc.where(*path, "platform_cut"))
        )
        section = {k: v for k, v in section.items() if k != "platform_cut"}
    unknown_keys(doc, section, path, known, problems)

    def pair(key: str, names: tuple[str, str]) -> tuple[float, float]:
        spec = section.get(key)
        if not isinstance(spec, dict) or set(spec) != set(names):
            problems.append(
                _("{where}: expected {{{value}: …, {value2}: …}}").format(
                    where=doc.where(*path, key), value=names[0], value2=names[1]
                )
            )
            return (1.0, 1.0)
        first, second = (
            number(doc, (*path, key, n), spec[n], problems, low=0, what=_("a multiplier ≥ 0"))
            for n in names
        )
        return first, second

    gmv = number(
        doc,
        (*path, "default_gmv_per_hour"),
        section.get("default_gmv_per_hour"),
        problems,
        low=0,
        what=_("yuan ≥ 0"),
    )
    strength = pair("strength", ("low", "high"))
    affinity = pair("affinity", ("match", "other"))
    points = section.get("price_fit")
    fit: list[tuple[float, float]] = []
    if not isinstance(points, list) or len(points) < 2:
        problems.append(
            _("{where}: expected two or more points [ratio, x]").format(
                where=doc.where(*path, "price_fit")
            )
        )
    else:
        for index, point in enumerate(points):
            here = (*path, "price_fit", str(index))
            if not (isinstance(point, list) and len(point) == 2):
                problems.append(
                    _("{where}: expected [ratio, multiplier]").format(where=doc.where(*here))
                )
                continue
            fit.append(
                (
                    number(doc, here, point[0], problems, low=0, what=_("a ratio ≥ 0")),
                    number(doc, here, point[1], problems, low=0, what=_("a multiplier ≥ 0")),
                )
            )
        if any(b[0] <= a[0] for a, b in zip(fit, fit[1:], strict=False)):
            problems.append(
                _("{where}: the ratios must increase").format(where=doc.where(*path, "price_fit"))
            )
    return SalesModel(
        default_gmv_per_hour_fen=round(gmv * 100),
        strength_low=strength[0],
        strength_high=strength[1],
        affinity_match=affinity[0],
        affinity_other=affinity[1],
        price_fit=tuple(fit),
    )


def _sequence(doc: ConfigDoc, section: object, roles: set, problems: list) -> SequenceRules:
    path = ("sequence",)
    if not isinstance(section, dict):
        problems.append(_("{where}: expected the sequencing rules").format(where=doc.where(*path)))
        section = {}
    known = {
        "deal_roles",
        "open_with_deal",
        "close_with_deal",
        "deal_every",
        "peak_roles",
        "peak",
    }
    unknown_keys(doc, section, path, known, problems)

    def role_list(key: str) -> tuple[str, ...]:
        value = section.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(
                _("{where}: expected a list of roles").format(where=doc.where(*path, key))
            )
            return ()
        for role in value:
            if role not in roles:
                problems.append(
                    _("{where}: {role!r} is not a role of the rules above; roles: {join}").format(
                        where=doc.where(*path, key), role=role, join=", ".join(sorted(roles))
                    )
                )
        return tuple(value)

    def flag(key: str) -> bool:
        value = section.get(key, False)
        if not isinstance(value, bool):
            problems.append(
                _("{where}: expected true or false").format(where=doc.where(*path, key))
            )
            return False
        return value

    peak = section.get("peak") or {}
    if not isinstance(peak, dict) or set(peak) - {"from_minute", "to_minute"}:
        problems.append(
            _("{where}: expected {{from_minute: …, to_minute: …}}").format(
                where=doc.where(*path, "peak")
            )
        )
        peak = {}
    peak_from, peak_to = (
        whole(
            doc,
            (*path, "peak", key),
            peak.get(key, default),
            problems,
            low=0,
            high=1440,
            what=_("a minute from 0 to 1440"),
        )
        for key, default in (("from_minute", 0), ("to_minute", 0))
    )
    if peak_to < peak_from:
        problems.append(
            _("{where}: to_minute is before from_minute").format(where=doc.where(*path, "peak"))
        )
    deal_roles = role_list("deal_roles")
    rules = SequenceRules(
        deal_roles=deal_roles,
        open_with_deal=flag("open_with_deal"),
        close_with_deal=flag("close_with_deal"),
        deal_every=whole(
            doc,
            (*path, "deal_every"),
            section.get("deal_every", 0),
            problems,
            low=0,
            high=1000,
            what=_("a whole number of items (0: no rule)"),
        ),
        peak_roles=role_list("peak_roles"),
        peak_from=peak_from,
        peak_to=peak_to,
    )
    if (rules.deal_slots_needed or rules.deal_every) and not deal_roles:
        problems.append(
            _("{where}: the deal rules need deal roles").format(
                where=doc.where(*path, "deal_roles")
            )
        )
    if set(rules.peak_roles) & set(deal_roles):
        problems.append(
            _("{where}: a role cannot be both deal and peak").format(
                where=doc.where(*path, "peak_roles")
            )
        )
    return rules
