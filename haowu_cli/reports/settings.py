"""`configs/reports.yaml`: what the reports judge by, checked, every problem at once.

Thresholds become whole parts per million and money whole fen, so every comparison a report
makes is integer arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from haowu_cli.commission import PPM
from haowu_cli.config import ConfigDoc, load_config_file, number, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError
from haowu_cli.formats import fen_text
from haowu_cli.i18n import _

REPORTS_FILE = "reports.yaml"


@dataclass(frozen=True)
class Milestone:
    name: str
    gmv_fen: int


@dataclass(frozen=True)
class ReportRules:
    beat_ppm: int  # GMV ≥ beat × expected: beat
    missed_ppm: int  # GMV < missed × expected: missed
    regular_min_achievement_ppm: int
    regular_max_refund_ppm: int
    regular_min_orders: int
    milestones: tuple[Milestone, ...]  # from the lowest
    merchant_gmv: str  # paid | net
    closest: int


def load_report_rules(config_dir: Path) -> ReportRules:
    doc = load_config_file(config_dir, REPORTS_FILE)
    problems: list[str] = []
    data = top_level(doc, {"session", "merchants"}, problems)

    def section(*path: str) -> dict:
        value: object = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, dict):
            problems.append(
                _("{where}: expected a mapping of settings").format(where=doc.where(*path))
            )
            return {}
        return value

    def ppm(path: tuple, value: object, *, high: float | None = None) -> int:
        rate = number(
            doc, path, value, problems, low=0, high=high, what=_("a fraction of 0 or more")
        )
        return int(Decimal(str(rate)) * PPM)

    session, regulars = section("session"), section("session", "regulars")
    unknown_keys(doc, session, ("session",), {"beat", "missed", "regulars"}, problems)
    unknown_keys(
        doc,
        regulars,
        ("session", "regulars"),
        {"min_achievement", "max_refund_rate", "min_orders"},
        problems,
    )
    before = len(problems)
    beat = ppm(("session", "beat"), session.get("beat"))
    missed = ppm(("session", "missed"), session.get("missed"))
    if len(problems) == before and missed > beat:
        problems.append(
            _("{where}: missed is above beat").format(where=doc.where("session", "missed"))
        )

    merchants = section("merchants")
    unknown_keys(doc, merchants, ("merchants",), {"milestones", "gmv", "closest"}, problems)
    gmv = merchants.get("gmv", "paid")
    if gmv not in ("paid", "net"):
        problems.append(
            _("{where}: expected paid or net, got {gmv!r}").format(
                where=doc.where("merchants", "gmv"), gmv=gmv
            )
        )
    rules = ReportRules(
        beat_ppm=beat,
        missed_ppm=missed,
        regular_min_achievement_ppm=ppm(
            ("session", "regulars", "min_achievement"), regulars.get("min_achievement")
        ),
        regular_max_refund_ppm=ppm(
            ("session", "regulars", "max_refund_rate"), regulars.get("max_refund_rate"), high=1
        ),
        regular_min_orders=whole(
            doc,
            ("session", "regulars", "min_orders"),
            regulars.get("min_orders"),
            problems,
            low=0,
            high=10**9,
            what=_("a whole number of orders"),
        ),
        milestones=_milestones(doc, merchants.get("milestones"), problems),
        merchant_gmv=gmv,
        closest=whole(
            doc,
            ("merchants", "closest"),
            merchants.get("closest", 10),
            problems,
            low=1,
            high=10_000,
            what=_("a number of merchants from 1"),
        ),
    )
    if problems:
        raise ConfigError(problems)
    return rules


def _milestones(doc: ConfigDoc, section: object, problems: list) -> tuple[Milestone, ...]:
    if not isinstance(section, list) or not section:
        problems.append(
            _("{where}: expected a list of {{name, gmv}}").format(
                where=doc.where("merchants", "milestones")
            )
        )
        return ()
    found = []
    for index, spec in enumerate(section):
        path = ("merchants", "milestones", str(index))
        if not isinstance(spec, dict):
            problems.append(
                _("{where}: expected {{name: …, gmv: …}}").format(where=doc.where(*path))
            )
            continue
        unknown_keys(doc, spec, path, {"name", "gmv"}, problems)
        before = len(problems)
        number(doc, (*path, "gmv"), spec.get("gmv"), problems, low=0.01, what=_("yuan"))
        if len(problems) > before:
            continue
        fen = Decimal(str(spec["gmv"])) * 100  # from the YAML's own digits, not a float
        if fen != fen.to_integral_value():
            problems.append(
                _("{where}: {gmv} has more than two decimals").format(
                    where=doc.where(*path, "gmv"), gmv=spec["gmv"]
                )
            )
        yuan = fen_text(int(fen), grouped=True).removesuffix(".00")
        found.append(Milestone(str(spec.get("name") or f"¥{yuan}"), int(fen)))
    amounts = [m.gmv_fen for m in found]
    if amounts != sorted(set(amounts)):
        problems.append(
            _("{where}: list the milestones from the lowest, each above the one before").format(
                where=doc.where("merchants", "milestones")
            )
        )
    return tuple(found)
