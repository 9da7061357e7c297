"""The brief of a session plan: what a team leader asks for, resolved from three layers.

`configs/session.yaml` `defaults` < the brief file (`--brief FILE`) < command-line options.
A brief may list several `sessions:` planned together; each takes the brief's keys and may
override any of them. Every problem is reported at once, with where it came from (file:line
key, or the option).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from haowu_cli.config import ConfigDoc, load_yaml_file
from haowu_cli.errors import ConfigError
from haowu_cli.grading import LEVEL_RANK
from haowu_cli.i18n import _
from haowu_cli.planner.rules import SessionRules

OBJECTIVES = ("gmv", "commission", "team_income")
SESSION_KEYS = (
    "anchor",
    "date",
    "start",
    "minutes",
    "products",
    "min_level",
    "min_commission_rate",
    "max_per_merchant",
    "require_sample",
    "categories",
    "roles",
    "pinned",
    "exclude_products",
    "exclude_merchants",
    "merchants",
    "brands",
    "min_expected_gmv",
)
PLAN_KEYS = ("objective", "allow_repeat", "sessions", "activity", "sequence")
# The sequencing rules a brief may override (`sequence: {open_with_deal: false}`).
SEQUENCE_KEYS = ("open_with_deal", "close_with_deal", "deal_every")

# The brief's keys as a team leader writes them in Chinese; each means the English key.
CHINESE_KEYS = {
    "达人": "anchor",
    "达人ID": "anchor",
    "日期": "date",
    "开始时间": "start",
    "时长": "minutes",
    "商品数": "products",
    "最低等级": "min_level",
    "最低佣金比例": "min_commission_rate",
    "每商家最多": "max_per_merchant",
    "需要样品": "require_sample",
    "类目": "categories",
    "角色": "roles",
    "指定商品": "pinned",
    "排除商品": "exclude_products",
    "排除商家": "exclude_merchants",
    "目标": "objective",
    "允许重复": "allow_repeat",
    "场次": "sessions",
    "商家": "merchants",
    "品牌": "brands",
    "最低预期GMV": "min_expected_gmv",
    "排品规则": "sequence",
}
# The objectives in Chinese, and the bounds' ends (商品数: {最少: 20, 最多: 40}).
CHINESE_OBJECTIVES = {"GMV": "gmv", "佣金": "commission", "团长收入": "team_income"}
CHINESE_BOUNDS = {"最少": "min", "最多": "max"}


@dataclass(frozen=True)
class Bounds:
    min: int | None = None
    max: int | None = None

    def as_json(self) -> dict:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


@dataclass(frozen=True)
class SessionBrief:
    anchor: str
    date: dt.date
    start: dt.time
    minutes: int
    products: Bounds
    min_level: str
    min_commission_rate: Decimal
    max_per_merchant: int
    require_sample: bool
    categories: dict[str, Bounds] = field(default_factory=dict)
    roles: dict[str, Bounds] = field(default_factory=dict)
    pinned: tuple[str, ...] = ()
    exclude_products: tuple[str, ...] = ()
    exclude_merchants: tuple[str, ...] = ()
    # A brand 专场 or 混场: only these merchants, brands, category_l1/l2 (empty: any).
    merchants: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    only_categories: tuple[str, ...] = ()
    min_expected_gmv_fen: int | None = None  # the session's expected GMV must reach this

    def as_json(self) -> dict:
        return {
            "anchor": self.anchor,
            "date": self.date.isoformat(),
            "start": self.start.strftime("%H:%M"),
            "minutes": self.minutes,
            "products": self.products.as_json(),
            "min_level": self.min_level,
            "min_commission_rate": str(self.min_commission_rate),
            "max_per_merchant": self.max_per_merchant,
            "require_sample": self.require_sample,
            "categories": {k: b.as_json() for k, b in self.categories.items()},
            "roles": {k: b.as_json() for k, b in self.roles.items()},
            "pinned": list(self.pinned),
            "exclude_products": list(self.exclude_products),
            "exclude_merchants": list(self.exclude_merchants),
            **({"merchants": list(self.merchants)} if self.merchants else {}),
            **({"brands": list(self.brands)} if self.brands else {}),
            **({"only_categories": list(self.only_categories)} if self.only_categories else {}),
            **(
                {"min_expected_gmv_fen": self.min_expected_gmv_fen}
                if self.min_expected_gmv_fen is not None
                else {}
            ),
        }


@dataclass(frozen=True)
class Brief:
    sessions: tuple[SessionBrief, ...]
    objective: str
    allow_repeat: bool
    pinned: tuple[str, ...] = ()  # several sessions: in one of them, whichever is best
    activity: str | None = None  # 招商活动: plan from its passed applications, in its windows
    sequence: dict[str, object] = field(default_factory=dict)  # overrides of session.yaml's

    def as_json(self) -> dict:
        return {
            **({"activity": self.activity} if self.activity else {}),
            **({"sequence": dict(self.sequence)} if self.sequence else {}),
            "objective": self.objective,
            "allow_repeat": self.allow_repeat,
            "pinned": list(self.pinned),
            "sessions": [s.as_json() for s in self.sessions],
        }


# A raw value and where it came from, for messages: "file:line key" or "--option".
Located = tuple[object, Callable[[], str]]


def _layer(doc: ConfigDoc, data: dict, prefix: tuple[str, ...] = ()) -> dict[str, Located]:
    """The brief keys of `data` (Chinese keys as their English ones), each with where it is
    written."""
    # (mypy cannot infer the type of a lambda whose default binds the loop variable)
    return {
        _english(k): (
            _english_value(_english(k), v),
            lambda k=k: doc.where(*prefix, str(k)),  # type: ignore[misc]
        )
        for k, v in data.items()
        if _english(k) != "sessions"
    }


def _english(key: object) -> str:
    return CHINESE_KEYS.get(str(key), str(key))


def _english_value(key: str, value: object) -> object:
    """Chinese words a value may be written in: 目标: 团长收入, 商品数: {最少: 20}."""
    if key == "objective" and isinstance(value, str):
        return CHINESE_OBJECTIVES.get(value.strip(), value)
    if isinstance(value, dict) and any(k in CHINESE_BOUNDS for k in value):
        return {CHINESE_BOUNDS.get(str(k), k): v for k, v in value.items()}
    if key in ("categories", "roles") and isinstance(value, dict):
        return {k: _english_value("", v) for k, v in value.items()}
    return value


def resolve_brief(
    rules: SessionRules, brief_path: Path | None, overrides: dict[str, object]
) -> Brief:
    """The brief from the defaults, the brief file and the command line (`overrides`: brief
    key -> value, only for options given)."""
    problems: list[str] = []
    base = _layer(rules.doc, rules.defaults, ("defaults",))
    sessions_raw: list[tuple[dict[str, Located], str]] = []
    if brief_path is not None:
        doc = load_yaml_file(brief_path)
        data = doc.data
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(
                [_("{where}: expected a mapping of brief keys").format(where=doc.where())]
            )
        known = set(SESSION_KEYS) | set(PLAN_KEYS)
        for key in data:
            if _english(key) not in known:
                problems.append(
                    _("{where}: {unknown_key}").format(
                        where=doc.where(str(key)), unknown_key=_unknown_key(key, known)
                    )
                )
        base = _overlay(base, _layer(doc, {k: v for k, v in data.items() if _english(k) in known}))
        listed = next((v for k, v in data.items() if _english(k) == "sessions"), None)
        if listed is not None:
            if not isinstance(listed, list) or not listed:
                problems.append(
                    _("{where}: expected a list of sessions").format(where=doc.where("sessions"))
                )
            else:
                for index, entry in enumerate(listed):
                    path = ("sessions", str(index))
                    if not isinstance(entry, dict):
                        problems.append(
                            _("{where}: expected a mapping of brief keys").format(
                                where=doc.where(*path)
                            )
                        )
                        continue
                    for key in entry:
                        if _english(key) not in SESSION_KEYS:
                            problems.append(
                                _("{where}: {unknown_key}").format(
                                    where=doc.where(*path, str(key)),
                                    unknown_key=_unknown_key(key, set(SESSION_KEYS)),
                                )
                            )
                    own = {k: v for k, v in entry.items() if _english(k) in SESSION_KEYS}
                    sessions_raw.append(
                        (
                            _layer(doc, own, path),
                            _("session {number}").format(number=index + 1),
                        )
                    )
    several = bool(sessions_raw)
    # (mypy cannot infer the type of a lambda whose default binds the loop variable)
    cli: dict[str, Located] = {
        key: (value, lambda key=key: _option(key))  # type: ignore[misc]
        for key, value in overrides.items()
    }
    if several:
        for key in ("anchor", "date", "start"):
            if key in cli:
                problems.append(
                    _(
                        "{option}: the brief lists sessions, each with its own {key}; set it "
                        "in the brief"
                    ).format(option=_option(key), key=key)
                )
                del cli[key]
    plan_pinned: tuple[str, ...] = ()
    if several:  # a top-level or --pin product: in whichever session is best
        for layer in (base, cli):
            if "pinned" in layer:
                plan_pinned += _ids(layer.pop("pinned"), problems)
    if several and brief_path is not None:
        # The brief's own top-level values are checked too where every session overrides
        # them: a wrong value is a problem of the file even when unused.
        scratch: list[str] = []
        _session(rules, base, _("the brief"), scratch)
        problems += [p for p in scratch if p.startswith(f"{brief_path}:")]
    if not sessions_raw:
        sessions_raw = [({}, _("the session"))]
    sessions = tuple(
        _session(rules, _overlay(_overlay(base, own), cli), label, problems)
        for own, label in sessions_raw
    )
    objective, where = base.get("objective", ("team_income", lambda: "objective"))
    if "objective" in cli:
        objective, where = cli["objective"]
    if objective not in OBJECTIVES:
        problems.append(
            _("{where}: expected one of {join}, got {objective!r}").format(
                where=where(), join=", ".join(OBJECTIVES), objective=objective
            )
        )
    allow_repeat = _flag(cli.get("allow_repeat") or base.get("allow_repeat"), False, problems)
    activity = None
    if "activity" in base:
        value, where = base["activity"]
        if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
            problems.append(f"{where()}: expected an activity ID, got {value!r}")
        else:
            activity = str(value).strip()
    sequence = _sequence_overrides(rules, base.get("sequence"), problems)
    if problems:  # each once, though several sessions may share the value
        hint = _("the brief's keys are listed in the README (Sessions)")
        raise ConfigError(list(dict.fromkeys(problems)), hint=hint)
    return Brief(
        sessions,
        str(objective),
        allow_repeat,
        tuple(dict.fromkeys(plan_pinned)),
        activity,
        sequence,
    )


def _sequence_overrides(rules: SessionRules, located: Located | None, problems: list[str]) -> dict:
    """The brief's `sequence:` keys over session.yaml's sequencing rules, checked."""
    if located is None or located[0] is None:
        return {}
    value, where = located
    if not isinstance(value, dict):
        problems.append(
            _(
                "{where}: expected a mapping of sequence rules, e.g. {{open_with_deal: false}}"
            ).format(where=where())
        )
        return {}
    overrides: dict[str, object] = {}
    for key, setting in value.items():
        if key not in SEQUENCE_KEYS:
            problems.append(
                _("{where}.{key}: {unknown_key}").format(
                    where=where(), key=key, unknown_key=_unknown_key(key, set(SEQUENCE_KEYS))
                )
            )
        elif key == "deal_every":
            if (
                isinstance(setting, bool)
                or not isinstance(setting, int)
                or not 0 <= setting <= 1000
            ):
                problems.append(
                    _(
                        "{where}.{key}: expected a whole number of items (0: no rule), "
                        "got {value!r}"
                    ).format(where=where(), key=key, value=setting)
                )
            else:
                overrides[key] = setting
        elif not isinstance(setting, bool):
            problems.append(
                _("{where}.{key}: expected true or false, got {value!r}").format(
                    where=where(), key=key, value=setting
                )
            )
        else:
            overrides[key] = setting
    merged = dataclasses.replace(rules.sequence, **overrides)  # type: ignore[arg-type]
    if (merged.deal_slots_needed or merged.deal_every) and not merged.deal_roles:
        problems.append(
            _(
                "{where}: the deal rules need deal roles (sequence.deal_roles in session.yaml)"
            ).format(where=where())
        )
    return overrides


def brief_rules(rules: SessionRules, brief: Brief) -> SessionRules:
    """session.yaml's rules with the brief's `sequence:` overrides applied."""
    if not brief.sequence:
        return rules
    sequence = dataclasses.replace(rules.sequence, **brief.sequence)  # type: ignore[arg-type]
    return dataclasses.replace(rules, sequence=sequence)


def _overlay(lower: dict[str, Located], upper: dict[str, Located]) -> dict[str, Located]:
    """`upper`'s keys over `lower`'s. `products` may give one end only (`{min: 5}`,
    --min-products): the other end stays as the layer below has it."""
    merged = lower | upper
    below, above = lower.get("products"), upper.get("products")
    if below and above and isinstance(below[0], dict) and isinstance(above[0], dict):
        merged["products"] = ({**below[0], **above[0]}, above[1])
    return merged


_OPTIONS = {
    "products": "--min-products/--max-products",
    "pinned": "--pin",
    "exclude_products": "--exclude-product",
    "exclude_merchants": "--exclude-merchant",
}


def _option(key: str) -> str:
    return _("command line ") + _OPTIONS.get(key, "--" + key.replace("_", "-"))


def _unknown_key(key: object, known: set) -> str:
    return _("unknown key {key!r}; expected one of {join}").format(
        key=key, join=", ".join(sorted(known))
    )


def _session(
    rules: SessionRules, raw: dict[str, Located], label: str, problems: list[str]
) -> SessionBrief:
    def missing(key: str) -> str:
        return _("{label} has no {key}: give it in the brief or with --{key}").format(
            label=label, key=key
        )

    anchor = raw.get("anchor")
    if anchor is None or anchor[0] in (None, ""):
        problems.append(missing("anchor"))
    day = raw.get("date")
    if day is None:
        problems.append(missing("date"))
    for key in ("minutes", "max_per_merchant"):
        if key not in raw:
            problems.append(missing(key.replace("_", "-")))
    start_time = _time(raw.get("start"), problems)
    products = _bounds(raw.get("products"), problems, required=True)
    level, where = raw.get("min_level", ("L1", lambda: "min_level"))
    if level not in LEVEL_RANK:
        problems.append(
            _("{where}: expected a level L0–L5, got {level!r}").format(where=where(), level=level)
        )
    only_categories: tuple[str, ...] = ()
    if "categories" in raw and isinstance(raw["categories"][0], list | str):
        # A list of categories is a whitelist (混场 of these categories only); a mapping
        # bounds the count per category.
        only_categories = _ids(raw["categories"], problems)
        categories = {}
    else:
        categories = _bounds_by_name(raw.get("categories"), problems)
    roles = _bounds_by_name(raw.get("roles"), problems)
    if "roles" in raw:
        for role in roles:
            if role not in rules.role_names:
                problems.append(
                    _("{value}: {role!r} is not a role in session.yaml; roles: {join}").format(
                        value=raw["roles"][1](), role=role, join=", ".join(rules.role_names)
                    )
                )
    return SessionBrief(
        anchor=str(anchor[0]) if anchor and anchor[0] is not None else "",
        date=_date(day, problems) if day else dt.date.min,
        start=start_time,
        minutes=_whole(raw.get("minutes"), problems, low=1, high=1440, what=_("minutes 1–1440")),
        products=products,
        min_level=str(level),
        min_commission_rate=_rate(raw.get("min_commission_rate"), problems),
        max_per_merchant=_whole(
            raw.get("max_per_merchant"), problems, low=1, high=10_000, what=_("a count ≥ 1")
        ),
        require_sample=_flag(raw.get("require_sample"), False, problems),
        categories=categories,
        roles=roles,
        pinned=_ids(raw.get("pinned"), problems),
        exclude_products=_ids(raw.get("exclude_products"), problems),
        exclude_merchants=_ids(raw.get("exclude_merchants"), problems),
        merchants=_ids(raw.get("merchants"), problems),
        brands=_ids(raw.get("brands"), problems),
        only_categories=only_categories,
        min_expected_gmv_fen=_yuan(raw.get("min_expected_gmv"), problems),
    )


def _yuan(located: Located | None, problems: list[str]) -> int | None:
    """An amount in yuan (500万, ¥5,000,000, 5000000.00) as whole fen, or None."""
    if located is None or located[0] is None:
        return None
    value, where = located
    text = str(value).strip().replace(",", "").replace("¥", "").replace("￥", "")
    scale = Decimal(1)
    if text.endswith("万"):
        text, scale = text[:-1], Decimal(10_000)
    elif text.endswith("元"):
        text = text[:-1]
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(text) * scale
    except InvalidOperation:
        amount = Decimal(-1)
    if not amount.is_finite() or amount < 0:
        problems.append(
            _("{where}: expected an amount in yuan such as 50000 or 5万, got {value!r}").format(
                where=where(), value=value
            )
        )
        return None
    return int((amount * 100).to_integral_value())


def _whole(located: Located | None, problems: list[str], *, low: int, high: int, what: str) -> int:
    if located is None:
        return low
    value, where = located
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            _("{where}: expected {what}, got {value!r}").format(
                where=where(), what=what, value=value
            )
        )
        return low
    return value


def _flag(located: Located | None, default: bool, problems: list[str]) -> bool:
    if located is None:
        return default
    value, where = located
    if not isinstance(value, bool):
        problems.append(
            _("{where}: expected true or false, got {value!r}").format(where=where(), value=value)
        )
        return default
    return value


def _date(located: Located, problems: list[str]) -> dt.date:
    """A date written YYYY-MM-DD (a brief's dates arrive as text, see `load_yaml_file`; a
    command-line --date as a date). A date with a time, as YAML would read one, counts by
    its date."""
    value, where = located
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _date_text(str(value).strip())
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ].*)?", text)
    if not match or isinstance(value, bool):
        problems.append(
            _("{where}: expected a date YYYY-MM-DD, got {value!r}").format(
                where=where(), value=value
            )
        )
        return dt.date.min
    try:
        day = dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError as exc:  # 2026-13-12, 2026-02-30
        problems.append(
            _("{where}: {text!r} is not a real date: {exc}").format(
                where=where(), text=text, exc=exc
            )
        )
        return dt.date.min
    if len(text) > 10 and _datetime(text) is None:
        problems.append(
            _("{where}: expected a date YYYY-MM-DD, got {value!r}").format(
                where=where(), value=value
            )
        )
        return dt.date.min
    return day


def _date_text(text: str) -> str:
    """A date as people type it, as YYYY-MM-DD text: the forms an import reads (2026/12/12,
    2026.12.12, 2026年12月12日, 20261212) and a month and day without the year (12月12日,
    12/12): this year's, or next year's when this year's was more than 60 days ago (a brief
    plans a session ahead)."""
    from haowu_cli import dates

    text = re.sub(r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3", text)
    match = re.fullmatch(r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?", text)
    if match:
        return f"{match[1]}-{match[2]}-{match[3]}"
    match = re.fullmatch(r"(\d{1,2})\s*[月/]\s*(\d{1,2})\s*日?", text)
    if match:
        today = dates.today()
        try:
            day = dt.date(today.year, int(match[1]), int(match[2]))
        except ValueError:  # 2月30日: said as not a real date below
            return f"{today.year}-{match[1]}-{match[2]}"
        if (today - day).days > 60:
            day = (
                day.replace(year=today.year + 1) if not (day.month == 2 and day.day == 29) else day
            )
        return day.isoformat()
    return text


def _datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _time(located: Located | None, problems: list[str]) -> dt.time:
    if located is None:
        return dt.time(19, 0)
    value, where = located
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 19:00 as the number 1140 (base 60).
        problems.append(
            _('{where}: write the time in quotes, e.g. start: "19:00"').format(where=where())
        )
        return dt.time(19, 0)
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        problems.append(
            _("{where}: expected a time HH:MM, got {value!r}").format(where=where(), value=value)
        )
        return dt.time(19, 0)
    return dt.time(int(match[1]), int(match[2]))


def _rate(located: Located | None, problems: list[str]) -> Decimal:
    if located is None:
        return Decimal(0)
    value, where = located
    text = str(value).strip()
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        rate = Decimal(text[:-1]) / 100 if text.endswith("%") else Decimal(text)
    except InvalidOperation:
        problems.append(
            _("{where}: expected a rate such as 0.15 or 15%, got {value!r}").format(
                where=where(), value=value
            )
        )
        return Decimal(0)
    if not (rate.is_finite() and 0 <= rate <= 1):
        problems.append(
            _("{where}: expected a rate from 0 to 1 (or 0% to 100%), got {value!r}").format(
                where=where(), value=value
            )
        )
        return Decimal(0)
    return rate


def _bounds(located: Located | None, problems: list[str], *, required: bool = False) -> Bounds:
    if located is None:
        return Bounds()
    value, where = located
    if not isinstance(value, dict) or not value or set(value) - {"min", "max"}:
        problems.append(
            _("{where}: expected {{min: N, max: N}} (either may be left out)").format(where=where())
        )
        return Bounds()
    ends = {}
    for end in ("min", "max"):
        count = value.get(end)
        if count is not None and (
            isinstance(count, bool) or not isinstance(count, int) or count < 0
        ):
            problems.append(
                _("{where}.{end}: expected a whole count ≥ 0, got {count!r}").format(
                    where=where(), end=end, count=count
                )
            )
            count = None
        ends[end] = count
    if ends["min"] is not None and ends["max"] is not None and ends["min"] > ends["max"]:
        problems.append(
            _("{where}: min {min} is above max {max}").format(
                where=where(), min=ends["min"], max=ends["max"]
            )
        )
    return Bounds(ends["min"], ends["max"])


def _bounds_by_name(located: Located | None, problems: list[str]) -> dict[str, Bounds]:
    if located is None or located[0] is None:
        return {}
    value, where = located
    if not isinstance(value, dict):
        problems.append(_("{where}: expected name: {{min: N, max: N}}").format(where=where()))
        return {}
    # (mypy cannot infer the type of a lambda whose default binds the loop variable)
    return {
        str(name): _bounds((spec, lambda name=name: f"{where()}.{name}"), problems)  # type: ignore[misc]
        for name, spec in value.items()
    }


def _ids(located: Located | None, problems: list[str]) -> tuple[str, ...]:
    if located is None or located[0] is None:
        return ()
    value, where = located
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        problems.append(_("{where}: expected a list of IDs").format(where=where()))
        return ()
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int):
            # A float here is an ID YAML read as a number and may have rounded: refuse it.
            problems.append(
                _("{where}: {item!r} is not an ID; write IDs in quotes").format(
                    where=where(), item=item
                )
            )
            continue
        ids.append(str(item).strip())
    return tuple(dict.fromkeys(ids))
