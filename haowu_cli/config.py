"""YAML configuration: where it lives, and loading it with file, key and line in every error.

Configuration files live in a config directory (`--config`, env `HAOWU_CONFIG`, else
`./configs` when present, else the defaults packaged with haowu). A file missing from the
chosen directory falls back to the packaged default, so a team leader can override one file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from haowu_cli.errors import ConfigError, UsageError
from haowu_cli.i18n import _

if TYPE_CHECKING:
    import yaml

_PACKAGE_DIR = Path(__file__).resolve().parent


def packaged_path(name: str) -> Path:
    """Path of a data folder shipped with haowu (`configs`, `sample_data`).

    A wheel carries them under `haowu_cli/_data/`; a source checkout (editable install) has
    them at the top of the repository.
    """
    inside = _PACKAGE_DIR / "_data" / name
    return inside if inside.exists() else _PACKAGE_DIR.parent / name


def resolve_config_dir(explicit: Path | None, *, given_by: str = "--config") -> Path:
    """The config folder: `explicit` (from `given_by`, `--config` or `HAOWU_CONFIG`) when
    given, which must be an existing folder (a typo must not grade with the packaged model);
    else `./configs` when present, else the packaged defaults."""
    if explicit is not None:
        if not explicit.is_dir():
            problem = _("is not a folder") if explicit.exists() else _("no such folder")
            sep = "=" if given_by.startswith("HAOWU_") else " "  # as the user wrote it
            raise UsageError(
                _("{given_by}{sep}{explicit}: {problem}").format(
                    given_by=given_by, sep=sep, explicit=explicit, problem=problem
                ),
                hint=_(
                    "give the folder of haowu's YAML settings, or leave it out to use "
                    "./configs when present, else the packaged defaults"
                ),
            )
        return explicit
    local = Path("configs")
    return local if local.is_dir() else packaged_path("configs")


@dataclass(frozen=True)
class ConfigDoc:
    """A loaded YAML file that remembers the line of every key, for error messages."""

    path: Path
    data: Any
    _lines: dict[tuple[str, ...], int]

    def line(self, *keys: str) -> int | None:
        """Line (1-based) where the value at this key path starts, or of its nearest parent."""
        path = tuple(keys)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None

    def where(self, *keys: str) -> str:
        """`file:line key.path` for a problem at this key path."""
        line = self.line(*keys)
        location = f"{self.path}:{line}" if line else str(self.path)
        return f"{location} {'.'.join(keys)}" if keys else location


def load_config_file(config_dir: Path, name: str) -> ConfigDoc:
    """Load `name` from `config_dir`, falling back to the packaged default of that file."""
    path = config_dir / name
    if not path.exists():
        path = packaged_path("configs") / name
    if not path.exists():
        raise ConfigError(
            [_("{value}: file not found (and no packaged default)").format(value=config_dir / name)]
        )
    return load_yaml_file(path)


def load_yaml_file(path: Path) -> ConfigDoc:
    """Load any YAML file (a config, a session brief), remembering where each key is.

    Dates and times stay text (`date: 2026-12-02` is the string "2026-12-02"): YAML would
    build them itself and stop at the first impossible one (`2026-13-12`) without saying
    where; the checks that read a date report it with file, line and key among the file's
    other problems."""
    import yaml

    if path.is_dir():
        raise ConfigError([_("{path}: is a folder, not a YAML file").format(path=path)])
    if not path.is_file():
        raise ConfigError([_("{path}: file not found").format(path=path)])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([_("{path}: cannot read: {exc}").format(path=path, exc=exc)]) from exc
    loader = _text_dates_loader()(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [_("{where}: not valid YAML: {problem}").format(where=where, problem=problem)]
        ) from exc
    except ValueError as exc:  # a value an explicit tag asks for and YAML cannot build
        raise ConfigError(
            [_("{path}: not a valid value: {exc}").format(path=path, exc=exc)]
        ) from exc
    finally:
        loader.dispose()
    lines: dict[tuple[str, ...], int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return ConfigDoc(path=path, data=data, _lines=lines)


@cache
def _text_dates_loader() -> type:
    """yaml's SafeLoader without the implicit timestamp resolver."""
    import yaml

    # libyaml's parser when PyYAML has it (several times faster: every command reads its
    # configs, `haowu live` at each file that lands); resolving stays in Python either way.
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class TextDatesLoader(base):  # type: ignore[valid-type,misc]
        pass

    TextDatesLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return TextDatesLoader


def _record_lines(node: yaml.Node, prefix: tuple[str, ...], lines: dict) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = prefix + (str(key_node.value),)
            lines[key] = key_node.start_mark.line + 1
            _record_lines(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            key = prefix + (str(index),)
            lines[key] = item.start_mark.line + 1
            _record_lines(item, key, lines)


# --- checking a loaded file: each helper appends "file:line key: problem" to `problems` -------


def top_level(doc: ConfigDoc, known: set, problems: list) -> dict:
    """The file's top-level mapping (empty when it is not one, with the problem noted), its
    unknown keys noted too."""
    if not isinstance(doc.data, dict):
        problems.append(
            _("{where}: expected a mapping with {join}").format(
                where=doc.where(), join=", ".join(sorted(known))
            )
        )
        return {}
    unknown_keys(doc, doc.data, (), known, problems)
    return doc.data


def unknown_keys(doc: ConfigDoc, data: dict, path: tuple, known: set, problems: list) -> None:
    for key in data:
        if key not in known:
            problems.append(
                _("{where}: unknown key {key!r}; expected one of {join}").format(
                    where=doc.where(*path, str(key)), key=key, join=", ".join(sorted(known))
                )
            )


def number(
    doc: ConfigDoc,
    path: tuple,
    value: object,
    problems: list,
    *,
    low: float | None = None,
    high: float | None = None,
    what: str = "a number",
) -> float:
    """A finite number within [low, high]; 0.0 (and a problem) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(
            _("{where}: expected {what}, got {value!r}").format(
                where=doc.where(*path), what=what, value=value
            )
        )
        return 0.0
    if (low is not None and value < low) or (high is not None and value > high):
        problems.append(
            _("{where}: {value} is not {what}").format(
                where=doc.where(*path), value=value, what=what
            )
        )
    return float(value)


def whole(
    doc: ConfigDoc, path: tuple, value: object, problems: list, *, low: int, high: int, what: str
) -> int:
    """A whole number within [low, high]; `low` (and a problem) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(
            _("{where}: expected {what}, got {value!r}").format(
                where=doc.where(*path), what=what, value=value
            )
        )
        return low
    return value
