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


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table for people; csv or json for machines."),
]
