"""Option values parsed without pydantic (`haowu_cli/typer_values.py`) are parsed exactly as
Typer parses them: the same value when both accept, Typer's own refusal otherwise."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import typer.core
import typer.main
from hypothesis import given, settings
from hypothesis import strategies as st
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param as typers_own

from haowu_cli.cli import app
from haowu_cli.typer_values import _NotPlain, plain_value


def parameters() -> list[tuple[str, object, Context]]:
    """Every option and argument of the real app that takes a value, with its command's
    context."""
    found = []

    def walk(command, path: list[str]) -> None:
        context = Context(command)
        for param in command.params:
            if getattr(param, "is_flag", False):
                continue
            found.append((" ".join([*path, param.name]), param, context))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


PARAMETERS = parameters()
IDS = [name for name, _, _ in PARAMETERS]

SAMPLES = [
    "csv", "JSON", "table", "party", "merchant", "orders", "products", "text", "json ",
    "1", "0", "-1", "007", "+1", " 1", "1_000", "1.0", "1.5", ".5", "1e3", "nan", "inf", "１",
    "120", "0.1", "0.05", "99999999999999999999",
    "2026-11-30", "2026-11", "2026-1-5", "2026/11/30", "2026-11-30 ", "2026-02-30",
    "haowu.duckdb", "-", "", ".", "out.xlsx", "a b/c.csv", "x\x00y",
    "B0001", "面霜", "--quiet",
]  # fmt: skip


def outcome(param, context, runtime, value):
    """What a runtime parameter makes of `value`: ("ok", value, its type), ("refused", the
    message), or the error it raises (Typer's own: "embedded null byte" from a path's stat)."""
    try:
        result = runtime._coerce_value(value, param=param, ctx=context)
    except BadParameter as exc:
        return ("refused", exc.format_message())
    except Exception as exc:
        return ("raised", type(exc), str(exc))
    return ("ok", result, type(result))


@pytest.mark.parametrize(("name", "param", "context"), PARAMETERS, ids=IDS)
def test_every_option_parses_as_typer_does(name, param, context):
    ours = typer.core.build_runtime_param(param.type_descriptor)
    theirs = typers_own(param.type_descriptor)
    values = [*SAMPLES, param.default] if param.default is not None else SAMPLES
    if param.multiple or param.nargs == -1:
        values = [[v] for v in values] + [["1", "2026-11-30"], ("a", "b")]
    for value in values:
        assert outcome(param, context, ours, value) == outcome(param, context, theirs, value), (
            name,
            value,
        )


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(0, len(PARAMETERS) - 1),
    value=st.text(alphabet="0123456789-+._ eE:/abcsvjonT", max_size=12),
)
def test_any_text_parses_as_typer_does(index, value):
    _, param, context = PARAMETERS[index]
    if param.multiple or param.nargs == -1:
        value = [value]
    ours = typer.core.build_runtime_param(param.type_descriptor)
    theirs = typers_own(param.type_descriptor)
    assert outcome(param, context, ours, value) == outcome(param, context, theirs, value)


def by_name(name: str):
    return next((param, context) for n, param, context in PARAMETERS if n == name)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("db", "shop.duckdb", Path("shop.duckdb")),
        ("lock_timeout", "5", 5.0),
        ("lock_timeout", 120.0, 120.0),
        ("products limit", "1", 1),
        ("products fmt", "csv", "csv"),
        ("commission start", "2026-01-01", datetime(2026, 1, 1)),
        ("report merchants month", "2026-11", datetime(2026, 11, 1)),
        ("import files", ["a.csv", "b.xlsx"], [Path("a.csv"), Path("b.xlsx")]),
        ("plan-session pin", ["P1"], ["P1"]),
    ],
)
def test_plain_values_need_no_pydantic(name, value, expected):
    param, context = by_name(name)
    descriptor = param.type_descriptor
    parsed = plain_value(descriptor.annotation, descriptor.parameter_info, value, context, param)
    assert parsed == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("products limit", "0"), ("products limit", "x"), ("commission start", "2026/01/01")],
)
def test_what_is_not_plain_is_left_to_typer(name, value):
    param, context = by_name(name)
    descriptor = param.type_descriptor
    with pytest.raises(_NotPlain):
        plain_value(descriptor.annotation, descriptor.parameter_info, value, context, param)
