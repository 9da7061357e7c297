"""招商活动: activities, their rules, and the 审核 (review) of the products merchants apply with.

An activity comes from a YAML file (`load_activity_file`): name, type (1 普通, 2 专属,
3 合作招商), windows (预热, 正式 …), categories, invited anchors, who may apply, the 报名
deadline and its rules. The rule vocabulary and every rule's default live in
`configs/activities.yaml` (`load_rule_book`); an activity names only the rules it changes.

The review is one SQL query composed here (`review_query`) that the store runs over an
activity's applications with each product's latest grade: every rule gives a reason in Chinese
when it fails ("等级L1低于活动要求L3"), the reasons the merchant gets back. A numeric rule missed
by no more than its `manual_margin` sends the product to 待人工 instead of 拒绝. The store keeps
each decision as history; a person's decision (`decide`) is never overridden by a review.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from haowu_cli.config import ConfigDoc, load_config_file, load_yaml_file, top_level, unknown_keys
from haowu_cli.errors import ConfigError, UsageError
from haowu_cli.i18n import N_, _
from haowu_cli.store.grades import grade_floor
from haowu_cli.store.sql import Query

if TYPE_CHECKING:
    from collections.abc import Callable

    import duckdb
    import polars as pl

    from haowu_cli.store.connection import Store

ACTIVITIES_FILE = "activities.yaml"
LEVELS = ("L0", "L1", "L2", "L3", "L4", "L5")
ACTIVITY_TYPES = {1: N_("ordinary (普通)"), 2: N_("exclusive (专属)"), 3: N_("co-op (合作招商)")}
WINDOW_KINDS = ("warmup", "sale")
# The platform's audit codes (itemAuditStatus) and the words merchants see.
STATUS_CODES = {"pending": 1, "passed": 2, "rejected": 3, "manual": 1}
STATUS_WORDS = {"pending": "待审核", "passed": "通过", "rejected": "拒绝", "manual": "待人工"}


@dataclass(frozen=True)
class RuleSpec:
    """One rule of the vocabulary: its kind of value, its default, its 待人工 margin."""

    name: str
    kind: str  # level | rate | ratio | count | bool | score | benefit
    default: Any
    manual_margin: Decimal = Decimal(0)


# The rules haowu knows how to check, and the kind of value each takes.
RULE_KINDS = {
    "min_level": "level",
    "min_commission_rate": "rate",
    "min_service_fee_rate": "rate",
    "max_price_vs_list": "ratio",
    "max_price_vs_lowest": "ratio",
    "min_stock": "count",
    "sample_required": "bool",
    "min_shop_score": "score",
    "required_benefit": "benefit",
}


@dataclass(frozen=True)
class RuleBook:
    specs: dict[str, RuleSpec]
    lowest_price_days: int

    def resolve(self, given: dict[str, Any]) -> dict[str, Any]:
        """The rules of an activity: its own values over the defaults (None: off)."""
        return {name: given.get(name, spec.default) for name, spec in self.specs.items()}


def _rule_value(doc: ConfigDoc, path: tuple, kind: str, value: Any, problems: list) -> Any:
    """A rule's value checked against its kind; None is always allowed (the rule is off)."""
    if value is None:
        return None
    where = doc.where(*path)
    if kind == "level":
        if value not in LEVELS:
            problems.append(
                f"{where}: " + _("expected a level L0–L5, got {value!r}").format(value=value)
            )
            return None
        return value
    if kind == "benefit":  # a 权益 name of grading.yaml's benefits (checked at review)
        if not isinstance(value, str) or not value.strip():
            problems.append(
                f"{where}: "
                + _("expected the name of a 权益 such as 达人优选, got {value!r}").format(
                    value=value
                )
            )
            return None
        return value.strip()
    if kind == "bool":
        if not isinstance(value, bool):
            problems.append(
                f"{where}: " + _("expected true or false, got {value!r}").format(value=value)
            )
            return None
        return value
    if kind == "count":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(
                f"{where}: " + _("expected a whole number ≥ 0, got {value!r}").format(value=value)
            )
            return None
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        problems.append(f"{where}: " + _("expected a number, got {value!r}").format(value=value))
        return None
    number = Decimal(str(value))
    bounds: dict[str, tuple[int | Decimal, int]] = {
        "rate": (0, 1),
        "score": (0, 5),
        "ratio": (Decimal("0.01"), 10),
    }
    limits = bounds[kind]
    if not limits[0] <= number <= limits[1]:
        problems.append(
            f"{where}: "
            + _("{value} is out of range: expected {low} to {high}").format(
                value=value, low=limits[0], high=limits[1]
            )
        )
        return None
    return str(number)  # kept as exact text: JSON and the fingerprint see the same digits


def load_rule_book(config_dir: Path) -> RuleBook:
    """`activities.yaml`, checked: every problem at once with file:line key."""
    doc = load_config_file(config_dir, ACTIVITIES_FILE)
    problems: list[str] = []
    data = top_level(doc, {"rules", "lowest_price_days"}, problems)
    section = data.get("rules")
    if not isinstance(section, dict):
        problems.append(f"{doc.where('rules')}: " + _("expected a mapping of rules"))
        section = {}
    specs: dict[str, RuleSpec] = {}
    for name, spec in section.items():
        path = ("rules", str(name))
        if name not in RULE_KINDS:
            problems.append(
                f"{doc.where(*path)}: "
                + _("unknown rule {name!r}; haowu knows {known}").format(
                    name=name, known=", ".join(RULE_KINDS)
                )
            )
            continue
        if not isinstance(spec, dict):
            problems.append(f"{doc.where(*path)}: " + _("expected {default: …, manual_margin: …}"))
            continue
        unknown_keys(doc, spec, path, {"default", "manual_margin"}, problems)
        default = _rule_value(
            doc, (*path, "default"), RULE_KINDS[name], spec.get("default"), problems
        )
        margin = spec.get("manual_margin", 0)
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 1:
            problems.append(
                f"{doc.where(*path, 'manual_margin')}: "
                + _("expected a fraction from 0 to below 1, got {value!r}").format(value=margin)
            )
            margin = 0
        specs[str(name)] = RuleSpec(str(name), RULE_KINDS[name], default, Decimal(str(margin)))
    for name, kind in RULE_KINDS.items():  # every rule haowu knows is in the book, off at worst
        specs.setdefault(name, RuleSpec(name, kind, None))
    days = data.get("lowest_price_days", 30)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
        problems.append(
            f"{doc.where('lowest_price_days')}: "
            + _("expected 1–365 days, got {value!r}").format(value=days)
        )
        days = 30
    if problems:
        raise ConfigError(problems)
    return RuleBook(specs=specs, lowest_price_days=days)


# --- an activity file ------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    name: str
    kind: str  # warmup | sale
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class Activity:
    activity_id: str
    name: str
    activity_type: int
    windows: tuple[Window, ...]
    categories: tuple[str, ...]
    anchors: tuple[str, ...]
    merchants: tuple[str, ...]
    apply_until: dt.datetime | None
    rules: dict[str, Any]
    source_file: str | None = None
    fingerprint: str = field(default="")

    def record(self) -> dict[str, Any]:
        """The activity as a row of the `activities` table (times are set by the store)."""
        return {
            "activity_id": self.activity_id,
            "name": self.name,
            "activity_type": self.activity_type,
            "apply_until": self.apply_until,
            "categories": list(self.categories),
            "anchors": list(self.anchors),
            "merchants": list(self.merchants),
            "rules": json.dumps(self.rules, ensure_ascii=False, sort_keys=True),
            "rules_fingerprint": self.fingerprint,
            "source_file": self.source_file,
        }


ACTIVITY_KEYS = {
    "id",
    "name",
    "type",
    "windows",
    "categories",
    "anchors",
    "merchants",
    "apply_until",
    "rules",
}
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def rules_fingerprint(rules: dict[str, Any]) -> str:
    text = json.dumps(rules, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def load_activity_file(path: Path, book: RuleBook) -> Activity:
    """An activity file, checked: every problem at once with file:line key (exit 2). The
    platform's own activity JSON (`…investment.activity.open.list`: `data.result[]`, or one
    activity record) is read as the file it stands for (`from_platform`)."""
    doc = load_yaml_file(path)  # JSON is YAML: its keys keep their lines
    problems: list[str] = []
    if path.suffix.lower() == ".json":
        doc = from_platform(doc, problems)
        if problems:
            raise ConfigError(problems)
    data = top_level(doc, ACTIVITY_KEYS, problems)
    activity_id = data.get("id")
    if not isinstance(activity_id, str | int) or not _ID.fullmatch(str(activity_id)):
        problems.append(
            f"{doc.where('id')}: "
            + _("expected an activity ID (letters, digits, - _ .), got {value!r}").format(
                value=activity_id
            )
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{doc.where('name')}: " + _("expected the activity's name"))
        name = ""
    kind = data.get("type", 1)
    if kind not in ACTIVITY_TYPES or isinstance(kind, bool):
        problems.append(
            f"{doc.where('type')}: "
            + _("expected 1 (普通), 2 (专属) or 3 (合作招商), got {value!r}").format(value=kind)
        )
        kind = 1
    windows = _windows(doc, data.get("windows"), problems)
    apply_until = None
    if data.get("apply_until") is not None:
        apply_until = _when(doc, ("apply_until",), data["apply_until"], problems, end=True)
    given = data.get("rules") or {}
    if not isinstance(given, dict):
        problems.append(f"{doc.where('rules')}: " + _("expected a mapping of rules"))
        given = {}
    rules_given: dict[str, Any] = {}
    for rule, value in given.items():
        if rule not in book.specs:
            problems.append(
                f"{doc.where('rules', str(rule))}: "
                + _("unknown rule {name!r}; the rules are {known}").format(
                    name=rule, known=", ".join(book.specs)
                )
            )
            continue
        rules_given[rule] = _rule_value(
            doc, ("rules", rule), book.specs[rule].kind, value, problems
        )
    lists = {
        key: _text_list(doc, key, data.get(key), problems)
        for key in ("categories", "anchors", "merchants")
    }
    if problems:
        raise ConfigError(problems)
    rules = book.resolve(rules_given)
    return Activity(
        activity_id=str(activity_id),
        name=name.strip(),
        activity_type=int(kind),
        windows=windows,
        categories=lists["categories"],
        anchors=lists["anchors"],
        merchants=lists["merchants"],
        apply_until=apply_until,
        rules=rules,
        source_file=str(path),
        fingerprint=rules_fingerprint(rules),
    )


# What the platform calls an activity's name: the open platform's record has no documented
# key for it, so the likely ones are tried in turn, then 快手活动 <ID>.
PLATFORM_NAME_KEYS = ("activityTitle", "activityName", "title", "name")
PLATFORM_GONE = {4: N_("已失效"), 5: N_("已删除")}


def from_platform(doc: ConfigDoc, problems: list) -> ConfigDoc:
    """The platform's activity record as the activity file it stands for: its ID, name and
    type; one 正式 window from `activityBeginTime` to `activityEndTime` (ms since the epoch,
    Beijing time); `minItemCommissionRate` and `minInvestmentPromotionRate` (‰) as the
    rules min_commission_rate and min_service_fee_rate (the other rules take their
    defaults). An expired or deleted activity (status 4, 5) or one without both times is
    refused: it has nothing to plan."""
    data = doc.data
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"].get("result", data["data"])
    if isinstance(data, list):
        if len(data) != 1:
            ids = ", ".join(str(r.get("activityId")) for r in data if isinstance(r, dict))
            problems.append(
                _(
                    "{where}: expected one activity, found {count} ({ids}): save each on its own"
                ).format(where=doc.where(), count=len(data), ids=ids or "—")
            )
            return doc
        data = data[0]
    if not isinstance(data, dict) or "activityId" not in data:
        problems.append(
            _(
                "{where}: expected the platform's activity record (activityId, activityType, "
                "activityBeginTime …)"
            ).format(where=doc.where())
        )
        return doc
    activity_id = data["activityId"]
    status = data.get("activityStatus")
    if status in PLATFORM_GONE:
        problems.append(
            _("{where}: activity {id} is {status} on the platform").format(
                where=doc.where(), id=activity_id, status=_(PLATFORM_GONE[status])
            )
        )
    times = [_beijing_ms(data.get(key)) for key in ("activityBeginTime", "activityEndTime")]
    if None in times:
        problems.append(
            _(
                "{where}: activity {id} has no begin or end time (0 means no limit): "
                "write its selling windows in a YAML activity file"
            ).format(where=doc.where(), id=activity_id)
        )
        times = [None, None]
    name = next((str(data[k]) for k in PLATFORM_NAME_KEYS if data.get(k)), None)
    rules = {
        rule: Decimal(data[key]) / 1000  # ‰, exactly
        for rule, key in (
            ("min_commission_rate", "minItemCommissionRate"),
            ("min_service_fee_rate", "minInvestmentPromotionRate"),
        )
        if isinstance(data.get(key), int) and not isinstance(data.get(key), bool) and data[key] > 0
    }
    stands_for = {
        "id": str(activity_id),
        "name": name or _("快手活动 {id}").format(id=activity_id),
        "type": data.get("activityType", 1),
        "windows": [
            {
                "name": "正式",
                "kind": "sale",
                "start": f"{times[0]:%Y-%m-%d %H:%M}",
                "end": f"{times[1]:%Y-%m-%d %H:%M:%S}",
            }
        ]
        if times[0] is not None
        else [],
        "rules": rules,
    }
    return ConfigDoc(doc.path, stands_for, doc._lines)


def _beijing_ms(value: Any) -> dt.datetime | None:
    """Milliseconds since the epoch as a naive Beijing time; 0 (the platform's "none") or
    anything else: None."""
    from zoneinfo import ZoneInfo

    from haowu_cli.ingest.platform import TIME_ZONE

    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return None
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=value)
    return moment.astimezone(ZoneInfo(TIME_ZONE)).replace(tzinfo=None)


def _text_list(doc: ConfigDoc, key: str, value: Any, problems: list) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        problems.append(f"{doc.where(key)}: " + _("expected a list of names or IDs"))
        return ()
    return tuple(str(v).strip() for v in value)


def _when(doc: ConfigDoc, path: tuple, value: Any, problems: list, *, end: bool) -> dt.datetime:
    """`2026-12-12 20:00` (or `2026-12-12T20:00`, or a bare date: its start, or its last
    second for an end) as a naive Beijing datetime."""
    text = str(value).strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59) if end else dt.time(0, 0))
        return dt.datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        problems.append(
            f"{doc.where(*path)}: "
            + _("expected a date and time like 2026-12-12 20:00, got {value!r}").format(value=value)
        )
        return dt.datetime(1970, 1, 1)


def _windows(doc: ConfigDoc, section: Any, problems: list) -> tuple[Window, ...]:
    if not isinstance(section, list) or not section:
        problems.append(
            f"{doc.where('windows')}: "
            + _("expected a list of windows, each {name, start, end} (预热, 正式 …)")
        )
        return ()
    windows = []
    for index, spec in enumerate(section):
        path = ("windows", str(index))
        if not isinstance(spec, dict):
            problems.append(f"{doc.where(*path)}: " + _("expected {name, start, end}"))
            continue
        unknown_keys(doc, spec, path, {"name", "kind", "start", "end"}, problems)
        name = str(spec.get("name") or "").strip()
        if not name:
            problems.append(f"{doc.where(*path, 'name')}: " + _("expected the window's name"))
        kind = spec.get("kind") or ("warmup" if "预热" in name or "預熱" in name else "sale")
        if kind not in WINDOW_KINDS:
            problems.append(
                f"{doc.where(*path, 'kind')}: "
                + _("expected warmup or sale, got {value!r}").format(value=kind)
            )
        start = _when(doc, (*path, "start"), spec.get("start"), problems, end=False)
        end = _when(doc, (*path, "end"), spec.get("end"), problems, end=True)
        if end <= start:
            problems.append(f"{doc.where(*path, 'end')}: " + _("the window ends before it starts"))
        windows.append(Window(name, str(kind), start, end))
    return tuple(windows)


def activity_from_record(record: dict[str, Any], windows: list[dict[str, Any]]) -> Activity:
    """An activity as the store holds it."""
    rules = json.loads(record["rules"])
    return Activity(
        activity_id=record["activity_id"],
        name=record["name"],
        activity_type=record["activity_type"],
        windows=tuple(Window(w["name"], w["kind"], w["starts_at"], w["ends_at"]) for w in windows),
        categories=tuple(record["categories"]),
        anchors=tuple(record["anchors"]),
        merchants=tuple(record["merchants"]),
        apply_until=record["apply_until"],
        rules=rules,
        source_file=record["source_file"],
        fingerprint=record["rules_fingerprint"],
    )


def no_activity(con: duckdb.DuckDBPyConnection, activity_id: str) -> UsageError:
    """The error for an activity the database does not hold, naming those it does."""
    from haowu_cli import store as db

    known = db.activity_ids(con)
    return UsageError(
        _("no activity {id}").format(id=activity_id),
        hint=(
            _("known activities: {ids}").format(ids=", ".join(known))
            if known
            else _("create one with: haowu activity create FILE")
        ),
    )


def require_activity(store: Store, activity_id: str) -> Activity:
    """The activity `activity_id` from the database, or a usage error naming the known ones."""
    from haowu_cli import store as db

    if not store.exists():
        raise UsageError(
            _("no activity {id}: the database has none yet").format(id=activity_id),
            hint=_("create one with: haowu activity create FILE"),
        )
    with store.read() as con:
        found = db.activity_record(con, activity_id)
        if found is None:
            raise no_activity(con, activity_id)
        return activity_from_record(*found)


# --- the review as SQL -----------------------------------------------------------------------


def _trim(text: str) -> str:
    """Number text in SQL without trailing zeros after a decimal point: 20.500 -> 20.5,
    500 -> 500, 4.60 -> 4.6."""
    return f"regexp_replace(regexp_replace({text}, '(\\.[0-9]*[1-9])0+$', '\\1'), '\\.0+$', '')"


def _pct(expr: str) -> str:
    """A DECIMAL fraction as percent text in SQL: 0.205 -> 20.5%."""
    return "(" + _trim(f"CAST(CAST(({expr}) * 100 AS DECIMAL(12,4)) AS VARCHAR)") + " || '%')"


def _yuan(expr: str) -> str:
    return f"('¥' || printf('%d.%02d', ({expr}) // 100, ({expr}) % 100))"


def _num(expr: str) -> str:
    return _trim(f"CAST({expr} AS VARCHAR)")


def _reasons(parts: list[str]) -> str:
    """The non-null texts of `parts` as a list, in SQL: concat_ws skips nulls, which is much
    faster over 100,000 rows than filtering a list with a lambda."""
    if not parts:
        return "[]::VARCHAR[]"
    joined = f"concat_ws(chr(31), {', '.join(parts)})"
    return f"CASE WHEN {joined} = '' THEN []::VARCHAR[] ELSE string_split({joined}, chr(31)) END"


def review_query(
    activity: Activity,
    book: RuleBook,
    today: dt.date,
    benefit_levels: tuple[str, ...] = (),
) -> Query:
    """One row per application of `activity`: product_id, merchant_id, level, and `hard`
    and `near` (lists of reasons: failed rules, and rules missed within their 待人工 margin).
    `benefit_levels`: the levels whose 权益 include the activity's `required_benefit`.

    Values from the application win over the product's (the rates and stock the merchant
    applied with); the level is the product's latest grade not after `today`."""
    rules, params = (
        activity.rules,
        {
            "activity_id": activity.activity_id,
            "today": today,
            "lowest_from": today - dt.timedelta(days=book.lowest_price_days),
            "categories": list(activity.categories),
            "merchants": list(activity.merchants),
        },
    )
    hard: list[str] = []
    near: list[str] = []

    def margin(name: str) -> str:
        return str(book.specs[name].manual_margin)

    def minimum(name: str, actual: str, shown: str, label: str, missing: str) -> None:
        if rules.get(name) is None:
            return
        params[name] = Decimal(str(rules[name])) if name != "min_stock" else int(rules[name])
        fail = f"({actual}) < ${name}"
        close = f"({actual}) >= ${name} * (1 - {margin(name)})"
        text = f"'{label}' || {shown} || '低于活动要求' || "
        text += _pct(f"${name}") if "rate" in name else _num(f"${name}")
        hard.append(
            f"CASE WHEN ({actual}) IS NULL THEN '{missing}' "
            f"WHEN {fail} AND NOT ({close}) THEN {text} END"
        )
        near.append(f"CASE WHEN {fail} AND {close} THEN {text} || '(差距在容差内,待人工)' END")

    def maximum(name: str, base: str, base_label: str) -> None:
        if rules.get(name) is None:
            return
        params[name] = Decimal(str(rules[name]))
        limit = f"(({base}) * ${name})"
        fail = f"x.activity_price_fen > {limit}"
        close = f"x.activity_price_fen <= {limit} * (1 + {margin(name)})"
        share = f"CASE WHEN ${name} = 1 THEN '' ELSE '的' || {_num(f'${name} * 100')} || '%' END"
        text = (
            f"'活动价' || {_yuan('x.activity_price_fen')} || '高于{base_label}' || "
            f"{_yuan(base)} || {share}"
        )
        hard.append(f"CASE WHEN {fail} AND NOT ({close}) THEN {text} END")
        # Nothing to compare with: a person checks the price.
        near.append(
            f"CASE WHEN ({base}) IS NULL THEN '无{base_label}可比,待人工核实价格' "
            f"WHEN {fail} AND {close} THEN {text} || '(差距在容差内,待人工)' END"
        )

    if rules.get("min_level") is not None:
        params["min_level"] = rules["min_level"]
        params["min_rank"] = LEVELS.index(rules["min_level"])
        hard.append(
            "CASE WHEN x.level IS NULL THEN '商品尚未评级,活动要求' || $min_level "
            "WHEN CAST(substr(x.level, 2) AS INTEGER) < $min_rank "
            "THEN '等级' || x.level || '低于活动要求' || $min_level END"
        )
    if rules.get("required_benefit") is not None:
        params["benefit"] = rules["required_benefit"]
        params["benefit_levels"] = list(benefit_levels)
        hard.append(
            "CASE WHEN x.level IS NULL THEN '商品尚未评级,活动要求权益' || $benefit "
            "WHEN NOT list_contains(CAST($benefit_levels AS VARCHAR[]), x.level) "
            "THEN '等级' || x.level || '没有活动要求的权益' || $benefit END"
        )
    minimum(
        "min_commission_rate",
        "x.commission_rate",
        _pct("x.commission_rate"),
        "佣金比例",
        "未提供佣金比例",
    )
    minimum(
        "min_service_fee_rate",
        "x.service_fee_rate",
        _pct("x.service_fee_rate"),
        "服务费率",
        "未提供服务费率",
    )
    minimum("min_stock", "x.stock", "CAST(x.stock AS VARCHAR)", "活动库存", "未提供活动库存")
    minimum("min_shop_score", "x.shop_score", _num("x.shop_score"), "店铺评分", "缺少店铺评分")
    maximum("max_price_vs_list", "x.list_price_fen", "划线价")
    maximum("max_price_vs_lowest", "x.lowest_fen", "近期最低价")
    if rules.get("sample_required"):
        hard.append("CASE WHEN NOT coalesce(x.sample, false) THEN '未提供样品,活动要求寄样' END")
    hard.append(
        "CASE WHEN len($categories) > 0 AND NOT list_contains($categories, x.category_l1) "
        "THEN '类目' || coalesce(x.category_l1, '(无)') || '不在活动类目内(' || "
        "array_to_string($categories, '、') || ')' END"
    )
    hard.append(
        "CASE WHEN len($merchants) > 0 AND NOT list_contains($merchants, x.merchant_id) "
        "THEN '商家' || x.merchant_id || '不在本活动的招商名单内' END"
    )
    lowest = ""
    if rules.get("max_price_vs_lowest") is not None:
        lowest = """, seen AS (
            SELECT c.product_id, min(TRY_CAST(v AS BIGINT)) AS fen
            FROM product_changes c JOIN imports i USING (import_id),
                 unnest([c.old_value, c.new_value]) AS t(v)
            WHERE c.field = 'live_price' AND CAST(i.started_at AS DATE) >= $lowest_from
              AND c.product_id IN (SELECT product_id FROM apps)
            GROUP BY c.product_id
        )"""
    lowest_join = "LEFT JOIN seen s USING (product_id)" if lowest else ""
    lowest_expr = (
        "least(a.lowest_price_fen, p.live_price_fen, s.fen)" if lowest else "a.lowest_price_fen"
    )
    sql = f"""
        WITH apps AS (SELECT * FROM applications WHERE activity_id = $activity_id),
        graded AS (
            SELECT product_id, arg_max(level, as_of) AS level FROM grades
            WHERE as_of <= $today AND as_of >= {grade_floor("$today")}
              AND product_id IN (SELECT product_id FROM apps)
            GROUP BY product_id
        ), shop_scores AS (  -- a product new to haowu: its shop's score from the others
            SELECT merchant_id, min(shop_score) AS shop_score FROM products
            WHERE merchant_id IN (SELECT merchant_id FROM apps) GROUP BY merchant_id
        ){lowest},
        x AS (
            SELECT a.product_id, a.merchant_id, a.activity_price_fen, g.level,
                   coalesce(a.commission_rate, p.commission_rate) AS commission_rate,
                   coalesce(a.service_fee_rate, p.service_fee_rate) AS service_fee_rate,
                   coalesce(a.stock, p.stock) AS stock,
                   coalesce(a.shop_score, p.shop_score, ms.shop_score) AS shop_score,
                   coalesce(a.sample, p.sample) AS sample,
                   coalesce(a.category_l1, p.category_l1) AS category_l1,
                   coalesce(a.list_price_fen, p.list_price_fen) AS list_price_fen,
                   {lowest_expr} AS lowest_fen
            FROM apps a LEFT JOIN products p USING (product_id)
            LEFT JOIN graded g USING (product_id) {lowest_join}
            LEFT JOIN shop_scores ms ON ms.merchant_id = a.merchant_id
        )
        SELECT x.product_id, x.merchant_id, x.level,
               {_reasons(hard)} AS hard, {_reasons(near)} AS near
        FROM x
    """
    return Query(sql, params)


# --- import of applications (报名) -------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationHooks:
    """What an import of applications adds around writing them (`ingest.columns.WriteHooks`):
    each row checked against its activity first (unknown activity, category outside it, past
    its deadline, a price above its rule, a merchant it does not take); after, the products
    not yet known are added from the applications, and the merchants' join dates kept."""

    activity_id: str | None
    config_dir: Path
    now: dt.datetime

    def before_write(
        self, con: duckdb.DuckDBPyConnection, rows: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, str]]]:
        import polars as pl

        from haowu_cli import store as db

        refused: list[dict[str, Any]] = []
        if "activity_id" not in rows.columns:
            rows = rows.with_columns(pl.lit(self.activity_id).alias("activity_id"))
        elif self.activity_id is not None:
            rows = rows.with_columns(pl.col("activity_id").fill_null(self.activity_id))
        activities: dict[str, Activity | None] = {}
        keep = []
        for row in rows.iter_rows(named=True):
            aid = row["activity_id"]
            if aid not in activities:
                found = db.activity_record(con, aid) if aid else None
                activities[aid] = activity_from_record(*found) if found else None
            problem = _application_problem(activities[aid], aid, row, self.now)
            if problem is None:
                keep.append(row["_row"])
            else:
                refused.append({"row": row["_row"], **problem})
        kept = rows.filter(pl.col("_row").is_in(keep)).with_columns(
            (pl.col("activity_id") + pl.lit("/") + pl.col("product_id")).alias("application_key")
        )
        if "joined_on" in kept.columns:  # 加入快分销日期: the merchant's, not the application's
            joined = kept.select("merchant_id", "joined_on").drop_nulls().unique("merchant_id")
            for merchant, day in joined.iter_rows():
                before = db.joined_on(con, merchant)
                db.set_joined(con, merchant, day, "application sheet", self.now)
                if before != day and db.has_orders(con, merchant):
                    # its orders re-split, as `haowu merchants joined` does
                    from haowu_cli import commission

                    commission.resplit(
                        con,
                        commission.load_rules(self.config_dir),
                        merchant=merchant,
                        what=f"application sheet: {merchant} joined {day}",
                    )
            kept = kept.drop("joined_on")
        refusals = pl.DataFrame(
            refused,
            schema={"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String},
        )
        return kept, refusals, []

    def after_write(self, con: duckdb.DuckDBPyConnection, import_id: int) -> tuple[int, int]:
        from haowu_cli import store as db

        db.add_products_from_applications(con, import_id)
        return (0, 0)


def _application_problem(
    activity: Activity | None, activity_id: str | None, row: dict[str, Any], now: dt.datetime
) -> dict[str, Any] | None:
    """Why an application row cannot be taken (column, value, reason), or None."""
    if activity is None:
        return {
            "column": "activity_id",
            "value": activity_id,
            "reason": _(
                "unknown activity {id}: create it first (haowu activity create FILE)"
            ).format(id=activity_id)
            if activity_id
            else _("no activity: give --activity ID or an 活动ID column"),
        }
    if activity.apply_until is not None and now > activity.apply_until:
        return {
            "column": "activity_id",
            "value": activity.activity_id,
            "reason": _("报名 closed on {deadline}").format(
                deadline=activity.apply_until.strftime("%Y-%m-%d %H:%M")
            ),
        }
    merchant = row.get("merchant_id")
    if activity.merchants and merchant not in activity.merchants:
        return {
            "column": "merchant_id",
            "value": merchant,
            "reason": _("merchant {merchant} may not apply to activity {id}").format(
                merchant=merchant, id=activity.activity_id
            ),
        }
    category = row.get("category_l1")
    if activity.categories and category is not None and category not in activity.categories:
        return {
            "column": "category_l1",
            "value": category,
            "reason": _("category {category} is not one of the activity's ({categories})").format(
                category=category, categories="、".join(activity.categories)
            ),
        }
    ratio = activity.rules.get("max_price_vs_list")
    price, listed = row.get("activity_price"), row.get("list_price")
    if ratio is not None and price is not None and listed is not None:
        limit = Decimal(listed) * Decimal(str(ratio))
        if Decimal(price) > limit:
            from haowu_cli.formats import fen_text

            return {
                "column": "activity_price",
                "value": fen_text(price),
                "reason": _(
                    "activity price above the rule: at most ¥{limit} (list price ¥{listed} × "
                    "{ratio}, max_price_vs_list)"
                ).format(limit=fen_text(int(limit)), listed=fen_text(listed), ratio=ratio),
            }
    return None


def application_hooks(
    activity_id: str | None, now: dt.datetime
) -> Callable[[Path], ApplicationHooks]:
    """The kind's hooks factory for `--activity ID` (the pipeline hands it the config folder)."""

    def make(config_dir: Path) -> ApplicationHooks:
        return ApplicationHooks(activity_id=activity_id, config_dir=config_dir, now=now)

    return make


def beijing_now() -> dt.datetime:
    """Now in Beijing as a naive datetime (activity times are written in Beijing time); with
    HAOWU_TODAY set, that day at the current Beijing time of day."""
    import os

    from haowu_cli import dates

    now = dt.datetime.now(dates.BEIJING).replace(tzinfo=None)
    if os.environ.get("HAOWU_TODAY", "").strip():
        return dt.datetime.combine(dates.today(), now.time())
    return now


# --- what the commands do --------------------------------------------------------------------


def create_activity(store: Store, path: Path, config_dir: Path) -> tuple[Activity, bool]:
    """Check an activity file and save it (in place of an activity of the same ID, whose
    applications and decisions stay). Returns the activity and whether it was new."""
    from haowu_cli import store as db

    book = load_rule_book(config_dir)
    activity = load_activity_file(path, book)
    windows = [
        {"name": w.name, "kind": w.kind, "starts_at": w.starts_at, "ends_at": w.ends_at}
        for w in activity.windows
    ]
    new = db.write_transaction(
        store, lambda con: db.save_activity(con, activity.record(), windows, beijing_now())
    )
    return activity, new


@dataclass
class ReviewResult:
    activity: Activity
    summary: dict[str, int]  # passed, rejected, manual, kept, recorded, applications
    changed: list[dict[str, Any]]  # the first applications whose outcome changed
    dry_run: bool

    def counts(self) -> dict[str, int]:
        return {k: self.summary[k] for k in ("passed", "rejected", "manual")}

    def as_json(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity.activity_id,
            "dry_run": self.dry_run,
            "rules_fingerprint": self.activity.fingerprint,
            "applications": self.summary["applications"],
            **self.counts(),
            "kept_manual": self.summary["kept"],
            "decisions_recorded": self.summary["recorded"],
        }


def review(store: Store, activity_id: str, config_dir: Path, *, dry_run: bool) -> ReviewResult:
    """Review every application of an activity by its rules and the latest grades; record a
    decision where the outcome changed, never over a person's (none in a dry run)."""
    from haowu_cli import dates
    from haowu_cli import store as db

    book = load_rule_book(config_dir)
    if not store.exists():
        require_activity(store, activity_id)  # says there is none

    def write(con: duckdb.DuckDBPyConnection) -> ReviewResult:
        found = db.activity_record(con, activity_id)
        if found is None:
            raise no_activity(con, activity_id)
        activity = activity_from_record(*found)
        query = review_query(activity, book, dates.today(), benefit_levels(activity, config_dir))
        summary, changed = db.review_activity(
            con,
            query,
            activity_id=activity.activity_id,
            fingerprint=activity.fingerprint,
            decided_at=beijing_now(),
            dry_run=dry_run,
        )
        return ReviewResult(activity=activity, summary=summary, changed=changed, dry_run=dry_run)

    return db.write_transaction(store, write, scratch=dry_run)


def benefit_levels(activity: Activity, config_dir: Path) -> tuple[str, ...]:
    """The levels whose 权益 (grading.yaml `benefits`) include the activity's
    `required_benefit`; () when it requires none. A 权益 no level grants is refused: every
    product would fail it."""
    from haowu_cli.grading import load_model

    wanted = activity.rules.get("required_benefit")
    if wanted is None:
        return ()
    benefits = load_model(config_dir).benefits
    levels = tuple(level for level in LEVELS if wanted in benefits.get(level, ()))
    if not levels:
        raise UsageError(
            _("activity {activity}: no level grants the 权益 {benefit}").format(
                activity=activity.activity_id, benefit=wanted
            ),
            hint=_("the 权益 per level are grading.yaml's benefits"),
        )
    return levels


def decide(
    store: Store, activity_id: str, product_id: str, verdict: str, reason: str | None, by: str
) -> None:
    """A person's decision (pass or reject) on one application; a review never overrides it."""
    from haowu_cli import dates
    from haowu_cli import store as db

    if verdict not in ("pass", "reject"):
        raise UsageError(_("expected pass or reject, got {value!r}").format(value=verdict))
    if verdict == "reject" and not (reason or "").strip():
        raise UsageError(
            _("a rejection needs a reason the merchant can act on"),
            hint=_('add --reason "…", e.g. --reason "价格高于近期最低价"'),
        )
    activity = require_activity(store, activity_id)
    found = db.write_transaction(
        store,
        lambda con: db.record_decision(
            con,
            activity_id=activity.activity_id,
            product_id=product_id,
            status="passed" if verdict == "pass" else "rejected",
            reasons=[reason.strip()] if reason and reason.strip() else [],
            decided_by=by,
            fingerprint=activity.fingerprint,
            decided_at=beijing_now(),
            today=dates.today(),
        ),
    )
    if not found:
        raise UsageError(
            _("activity {id} has no application for product {product}").format(
                id=activity.activity_id, product=product_id
            ),
            hint=_("see its applications with: haowu activity show {id}").format(
                id=activity.activity_id
            ),
        )


def applications(store: Store, activity_id: str) -> tuple[Activity, pl.DataFrame]:
    """An activity's applications with their latest decision (`store.activity_applications`)."""
    from haowu_cli import store as db

    activity = require_activity(store, activity_id)
    with store.read() as con:
        return activity, db.activity_applications(con, activity.activity_id)


def results_frame(apps: pl.DataFrame) -> pl.DataFrame:
    """The review results merchants get back, per merchant: product, price, 审核结果 and its
    reasons (every failed rule), when and by whom."""
    import polars as pl

    from haowu_cli.formats import percent, timestamp, yuan

    return apps.select(
        "merchant_id",
        "product_id",
        "title",
        "category_l1",
        yuan(pl.col("activity_price_fen")).alias("activity_price"),
        percent(pl.col("commission_rate")).alias("commission_rate"),
        pl.col("stock"),
        pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("result"),
        pl.col("reasons").list.join("；").alias("reasons"),
        timestamp(pl.col("decided_at")).alias("decided_at"),
        "decided_by",
    )


RESULT_KINDS = {
    "merchant_id": "id",
    "product_id": "id",
    "activity_price": "money",
    "stock": "number",
}


def audit_json(apps: pl.DataFrame) -> list[dict[str, Any]]:
    """The platform's audit shape for an uploader: decided applications only (itemId,
    itemAuditStatus 2 通过 / 3 拒绝, reason)."""
    decided = apps.filter(apps["status"].is_in(["passed", "rejected"]))
    return [
        {
            "itemId": row["product_id"],
            "itemAuditStatus": STATUS_CODES[row["status"]],
            "reason": "；".join(row["reasons"]),
        }
        for row in decided.iter_rows(named=True)
    ]
