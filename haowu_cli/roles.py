"""The product roles of a session (引流款, 主推款, 利润款, 形象款) and the run sheet's notes for
the host (开场, 高峰, 收尾) as people read them.

A role is named in configs/session.yaml, and that name is the role's stable key: briefs, the
plan tables and machine output (`--format json|csv`) use it as written. On people's screens
the four roles haowu ships are words of the catalog like any other (English under
`--lang en`, Chinese by default); a role a team leader adds in the config is shown as named.
"""

from __future__ import annotations

from haowu_cli.i18n import N_, _, word

ROLE_WORDS = {
    "引流款": N_("deal item"),
    "主推款": N_("hero item"),
    "利润款": N_("margin item"),
    "形象款": N_("image item"),
}


def role_label(role: str) -> str:
    """`role` (as configs/session.yaml names it) in the language in use."""
    return word(ROLE_WORDS, role)


def role_labels() -> dict[str, str]:
    """Each shipped role's name in the language in use (for a frame's `replace`)."""
    return {role: _(words) for role, words in ROLE_WORDS.items()}


# The run sheet's notes for the host (store: plan_items.note), as the planner writes them.
NOTE_WORDS = {"开场": N_("opening"), "高峰": N_("peak"), "收尾": N_("closing")}


def note_label(note: str) -> str:
    """A run-sheet note in the language in use."""
    return word(NOTE_WORDS, note)
