"""What every command shares: the global options, resolved once, and shared option types."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from haowu_cli.render import Output, OutputFormat
from haowu_cli.store import Store


@dataclass
class AppContext:
    """The global options of the root command, handed to every command in `ctx.obj`."""

    db: Path
    config_dir: Path
    quiet: bool
    traceback: bool
    lock_timeout: float
    out: Output

    def store(self) -> Store:
        return Store(self.db, lock_timeout=self.lock_timeout)


def app_context(ctx: typer.Context) -> AppContext:
    return ctx.find_root().obj


# How every date option is written and shown.
DATE_FORMAT = dict(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD")

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table for people; csv or json for machines."),
]


OutOption = Annotated[
    Path | None, typer.Option("--out", "-o", help="File to write [default: stdout].")
]
ExcelOption = Annotated[
    bool,
    typer.Option(
        "--excel", help="For Excel: add a BOM and neutralise cells Excel would run as formulas."
    ),
]


def write_export(
    app: AppContext, frame, out: Path | None, *, excel: bool, text_columns, what: str
) -> None:
    """Write an export as CSV (`exporting.write_csv`) and say where it went: `what` is what
    was written ("12 orders")."""
    from haowu_cli.exporting import write_csv

    write_csv(frame, out, excel=excel, text_columns=text_columns)
    if out is not None:
        app.out.info(f"wrote {what} to {out}")
