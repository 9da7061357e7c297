"""What a table shown to people is made of, independent of what draws it: the core (reports)
describes its tables with these; `render` draws them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from haowu_cli.i18n import _


@dataclass(frozen=True)
class Column:
    """A column of a terminal table: the frame's column, its heading (an English message id,
    marked `N_` where it is written), how it is aligned."""

    name: str
    heading: str
    justify: Literal["left", "center", "right"] = "left"
    max_width: int | None = None
    # A cell's words for people where the frame holds a stable key (a role: roles.role_label)
    words: Callable[[str], str] | None = None

    @property
    def label(self) -> str:
        """The heading in the language in use."""
        return _(self.heading)

    def cell(self, value: object) -> str:
        """A value of this column as people read it ("" for none)."""
        if value is None:
            return ""
        return self.words(str(value)) if self.words is not None else str(value)
