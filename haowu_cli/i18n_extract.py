"""Babel extraction for haowu (`babel.cfg`, `scripts/update-translations`, tests/test_i18n.py).

Babel's Python extractor finds `_`, `ngettext` and `N_`. A command's `--help` text is its
function's docstring (Typer reads it), which the Python extractor does not see: the
`haowu_commands` method adds the docstring of every `…_command` function, cleaned as Typer
cleans it (`inspect.cleandoc`), since the command tree is translated when it is built
(`cli.translate_command_tree`). Babel is a development dependency (the `test` extra);
nothing imports this module at run time.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
CATALOG = Path(__file__).resolve().parent / "locale" / "zh_CN" / "LC_MESSAGES" / "haowu.po"


def extract_commands(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple]:
    """The messages Babel's Python extractor finds, plus the docstrings of commands."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    fileobj.seek(0)
    # Babel types an extractor's options as any mapping, its own extractor's as a TypedDict.
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    encoding = options.get("encoding", "utf-8")
    text = source.decode(encoding) if isinstance(source, bytes) else source
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_command"):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.body[0].lineno, "", inspect.cleandoc(doc), []


# Typer's own texts in the help and usage errors (Options, Commands, [default: …], [required]):
# the modules of Typer that call gettext, which `cli.speak_through_typer` points at haowu's
# catalog, so their messages are extracted into it too. (Typer's bundled Click writes
# "Usage:" and its errors without gettext: those stay English.)
TYPER_MODULES = ("typer/core.py", "typer/_click/parser.py")


def extract_catalog() -> Catalog:
    """Every message haowu shows, as a Babel `Catalog` (the template), read from the source
    the way `babel.cfg` says."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir, extract_from_file
    from babel.messages.frontend import parse_mapping_cfg

    with MAPPING.open(encoding="utf-8") as fileobj:
        method_map, options_map = parse_mapping_cfg(fileobj, filename=str(MAPPING))
    catalog = Catalog(project="haowu", domain="haowu", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, strip_comment_tags=True
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    import typer

    site = Path(typer.__file__).resolve().parent.parent
    for module in TYPER_MODULES:
        for lineno, message, comments, context in extract_from_file(
            "python", site / module, strip_comment_tags=True
        ):
            catalog.add(message, None, [(module, lineno)], auto_comments=comments, context=context)
    return catalog
