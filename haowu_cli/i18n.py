"""The language people read: Chinese (zh-CN) by default, English on request.

Every string a person reads is marked with `_` (or `ngettext` for a count) so that Babel's
extraction finds it (`scripts/update-translations`); the message id is English, with named
placeholders filled after translation: `_("{count} rows rejected").format(count=n)`.
Module-level constants are marked with `N_` and translated with `_` where they are shown,
since the language is chosen at run time.

The catalogs are standard gettext: `haowu_cli/locale/<lang>/LC_MESSAGES/haowu.po`, compiled
to `haowu.mo` beside it and shipped in the package. English needs no catalog: the ids are
English.

The language comes from, in order: `language(code)` (a block that needs another language,
such as a file's headers), `set_language` (the `--lang` option), the environment variable
`HAOWU_LANG`, then Chinese.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from functools import cache
from pathlib import Path

DOMAIN = "haowu"
LOCALE_DIR = Path(__file__).parent / "locale"
ENV_VAR = "HAOWU_LANG"

# The codes people give (`--lang`, `HAOWU_LANG`) and the gettext locale of each; None: the
# message ids themselves.
LANGUAGES: dict[str, str | None] = {"zh": "zh_CN", "en": None}
DEFAULT_LANGUAGE = "zh"


class Language(StrEnum):
    """The languages haowu speaks, as `--lang` and `--headers` take them."""

    zh = "zh"
    en = "en"


_chosen: ContextVar[str | None] = ContextVar("haowu_language", default=None)


def normalise(code: str | None) -> str | None:
    """The language `code` names ("zh", "zh-CN", "zh_CN.UTF-8", "EN", "en_US"), or None when
    it names none haowu speaks."""
    if not code:
        return None
    base = code.strip().split(".")[0].replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else None


def current() -> str:
    """The language in use now: "zh" or "en"."""
    return _chosen.get() or normalise(os.environ.get(ENV_VAR)) or DEFAULT_LANGUAGE


def set_language(code: str) -> None:
    """Use `code` ("zh" or "en") from now on (the `--lang` option)."""
    language_code = normalise(code)
    if language_code is None:
        raise ValueError(f"no such language: {code!r}")
    _chosen.set(language_code)


@contextmanager
def language(code: str) -> Iterator[str]:
    """Speak `code` in this block (a file's headers in another language than the
    messages: `--headers en`), then the language before it again."""
    language_code = normalise(code)
    if language_code is None:
        raise ValueError(f"no such language: {code!r}")
    token = _chosen.set(language_code)
    try:
        yield language_code
    finally:
        _chosen.reset(token)


@cache
def translations(code: str) -> gettext.NullTranslations:
    """The catalog of language `code`. A missing catalog is an error, not English in
    disguise: the package ships its `.mo` files."""
    locale = LANGUAGES[code]
    if locale is None:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[locale])


def _(message: str) -> str:
    """`message` (an English id) in the language in use. An empty message stays empty (to
    gettext the empty id is the catalog's header: a blank heading would show it)."""
    return translations(current()).gettext(message) if message else message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form for `count` of a message with a number: Chinese has one form, English two."""
    return translations(current()).ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """`message` in the language in use, as meant in `context` (a column key, "column")."""
    return translations(current()).pgettext(context, message)


def N_(message: str) -> str:
    """Marks a string for extraction without translating it: for module-level constants,
    which are translated with `_` where they are shown (the language is chosen at run time)."""
    return message


def word(words: dict[str, str], key: str) -> str:
    """`words[key]` (a message marked with `N_`) in the language in use; a key the table does
    not hold (a name a team leader added in a config) as it is."""
    message = words.get(key)
    return _(message) if message is not None else key
