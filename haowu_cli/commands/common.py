"""What every command shares: the global options, resolved once, and shared option types."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from haowu_cli.errors import UsageError
from haowu_cli.i18n import N_, Language, _
from haowu_cli.render import Output, OutputFormat
from haowu_cli.store import Store, open_store

if TYPE_CHECKING:
    import polars as pl

    from haowu_cli.outfiles import Kept


@dataclass
class AppContext:
    """The global options of the root command, handed to every command in `ctx.obj`."""

    db: Path
    config_dir: Path
    quiet: bool
    traceback: bool
    lock_timeout: float
    out: Output
    data_path: str | None = None  # team mode: the lake's shared data folder

    def store(self) -> Store:
        return open_store(self.db, lock_timeout=self.lock_timeout, data_path=self.data_path)

    def protected(self) -> "list[Kept]":
        """What no output of the command may be (`outfiles.check_target`): the database's
        files; on a lake, any file in its shared data folder."""
        from haowu_cli import outfiles
        from haowu_cli.store.lake import is_lake_spec

        data_path = self.data_path if is_lake_spec(self.db) else None
        return outfiles.protected(self.db, data_path=data_path)


def app_context(ctx: typer.Context) -> AppContext:
    return ctx.find_root().obj


# How every date option is written and shown.
DATE_FORMAT = dict(formats=["%Y-%m-%d"], metavar="YYYY-MM-DD")

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help=N_("table for people; csv or json for machines.")),
]


OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help=N_(
            "File to write: FILE.xlsx (or --xlsx) for an Excel workbook, any other name for "
            "CSV [default: CSV on stdout; - is stdout too]."
        ),
    ),
]
XlsxOption = Annotated[
    bool,
    typer.Option(
        "--xlsx",
        help=N_("Write the --out file as an Excel workbook whatever its name ends with."),
    ),
]
HeadersOption = Annotated[
    Language | None,
    typer.Option(
        "--headers",
        help=N_(
            "Column headers of the file for people: zh (商品ID, 直播价 …) or en (the documented "
            "column names) [default: the language, --lang]."
        ),
        show_default=False,
    ),
]
ExcelOption = Annotated[
    bool,
    typer.Option(
        "--excel",
        help=N_(
            "CSV for Excel: add a BOM and neutralise cells Excel would run as formulas "
            "(a .xlsx --out is for Excel already)."
        ),
    ),
]


def workbook_target(out: Path | None, *, xlsx: bool) -> Path | None:
    """Where a workbook goes: `--out` when it ends in .xlsx or `--xlsx` is given, else None
    (a CSV). A workbook needs a file: `--xlsx` without `--out` (or with `--out -`) is a
    usage error."""
    from haowu_cli import exporting

    if out is not None and str(out) == "-":
        out = None
    if xlsx and out is None:
        raise UsageError(
            _("--xlsx writes a workbook, which needs a file"),
            hint=_("name it with --out FILE.xlsx"),
        )
    return out if out is not None and (xlsx or exporting.is_xlsx(out)) else None


def write_export(
    app: AppContext,
    frame: "pl.DataFrame",
    out: Path | None,
    *,
    excel: bool,
    kinds: Mapping[str, str],
    what: str,
    sheet: str,
    xlsx: bool = False,
    headers: Language | None = None,
    for_people: bool = False,
) -> None:
    """Write an export (`exporting`): a workbook when `out` ends in .xlsx or `xlsx` is set,
    else CSV; never over the database. Say where it went: `what` is what was written ("12
    orders"). `for_people`: a file handed to people (the run sheet), headed in `headers`'
    language (default: the language in use); other exports keep the documented column
    names."""
    from haowu_cli import exporting, headings

    if for_people:
        frame, kinds = headings.for_people(frame, headers.value if headers else None, kinds)
    book = workbook_target(out, xlsx=xlsx)
    if out is not None and str(out) == "-":
        out = None
    protect = app.protected()
    if book is not None:
        exporting.write_xlsx(frame, book, kinds=kinds, sheet=sheet, protect=protect)
    else:
        exporting.write_csv(frame, out, excel=excel, kinds=kinds, protect=protect)
        mangled = exporting.ids_excel_would_mangle(frame, kinds) if excel else []
        if mangled:
            app.out.warn(
                _(
                    "Excel turns IDs such as those in {join} into numbers when it opens a "
                    "CSV (digits past the 15th and leading zeros are lost): open the file "
                    "with Data → From Text/CSV and set those columns to Text, or export to "
                    "a workbook with --out FILE.xlsx"
                ).format(join=", ".join(mangled))
            )
    if out is not None:
        app.out.info(_("wrote {what} to {out}").format(what=what, out=out))
