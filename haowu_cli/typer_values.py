"""Option values parsed without pydantic, so that a command starts fast.

Typer (0.26+) turns every option's value, even an untouched default, into its Python type with a
pydantic `TypeAdapter`: importing pydantic and building the adapters costs a read command about
0.05–0.1 s of its start-up. The values haowu's options take (text, whole and decimal numbers,
paths, dates in a given format, choices from an enum, lists of those) need none of it, so each
parameter first tries the plain parse below. It only ever *accepts*: whenever a value is not
plainly well formed (`--limit abc`, `--limit 0` below its minimum, a date in another format),
it hands the value to Typer's own pydantic parsing, which refuses it with the message and exit
code it always has. So what is accepted is what Typer would accept, parsed to the same value
(`tests/test_typer_values.py` checks them against Typer's own), and every refusal reads as
before.

This leans on Typer internals (`typer.core.build_runtime_param`, `typer._coercion`): `install()`
changes nothing when they are not there, and haowu then starts as slowly as it did.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

_WHOLE = re.compile(r"-?[0-9]+")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")


class _NotPlain(Exception):
    """The value is not plainly well formed: let Typer parse (and refuse) it."""


def plain_value(annotation: Any, info: Any, value: Any, ctx: Any = None, param: Any = None) -> Any:
    """`value` (from the command line or a default) as `annotation`, parsed as Typer parses
    it; `_NotPlain` when Typer's own parsing must decide. `info` is Typer's ParameterInfo;
    `ctx` and `param` are Click's, for Typer's own messages about paths and choices."""
    if info.parser is not None or getattr(info, "clamp", False):
        raise _NotPlain
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        items = value if isinstance(value, list | tuple) else [value]
        return [plain_value(item_type, info, item, ctx, param) for item in items]
    if annotation is str and isinstance(value, str):
        return value
    if annotation is bool and isinstance(value, bool):
        return value
    if annotation is int:
        return _in_range(_whole(value), info)
    if annotation is float:
        return _in_range(_decimal(value), info)
    if annotation is datetime and info.formats:
        return _date(value, info.formats)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return _choice(annotation, info, value, ctx)
    if isinstance(annotation, type) and issubclass(annotation, Path) and info.path_type is None:
        return _path(annotation, info, value, ctx, param)
    raise _NotPlain


def _whole(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return int(value)
    raise _NotPlain


def _decimal(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    raise _NotPlain


def _in_range(number: int | float, info: Any) -> int | float:
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        raise _NotPlain
    return number


def _date(value: Any, formats: list[str]) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        for form in formats:
            try:
                return datetime.strptime(value, form)
            except ValueError:
                continue
    raise _NotPlain


def _choice(annotation: type[Enum], info: Any, value: Any, ctx: Any) -> Enum:
    from typer._param_types import coerce_cli_choice

    try:
        return coerce_cli_choice(
            value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx
        )
    except ValueError as exc:
        raise _NotPlain from exc


def _path(annotation: type[Path], info: Any, value: Any, ctx: Any, param: Any) -> Any:
    from typer._param_types import coerce_cli_path

    if isinstance(value, str) and value:
        value = annotation(value)
    if not isinstance(value, annotation):
        raise _NotPlain
    # Typer's own checks (exists, readable, resolve_path, …) and their messages
    try:
        return coerce_cli_path(value, info, path_type=annotation, param=param, ctx=ctx)
    except ValueError as exc:  # a name the system refuses ("embedded null byte")
        raise _NotPlain from exc


def install() -> None:
    """Parse option values with `plain_value` first, for every Typer command built after."""
    try:
        import typer.core
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:  # another Typer: keep its own parsing
        return
    if getattr(typer.core, "build_runtime_param", None) is not build_runtime_param:
        return

    class PlainFirst(RuntimeParam):
        """Typer's runtime parameter, with the plain parse tried first."""

        # Set in __init__ with object.__setattr__ (Typer's dataclass is frozen).
        _descriptor: Any
        _typers: Any

        def __init__(self, descriptor: Any) -> None:
            super().__init__(
                parameter_info=descriptor.parameter_info, annotation=descriptor.annotation
            )
            object.__setattr__(self, "_descriptor", descriptor)
            object.__setattr__(self, "_typers", None)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return plain_value(self.annotation, self.parameter_info, value, ctx, param)
            except _NotPlain:
                pass
            if self._typers is None:
                object.__setattr__(self, "_typers", build_runtime_param(self._descriptor))
            return self._typers._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        if descriptor.file_annotation is not None:
            return build_runtime_param(descriptor)
        return PlainFirst(descriptor)

    typer.core.build_runtime_param = build
