"""The catalogs against the source: every message a person reads (marked `_`, `ngettext`, `N_`,
or a command's docstring) is in the Chinese catalog and translated, the catalog holds nothing
the source no longer says, and the compiled `.mo` the package ships is the `.po` compiled.
Run scripts/update-translations after changing a message, then translate what it adds."""

from __future__ import annotations

import re

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from haowu_cli import i18n
from haowu_cli.i18n_extract import CATALOG, extract_catalog

MO = CATALOG.with_suffix(".mo")


@pytest.fixture(scope="module")
def extracted():
    return {(m.id, m.context) for m in extract_catalog() if m.id}


@pytest.fixture(scope="module")
def catalog():
    with CATALOG.open("rb") as fileobj:
        return read_po(fileobj)


def _text(value) -> str:
    return value if isinstance(value, str) else value[0]


def test_every_message_shown_is_in_the_catalog(extracted, catalog):
    missing = sorted(_text(m) for m, context in extracted if catalog.get(m, context) is None)
    assert not missing, f"not in {CATALOG.name} (run scripts/update-translations): {missing}"


def test_every_message_in_the_catalog_is_translated(catalog):
    untranslated = [
        _text(m.id)
        for m in catalog
        if m.id
        and not all(_text(s) for s in ([m.string] if isinstance(m.string, str) else m.string))
    ]
    assert not untranslated, f"untranslated in {CATALOG.name}: {untranslated}"
    fuzzy = [_text(m.id) for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy (unchecked) in {CATALOG.name}: {fuzzy}"


def test_the_catalog_holds_no_stale_message(extracted, catalog):
    stale = sorted(_text(m.id) for m in catalog if m.id and (m.id, m.context) not in extracted)
    assert not stale, f"no longer in the source (run scripts/update-translations): {stale}"
    assert not catalog.obsolete, f"obsolete entries: {list(catalog.obsolete)}"


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}", text.replace("{{", "").replace("}}", "")))


def test_translations_keep_the_placeholders(catalog):
    """A translation fills the placeholders its message fills: the same as the id, or for a
    count (Chinese has one form for every number), those of either English form."""
    wrong = []
    for m in catalog:
        if not m.id:
            continue
        if isinstance(m.id, str):
            if _placeholders(m.id) != _placeholders(_text(m.string)):
                wrong.append((m.id, m.string))
            continue
        either = set(_placeholders(m.id[0])) | set(_placeholders(m.id[1]))
        for form in m.string:
            if not set(_placeholders(form)) <= either or not form:
                wrong.append((m.id, form))
    assert not wrong, f"placeholders differ: {wrong}"


def test_the_catalog_compiles_without_errors(catalog):
    """What `pybabel compile` checks (scripts/update-translations): Babel takes a `%` followed
    by a space and a letter ("20% or") for a %-placeholder, so such a message must keep it in
    its translation; haowu's messages are written so that none looks like one."""
    errors = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert not errors, errors


def test_the_shipped_mo_is_the_po_compiled(catalog):
    """A .mo older than or different from its .po: someone edited the .po and did not
    compile it, so haowu would still show the old text."""
    assert MO.exists(), f"{MO} missing: run scripts/update-translations"
    with MO.open("rb") as fileobj:
        compiled = read_mo(fileobj)

    def entries(messages):  # plural entries: their ids and forms as tuples
        def plain(value):
            return tuple(value) if isinstance(value, (list, tuple)) else value

        return {(plain(m.id), m.context): plain(m.string) for m in messages if m.id}

    in_po, in_mo = entries(catalog), entries(compiled)
    assert in_mo == in_po, "the .mo differs from the .po: run scripts/update-translations"
    assert MO.stat().st_mtime >= CATALOG.stat().st_mtime - 1, "the .mo is older than the .po"


def test_an_empty_message_stays_empty():
    """A blank heading (the figures' value column) is `_("")`: never the catalog's header."""
    for code in ("zh", "en"):
        with i18n.language(code):
            assert i18n._("") == ""


def test_the_language_machinery():
    with i18n.language("zh"):
        assert i18n._("aborted") == "已中止"
        with i18n.language("en"):
            assert i18n._("aborted") == "aborted"
        assert i18n.current() == "zh"
    assert i18n.normalise("zh-CN") == "zh" and i18n.normalise("en_US.UTF-8") == "en"
    assert i18n.normalise("fr") is None
    with pytest.raises(ValueError), i18n.language("fr"):
        pass


def test_every_help_text_of_the_command_tree_is_in_the_catalog(catalog):
    """A help text written without `N_` is not extracted, so the test above cannot see it,
    and it shows in English in Chinese `--help`: every command's and option's help must be a
    message of the catalog."""
    import typer.main

    from haowu_cli.cli import app

    ids = {m.id for m in catalog if m.id}
    missing = []

    def walk(command, path: str) -> None:
        for text in (command.help, *(getattr(p, "help", None) for p in command.params)):
            if text and text not in ids:
                missing.append(f"{path or 'haowu'}: {text[:60]!r}")
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{path} {name}".strip())

    walk(typer.main.get_command(app), "")
    assert not missing, "help texts not marked for translation (N_): " + "; ".join(missing)
