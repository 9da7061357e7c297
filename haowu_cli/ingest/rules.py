"""The rules of `configs/imports.yaml`: the largest amount a sheet may hold, the dates it may
hold, and the labels of a totals row. The day of the import is `dates.today()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from haowu_cli.config import ConfigDoc, load_config_file, top_level, unknown_keys, whole
from haowu_cli.errors import ConfigError
from haowu_cli.i18n import _

IMPORTS_FILE = "imports.yaml"
# The split multiplies fen by parts per million (up to 1,000,000 + the pay-later extra) and
# BIGINT holds 9.2 × 10^18: a cap of ¥10^10 (10^12 fen) leaves it 9× headroom.
HIGHEST_AMOUNT_CAP_YUAN = 10_000_000_000


@dataclass(frozen=True)
class ImportRules:
    max_amount_fen: int
    future_tolerance_days: int
    earliest: dt.date
    totals_labels: tuple[str, ...]  # normalised with `label_form`
    where_amount: str  # `key in folder/imports.yaml`, for the reasons that name the bound
    where_future: str
    where_earliest: str

    def latest(self, today: dt.date) -> dt.date:
        """The latest date a sheet may hold when imported on `today`."""
        return today + dt.timedelta(days=self.future_tolerance_days)


def label_form(text: str) -> str:
    """How totals labels are compared: NFKC, lower case, no spaces, no trailing colon."""
    import unicodedata

    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(folded.split()).rstrip(":")


def load_import_rules(config_dir: Path) -> ImportRules:
    """`imports.yaml`, checked; every problem reported at once, with file, line and key."""
    doc = load_config_file(config_dir, IMPORTS_FILE)
    problems: list[str] = []
    data = top_level(doc, {"amount_max_yuan", "dates", "totals_labels"}, problems)
    cap = whole(
        doc,
        ("amount_max_yuan",),
        data.get("amount_max_yuan"),
        problems,
        low=1,
        high=HIGHEST_AMOUNT_CAP_YUAN,
        what=_("a whole number of yuan from 1 to {HIGHEST_AMOUNT_CAP_YUAN:,}").format(
            HIGHEST_AMOUNT_CAP_YUAN=HIGHEST_AMOUNT_CAP_YUAN
        ),
    )
    dates = data.get("dates")
    if not isinstance(dates, dict):
        problems.append(
            _("{where}: expected future_tolerance_days and earliest").format(
                where=doc.where("dates")
            )
        )
        dates = {}
    unknown_keys(doc, dates, ("dates",), {"future_tolerance_days", "earliest"}, problems)
    tolerance = whole(
        doc,
        ("dates", "future_tolerance_days"),
        dates.get("future_tolerance_days"),
        problems,
        low=0,
        high=366,
        what=_("0–366 days"),
    )
    earliest = _date(doc, ("dates", "earliest"), dates.get("earliest"), problems)
    labels = data.get("totals_labels")
    if not isinstance(labels, list) or not all(isinstance(x, str) and x.strip() for x in labels):
        problems.append(
            _("{where}: expected a list of labels (合计, 总计 …), got {labels!r}").format(
                where=doc.where("totals_labels"), labels=labels
            )
        )
        labels = []
    if problems:
        raise ConfigError(problems)
    return ImportRules(
        max_amount_fen=cap * 100,
        future_tolerance_days=tolerance,
        earliest=earliest,
        totals_labels=tuple(label_form(x) for x in labels),
        where_amount=_where(doc, "amount_max_yuan"),
        where_future=_where(doc, "dates.future_tolerance_days"),
        where_earliest=_where(doc, "dates.earliest"),
    )


def _where(doc: ConfigDoc, key: str) -> str:
    """`dates.earliest in configs/imports.yaml`: short, for a reason repeated on every row."""
    return f"{key} in {doc.path.parent.name}/{doc.path.name}"


def _date(doc: ConfigDoc, path: tuple, value: object, problems: list) -> dt.date:
    fallback = dt.date(1990, 1, 1)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = dt.date.fromisoformat(value)
    if not isinstance(value, dt.date) or not dt.date(1900, 1, 1) <= value <= dt.date(2100, 1, 1):
        problems.append(
            _("{where}: expected a date such as 1990-01-01, got {value!r}").format(
                where=doc.where(*path), value=value
            )
        )
        return fallback
    return value
