"""What a report is, whatever prints it: headline figures, tables and charts.

Each table carries two frames: `frame` for machines (stable columns, money as yuan text with
two decimals, rates and ratios as fractions) and `view` for people (¥ amounts, percentages,
bars). Charts are data; the terminal draws them as bar columns in the views, the page
(`reports.page`) as SVG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from haowu_cli.tables import Column


@dataclass(frozen=True)
class Figure:
    """A headline number: `key` and `value` for machines, `label` and `text` for people."""

    key: str
    label: str
    value: Any
    text: str


@dataclass
class Table:
    key: str  # its name in JSON and for `--table`
    title: str
    frame: pl.DataFrame
    view: pl.DataFrame
    columns: list[Column]
    empty: str = "none"  # said instead of an empty table


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]  # whole numbers (fen, counts): bars are drawn to scale from these
    texts: list[str]  # what each bar is labelled with


@dataclass(frozen=True)
class Chart:
    """`bars`: one bar per series for each label; `stacked`: the series stacked, each row to
    100%; `progress`: `series[0]` against `series[1]` (the target), a bar per label."""

    key: str
    title: str
    kind: str
    labels: list[str]
    series: list[Series]
    note: str = ""


@dataclass
class Report:
    kind: str  # session | merchants | grades
    title: str
    subtitle: str
    figures: list[Figure]
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What a reader must see before any figure (no order matched, the session is ahead):
    # under the title in the terminal and on the page, the first of the notes in JSON.
    alert: str | None = None

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def as_json(self) -> dict:
        """The documented JSON object: what the report is, its figures, its tables' rows."""
        return {
            "report": self.kind,
            "title": self.title,
            "subtitle": self.subtitle,
            "figures": {f.key: f.value for f in self.figures},
            "tables": {t.key: t.frame for t in self.tables},
            "notes": [self.alert, *self.notes] if self.alert else self.notes,
        }


def bar(value: int, widest: int, width: int = 20) -> str:
    """A text bar for a terminal table: `value` against the widest in its column."""
    if widest <= 0 or value <= 0:
        return ""
    return "█" * max(1, round(width * value / widest))
