"""`haowu team`: team mode on a DuckLake whose catalog is in PostgreSQL: create the lake,
push a local database into it, pull it back into a local file."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.commands.common import AppContext, app_context
from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import N_, _

if TYPE_CHECKING:
    from haowu_cli.store.lake import LakeStore
    from haowu_cli.store.team import TableCopy

team_app = typer.Typer(
    help=N_(
        "Team mode: one database on DuckLake (catalog in PostgreSQL, data in a shared folder) "
        "for several machines. Use with --db ducklake:postgres:CONNINFO --data-path DIR."
    ),
    no_args_is_help=True,
)


def _lake(app: AppContext) -> "LakeStore":  # imported late: `haowu --help` stays fast
    from haowu_cli.store.lake import LakeStore, is_lake_spec

    if not is_lake_spec(app.db):
        raise UsageError(
            _("--db {db} is a file: team commands work on a lake").format(db=app.db),
            hint=_("give --db ducklake:postgres:CONNINFO and --data-path DIR"),
        )
    return LakeStore(str(app.db), app.data_path, lock_timeout=app.lock_timeout)


def _report(app: AppContext, copies: "list[TableCopy]", what: str) -> None:
    """Each table's rows on both sides; exit 1 when a table does not match."""
    for copy in copies:
        if copy.source_rows or copy.copied_rows:
            app.out.info(
                _("{table}: {source} rows, {copied} copied").format(
                    table=copy.table, source=copy.source_rows, copied=copy.copied_rows
                )
            )
    wrong = [c.table for c in copies if not c.matches]
    if wrong:
        raise HaowuError(
            _("{what}: these tables differ after the copy: {tables}").format(
                what=what, tables=", ".join(wrong)
            )
        )
    total = sum(c.copied_rows for c in copies)
    app.out.info(_("{what}: {total} rows, every table checked").format(what=what, total=total))


@team_app.command("init")
def init_command(ctx: typer.Context) -> None:
    """Create haowu's tables on the lake (or bring them up to date)."""
    from haowu_cli.store.lake import shown_spec
    from haowu_cli.store.team import init_lake

    app = app_context(ctx)
    lake = _lake(app)
    version = init_lake(lake)
    app.out.info(
        _("team database ready: {spec} (schema version {version}), data in {data_path}").format(
            spec=shown_spec(lake.spec), version=version, data_path=lake.data_dir()
        )
    )


@team_app.command("push")
def push_command(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Option(
            "--from", help=N_("The local haowu database file to copy."), show_default=False
        ),
    ],
) -> None:
    """Copy every row of a local database into an empty lake; the file stays as it is."""
    from haowu_cli.store import Store
    from haowu_cli.store.team import push_to_lake

    app = app_context(ctx)
    lake = _lake(app)
    copies = push_to_lake(Store(source, lock_timeout=app.lock_timeout), lake)
    _report(app, copies, _("push"))


@team_app.command("pull")
def pull_command(
    ctx: typer.Context,
    target: Annotated[
        Path,
        typer.Option("--to", help=N_("A new local database file to write."), show_default=False),
    ],
) -> None:
    """Copy every row of the lake into a new local database file (back to one machine)."""
    from haowu_cli.store.team import pull_lake

    app = app_context(ctx)
    copies = pull_lake(_lake(app), target)
    _report(app, copies, _("pull"))
