"""The root `haowu` command: global options, subcommands, and errors mapped to exit codes.

`main()` runs the app and turns what goes wrong into one clear message and a documented exit
code (`errors.ExitCode`); the commands themselves only parse, call the core and print.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import Abort, Exit, TyperException

from haowu_cli.commands import (
    commission,
    demo,
    grading,
    importing,
    planning,
    products,
    reports,
)
from haowu_cli.commands.common import AppContext
from haowu_cli.config import resolve_config_dir
from haowu_cli.errors import ExitCode, HaowuError
from haowu_cli.render import Output
from haowu_cli.store import DEFAULT_LOCK_TIMEOUT

app = typer.Typer(
    name="haowu",
    help="Tools for 快分销 team leaders and merchants: import product sheets, grade "
    "products L0–L5, plan live sessions, split commissions, report, list and export them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Whether --traceback was given, for errors raised before or after the root callback runs.
_state = {"traceback": "--traceback" in sys.argv}


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path, typer.Option("--db", envvar="HAOWU_DB", help="The haowu database file.")
    ] = Path("haowu.duckdb"),
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="HAOWU_CONFIG",
            help="Folder of YAML settings [default: ./configs when present, else the "
            "packaged defaults].",
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="Print nothing but errors and warnings (for cron)."),
    ] = False,
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show the full traceback of an unexpected error.")
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help="Seconds to wait while another haowu command is writing to the database.",
        ),
    ] = DEFAULT_LOCK_TIMEOUT,
) -> None:
    _state["traceback"] = traceback
    ctx.obj = AppContext(
        db=db,
        config_dir=resolve_config_dir(config),
        quiet=quiet,
        traceback=traceback,
        lock_timeout=lock_timeout,
        out=Output(quiet=quiet),
    )


app.command("import")(importing.import_command)
app.command("products")(products.products_command)
app.command("anchors")(products.anchors_command)
app.add_typer(grading.grade_app, name="grade")
app.command("plan-session")(planning.plan_session_command)
app.add_typer(planning.sessions_app, name="sessions")
app.add_typer(products.export_app, name="export")
products.export_app.command("run-sheet")(planning.export_run_sheet_command)
app.command("commission")(commission.commission_command)
products.export_app.command("ledger")(commission.export_ledger_command)
products.export_app.command("orders")(commission.export_orders_command)
app.add_typer(reports.report_app, name="report")
app.command("demo")(demo.demo_command)


def main(argv: list[str] | None = None) -> int:
    """Run haowu; return (and exit with) its exit code."""
    # Polars' allocator keeps freed memory for seconds by default; a one-shot command would
    # rather hand it back at once, so a million-row import stays well under 1 GB.
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
    code = run(argv)
    sys.exit(code)


_INTERRUPTED = "interrupted: what was being written was rolled back"


def run(argv: list[str] | None = None) -> int:
    out = Output(quiet=False)
    try:
        result = app(args=argv, prog_name="haowu", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # Typer hands Ctrl-C back as this code
            out.error(_INTERRUPTED)
        return code
    except HaowuError as exc:
        out.error(exc.message, exc.hint)
        return exc.exit_code
    except Exit as exc:
        return exc.exit_code
    except Abort:
        out.error("aborted")
        return ExitCode.FAILED
    except KeyboardInterrupt:
        out.error(_INTERRUPTED)
        return ExitCode.INTERRUPTED
    except TyperException as exc:  # usage errors: bad option, missing argument
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:
            out.error(exc.format_message())
        return getattr(exc, "exit_code", ExitCode.USAGE)
    except Exception as exc:
        if _state["traceback"]:
            raise
        out.error(
            f"unexpected {type(exc).__name__}: {exc}",
            hint="this is a bug in haowu; run again with --traceback and report what it prints",
        )
        return ExitCode.FAILED
