"""Moving the global options written after a command name to the root (`cli.hoist_global_
options`), on the real command tree; and what `--quiet` keeps of the Output's messages."""

from __future__ import annotations

import io

import pytest
import typer.main

from haowu_cli.cli import app, hoist_global_options
from haowu_cli.render import Output

ROOT = typer.main.get_command(app)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["grade", "--quiet"], ["--quiet", "grade"]),
        (["import", "-q", "x.csv"], ["-q", "import", "x.csv"]),
        (["products", "--db", "x.duckdb"], ["--db", "x.duckdb", "products"]),
        (["products", "--db=x.duckdb", "-f", "csv"], ["--db=x.duckdb", "products", "-f", "csv"]),
        (
            ["--db", "a", "grade", "explain", "P1", "--config", "c", "--lock-timeout", "3"],
            ["--db", "a", "--config", "c", "--lock-timeout", "3", "grade", "explain", "P1"],
        ),
        (["sessions", "show", "1", "--traceback"], ["--traceback", "sessions", "show", "1"]),
        # a value of the command's own option stays, even when it looks like a global option
        (["products", "--search", "--quiet"], ["products", "--search", "--quiet"]),
        (["products", "--search=-q", "-q"], ["-q", "products", "--search=-q"]),
        # the demo has its own --db
        (["demo", "--db", "d.duckdb", "-q"], ["-q", "demo", "--db", "d.duckdb"]),
        # after `--`, nothing is an option
        (["import", "--", "--quiet", "-q"], ["import", "--", "--quiet", "-q"]),
        # before the command name nothing moves; no command, nothing to do
        (["--quiet", "products"], ["--quiet", "products"]),
        (["--version"], ["--version"]),
        (["products", "--db"], ["products", "--db"]),  # no value: Click says so
        ([], []),
    ],
)
def test_hoisting(argv, expected):
    assert hoist_global_options(argv, ROOT) == expected


def test_quiet_keeps_errors_and_warnings_only():
    loud_err, quiet_err = io.StringIO(), io.StringIO()
    for stream, quiet in ((loud_err, False), (quiet_err, True)):
        out = Output(stdout=io.StringIO(), stderr=stream, quiet=quiet)
        out.info("wrote x")
        out.notice("12 orders had no commission_rate")
        out.warn("3 rows rejected")
        out.error("broken", hint="fix it")
    assert quiet_err.getvalue() == "warning: 3 rows rejected\nerror: broken\nhint: fix it\n"
    assert loud_err.getvalue() == (
        "wrote x\nnote: 12 orders had no commission_rate\nwarning: 3 rows rejected\n"
        "error: broken\nhint: fix it\n"
    )
