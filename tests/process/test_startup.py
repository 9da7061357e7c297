"""Start-up through the real process: `--help` and the read commands import only what they
use (issue 18), so that a read command on a small database costs little more than importing
DuckDB and Polars. Python's own import log (PYTHONPROFILEIMPORTTIME, the environment form of
`-X importtime`) names every module the installed `haowu` loads."""

from __future__ import annotations

import re

import pytest

# Never needed to list, count or show what is in the database: pyarrow (DuckDB hands results to
# Polars through the Arrow C interface), pydantic (option values are parsed without it:
# `haowu_cli/typer_values.py`), the solver, the Excel writer and reader, the page templates.
HEAVY = {
    "pyarrow",
    "pydantic",
    "pydantic_core",
    "highspy",
    "xlsxwriter",
    "python_calamine",
    "jinja2",
}

READ_COMMANDS = [
    ["anchors", "--format", "csv"],
    ["products", "--limit", "1"],
    ["products", "--format", "json", "--limit", "2"],
    ["commission"],
    ["commission", "--by", "merchant", "--paid-from", "2026-01-01", "--format", "csv"],
    ["sessions"],
    ["grade", "changes", "--format", "csv"],
]


def imported(err: str) -> set[str]:
    """The top-level packages named in Python's import log on stderr."""
    names = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s+([\w.]+)\s*$", err, re.MULTILINE)
    return {name.split(".")[0] for name in names}


def test_the_import_log_is_read(haowu):
    ran = haowu("--version", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran
    assert {"haowu_cli", "typer"} <= imported(ran.err)


@pytest.mark.parametrize("args", [["--help"], ["anchors", "--help"], ["commission", "--help"]])
def test_help_loads_no_data_library(haowu, args):
    ran = haowu(*args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran
    loaded = imported(ran.err)
    assert "typer" in loaded
    assert not loaded & (HEAVY | {"duckdb", "polars", "rich", "yaml"}), sorted(loaded)


@pytest.mark.parametrize("args", READ_COMMANDS, ids=" ".join)
def test_a_read_command_loads_only_what_it_uses(haowu, demo_db, args):
    ran = haowu("--db", demo_db, "--quiet", *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert ran.code == 0, ran
    loaded = imported(ran.err)
    assert {"duckdb", "polars"} <= loaded  # the log is complete: it names what the work needs
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_command_signatures_are_read_without_evaluating_strings():
    """Typer reads the signature of every command at each start (twice each): with
    `from __future__ import annotations` every annotation is a string it must evaluate, which
    cost a read command about 15 ms. The command modules keep real annotations."""
    import importlib
    import pkgutil

    import haowu_cli.commands

    names = ["haowu_cli.cli"] + [
        f"haowu_cli.commands.{info.name}"
        for info in pkgutil.iter_modules(haowu_cli.commands.__path__)
    ]
    for name in names:
        module = importlib.import_module(name)
        assert "annotations" not in vars(module), f"{name}: from __future__ import annotations"


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["sessions"], "sessions"),
        (["--db", "x.duckdb", "-q", "products", "--limit", "1"], "products"),
        (["--db=x.duckdb", "--lang", "en", "grade", "changes"], "grade"),
        (["--quiet", "--", "sessions"], None),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_a_start_builds_is_the_one_named(argv, named):
    """A start builds the parameters of the command it runs only (about 20 ms for the whole
    tree); without a command name, or with one haowu does not have, the whole tree."""
    import typer.main

    from haowu_cli.cli import app, only_the_command

    built = typer.main.get_command(only_the_command(app, argv))
    whole = typer.main.get_command(app)
    assert sorted(built.commands) == ([named] if named else sorted(whole.commands))
    assert [p.name for p in built.params] == [p.name for p in whole.params]
    misspelt = only_the_command(app, ["--db", "x", "sesions"])
    assert misspelt is app  # Click's "Did you mean 'sessions'?" needs every name


def test_a_narrowed_start_still_refuses_and_suggests_as_before(haowu, demo_db):
    ran = haowu("--db", demo_db, "sesions")
    assert ran.code == 2, ran
    assert "sessions" in ran.err
    ran = haowu("--db", demo_db, "sessions", "--bogus")
    assert ran.code == 2, ran
    assert "--bogus" in ran.err
    ran = haowu("sessions", "--db", demo_db, "--format", "csv")  # the global option after it
    assert ran.code == 0, ran
    assert ran.out.startswith("plan_id,")
