"""What a table shown to people is made of, independent of what draws it: the core (reports)
describes its tables with these; `render` draws them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """A column of a terminal table: the frame's column, its heading, how it is aligned."""

    name: str
    heading: str
    justify: str = "left"
    max_width: int | None = None
