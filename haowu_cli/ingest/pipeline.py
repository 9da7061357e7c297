"""The import pipeline: read a sheet, map its headers, parse and check every cell, write.

One piece of code for every kind of sheet, driven by the kind's column spec. Each file is
written in one transaction: after an error, Ctrl-C or a kill the database is exactly as it
was before that file. Bad rows do not stop a file; they are collected with their row,
column, value and reason, and written to a rejects CSV that opens in Excel.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from haowu_cli import dates
from haowu_cli import store as db
from haowu_cli.errors import HaowuError, InputFileError, UnusableDatabase, is_interrupt
from haowu_cli.i18n import N_, _, current, pgettext
from haowu_cli.ingest import values
from haowu_cli.ingest.categories import LEVELS, split_category_paths
from haowu_cli.ingest.columns import MONEY, Field, Kind, normalise_header
from haowu_cli.ingest.rules import ImportRules, label_form, load_import_rules
from haowu_cli.ingest.sources import OVERFLOW, CsvParts, RawTable, csv_parts, read_table

if TYPE_CHECKING:
    from haowu_cli.ingest.platform import PlatformTable

REJECT_COLUMNS = ["file", "row", "column", "value", "reason"]
PLATFORM_PART_BYTES = 64 * 1024 * 1024  # a large platform CSV is parsed and written in parts
# Kinds whose large CSVs are read and written in parts (`sources.csv_parts`): their writing
# needs no more than each part's rows (applications' hooks look at the whole file).
STREAMED_KINDS = ("products", "orders", "anchors")
_REJECT_SCHEMA = pl.Schema(
    {"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}
)


@dataclass(frozen=True)
class ImportOptions:
    merchant: str | None = None
    encoding: str | None = None
    sheet: str | None = None
    strict: bool = False
    dry_run: bool = False
    rejects_path: Path | None = None  # None: next to the input file
    rejects_headers: str | None = None  # the rejects file's headers: "zh", "en", None: --lang
    config_dir: Path | None = None  # where commission.yaml, imports.yaml are (None: packaged)
    today: date | None = None  # the day of the import (None: `dates.today()`)
    # The platform's own files (configs/sources.yaml): detected by their header or JSON
    # shape unless `source` names one; `kinds` the kinds a detected file may be read as;
    # `kind_given`: the kind was asked for (a file of another kind fails).
    sources: Any = None
    source: str | None = None
    kinds: dict[str, Kind] | None = None
    kind_given: bool = True


@dataclass
class SheetPlan:
    """A sheet ready to parse: which column holds what, and the rows worth reading.

    File-wide decisions are made here, once: blank and repeated header rows are skipped,
    rows with cells past the header and earlier rows of a duplicated key are refused (the
    last row wins), rate columns are classified.
    """

    raw: RawTable
    kind: Kind
    merchant: str | None
    columns: dict[str, int]  # field -> index of the sheet column holding it
    unknown: list[tuple[int, str]]  # sheet columns that are no field: (index, header)
    rows: pl.DataFrame  # `_row` and the text cells of the rows to parse
    parsers: list[values.Parser]
    rows_read: int
    skipped: int  # blank rows, repeated header rows and a totals row at the bottom
    refused: pl.DataFrame  # rows refused before parsing: repeated keys, cells past the header
    rules: ImportRules
    today: date
    totals: list[tuple[int, str]] = field(default_factory=list)  # (row, label) skipped
    cleaned_ids: list[tuple[int, str, str]] = field(default_factory=list)  # row, column, chars
    cleaned_id_rows: int = 0  # rows with invisible characters removed from an ID

    @property
    def unknown_columns(self) -> list[str]:
        return [header for _, header in self.unknown]


@dataclass
class ParsedRows:
    """Rows after parsing: the ones to write, and the problems of the others."""

    valid: pl.DataFrame  # `_row`, one staged column per field present, `extra` if any
    rejections: pl.DataFrame  # row, column, value, reason: one line per problem


@dataclass
class FileReport:
    """What happened to one file, for the summary line and for `--format json`."""

    path: Path
    status: str  # imported | dry-run | failed
    encoding: str | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    skipped: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    rejects_file: Path | None = None
    rejections: pl.DataFrame | None = None
    seconds: float = 0.0
    import_id: int | None = None
    error: HaowuError | None = None
    notes: list[str] = field(default_factory=list)  # warnings a person should see
    info: list[str] = field(default_factory=list)  # what a person may like to know; not cron's
    totals: list[tuple[int, str]] = field(default_factory=list)  # totals rows skipped: row, label
    cleaned_id_rows: int = 0  # rows whose IDs had invisible characters removed
    ledger: tuple[int, int] | None = None  # orders: (orders posted, of which reversed)
    source: str | None = None  # the platform file it was read as (its label)
    personal_columns: list[str] = field(default_factory=list)  # left unread: personal data
    self_operated: list[int] = field(default_factory=list)  # 自营 rows: no split
    not_read: list[str] = field(default_factory=list)  # platform columns haowu does not use

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)

    def counts(self) -> dict[str, int]:
        """What became of the rows: they add up to `rows_read`."""
        return {
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "skipped": self.skipped,
        }


class _Rollback(Exception):
    """Raised inside the transaction to undo it (dry run, or --strict with rejections)."""


@dataclass
class ImportRun:
    """How far a run of `import_files` has got, for whoever has to say so after Ctrl-C."""

    reports: list[FileReport] = field(default_factory=list)  # the files done
    path: Path | None = None  # the file in progress
    stage: str = ""  # how far it got: reading, checking, writing, written, done
    left: int = 0  # the files after it

    @property
    def committed(self) -> bool:
        """Whether the file in progress is in the database (Ctrl-C came after its commit)."""
        return self.stage in ("written", "done")


Stage = Callable[[Path, str], None]


# The stages of a file's import, as `on_stage` hears them; shown to people translated.
STAGES = (N_("reading"), N_("checking"), N_("writing"), N_("written"), N_("done"))


def import_files(
    store: db.Store,
    paths: Sequence[Path],
    kind: Kind,
    options: ImportOptions,
    on_stage: Stage | None = None,
    run: ImportRun | None = None,
) -> list[FileReport]:
    """Import each file in its own transaction. A file that fails does not stop the others;
    Ctrl-C stops them all (KeyboardInterrupt, whichever library saw it first), the file in
    progress rolled back; `run` says how far it got."""
    check_rejects_targets(store.path, paths, options, data_path=store.data_path)
    run = run if run is not None else ImportRun()
    for index, path in enumerate(paths):
        started = time.perf_counter()
        run.path, run.stage, run.left = path, "reading", len(paths) - index - 1

        def stage(where: Path, what: str) -> None:
            run.stage = what
            if on_stage is not None:
                on_stage(where, what)

        try:
            source, file_kind = resolve_source(path, kind, options)
            # Team mode: a commit DuckLake refused (another writer first) is the whole file
            # again; a local file's writers queue on its lock and never conflict.
            report = db.retry_conflicts(
                partial(import_file, store, path, file_kind, options, stage, source=source),
                patience=store.lock_timeout,
            )
        except UnusableDatabase:  # the database, not this file: no file can go in
            raise
        except Exception as exc:
            if is_interrupt(exc):
                raise KeyboardInterrupt from exc
            report = _failed(path, exc)
        report.seconds = time.perf_counter() - started
        run.reports.append(report)
        run.path, run.stage = None, ""
    return run.reports


def _failed(path: Path, exc: Exception) -> FileReport:
    """A file that failed (and was rolled back); the others go on."""
    if isinstance(exc, HaowuError):
        return FileReport(path=path, status="failed", error=exc)
    error = HaowuError(  # a bug
        _("{path}: unexpected {name__}: {exc}").format(
            path=path, name__=type(exc).__name__, exc=exc
        ),
        hint=_("this is a bug in haowu; run again with --traceback and report what it prints"),
    )
    error.__cause__ = exc
    return FileReport(path=path, status="failed", error=error)


def resolve_source(path: Path, kind: Kind, options: ImportOptions) -> tuple[Any, Kind]:
    """The platform source `path` is (None for a sheet of haowu's own shape) and the kind
    it is imported as."""
    from haowu_cli.ingest import platform

    sources = options.sources
    if sources is None:
        return None, kind
    if options.source is not None:
        source = sources.sources[options.source]
    else:
        try:
            source = platform.detect(path, sources, encoding=options.encoding)
        except InputFileError:
            return None, kind  # not readable as a platform file: the sheet reader says why
    if source is None:
        return None, kind
    if source.kind == "settlements":
        raise InputFileError(
            _(
                "{path}: read as {label}: a settlement file is not imported, it is checked "
                "against the ledger"
            ).format(path=path, label=source.label),
            hint=_("run: haowu reconcile {path}").format(path=path),
        )
    if source.kind != kind.name:
        if options.kind_given or not options.kinds or source.kind not in options.kinds:
            raise InputFileError(
                _("{path}: read as {label}, which holds {kind}, not {asked}").format(
                    path=path, label=source.label, kind=source.kind, asked=kind.name
                ),
                hint=_("leave out --kind, or use --kind {kind}").format(kind=source.kind),
            )
        kind = options.kinds[source.kind]
    return source, kind


def import_file(
    store: db.Store,
    path: Path,
    kind: Kind,
    options: ImportOptions,
    on_stage: Stage | None = None,
    *,
    source: Any = None,
) -> FileReport:
    """Import one file in one transaction; `on_stage(path, stage)` hears how far it got.
    `source`: a platform source (`ingest.platform`) to read it as."""
    stage = on_stage or (lambda _path, _stage: None)
    started_at = datetime.now()
    hooks = kind.hooks(_config_dir(options)) if kind.hooks else None
    import_rules = load_import_rules(_config_dir(options))
    today = options.today or dates.today()
    stage(path, "reading")
    table: PlatformTable | None = None
    parts: Iterator[PlatformTable] = iter(())
    # A large CSV of haowu's shape comes in parts (`sheet_parts`), the file's superseded
    # rows found first.
    sheet_parts: Iterator[tuple[RawTable, bool]] | None = None
    superseded: pl.DataFrame | None = None
    last = True
    if source is not None:
        from haowu_cli.ingest import platform

        parts = platform.read_platform_chunks(
            path,
            source,
            options.sources,
            encoding=options.encoding,
            sheet=options.sheet,
            part_bytes=PLATFORM_PART_BYTES,
        )
        table = next(parts)
        raw, kind = _platform_raw(table, kind)
    else:
        stream = None
        if kind.name in STREAMED_KINDS:
            stream = csv_parts(
                path, kind.aliases.__contains__, encoding=options.encoding, sheet=options.sheet
            )
        if stream is None:
            raw = read_table(
                path, kind.aliases.__contains__, encoding=options.encoding, sheet=options.sheet
            )
        else:
            # A large CSV: read, checked and written a part at a time, in one transaction.
            empty = RawTable(path, pl.DataFrame(), stream.headers, stream.first_row, "")
            columns = map_headers(empty, kind)[0]
            if kind.key in columns:  # else the first part's plan says what is missing
                superseded = superseded_rows(stream, kind, columns, import_rules)
            sheet_parts = stream.parts()
            raw, last = next(sheet_parts)
    stage(path, "checking")
    plan = plan_sheet(
        raw,
        kind,
        merchant=options.merchant,
        rules=import_rules,
        today=today,
        last=last,
        superseded=None if superseded is None else superseded["row"],
    )
    if table is not None:
        plan.rows_read = table.rows_read
        plan.skipped += len(table.self_operated)
        plan.refused = pl.concat([plan.refused, table.refused], how="diagonal_relaxed")
    refused = plan.refused
    key_header = raw.headers[plan.columns[kind.key]]
    # A hook names the column of a row it refuses by its field: shown as the sheet's header,
    # as the other rejections are (一级类目, not category_l1).
    sheet_headers = {name: raw.headers[index] for name, index in plan.columns.items()}
    report = FileReport(
        path=path,
        status="dry-run" if options.dry_run else "imported",
        encoding=raw.encoding,
        rows_read=plan.rows_read,
        skipped=plan.skipped,
        unknown_columns=plan.unknown_columns,
        totals=plan.totals,
        cleaned_id_rows=plan.cleaned_id_rows,
    )
    if table is not None:
        report.source = source.label
        report.personal_columns = table.personal
        report.self_operated = table.self_operated
        report.not_read = table.not_read
        table = None  # its cells live on in `plan` until parsed, then go
    cleaned_ids = list(plan.cleaned_ids)
    if plan.cleaned_id_rows and sheet_parts is None:
        report.info.append(_cleaned_ids_note(cleaned_ids, plan.cleaned_id_rows))
    parsed = parse_rows(plan, plan.rows)
    del raw, plan  # the sheet's text cells: free them before the database takes its share
    refused = _note_rejected_winners(refused, parsed.rejections)
    stage(path, "writing")
    with store.write(scratch=options.dry_run) as con:
        if not options.dry_run:
            # DuckDB's memory is capped on every connection (`store.memory`): what it keeps
            # in order for nothing is memory it cannot spill. No report relies on the order
            # rows are stored in.
            db.run(con, "SET preserve_insertion_order = false")
        try:
            with db.transaction(con):
                import_id = db.next_import_id(con)
                problems: list[pl.DataFrame] = []
                notes: list[tuple[str, str]] = []
                piece: tuple[ParsedRows, pl.DataFrame] | None = (parsed, refused)
                del parsed
                while piece is not None:
                    part, part_refused = piece
                    valid, more_refused = part.valid, part.rejections.clear()
                    if hooks is not None:
                        valid, more_refused, part_notes = hooks.before_write(con, valid)
                        more_refused = more_refused.with_columns(
                            pl.col("column").replace(sheet_headers)
                        )
                        notes += part_notes
                    counts = db.apply_rows(con, kind.target(), valid, import_id=import_id)
                    del valid
                    report.inserted += counts.inserted
                    report.updated += counts.updated
                    report.unchanged += counts.unchanged
                    problems += [
                        part_refused,
                        part.rejections,
                        more_refused.cast(part.rejections.schema),
                        _conflict_rejections(counts.conflicts, kind, key_header),
                    ]
                    del part
                    # A large file comes in parts, each parsed and written in turn.
                    if sheet_parts is None:
                        piece = _next_part(parts, kind, options, import_rules, today, report)
                    else:
                        piece = _next_sheet_part(
                            sheet_parts,
                            kind,
                            options,
                            import_rules,
                            today,
                            report,
                            superseded,
                            cleaned_ids,
                        )
                if superseded is not None:  # refused once, naming a winner rejected too
                    rejected = pl.concat(problems, how="diagonal_relaxed")
                    problems.append(_note_rejected_winners(superseded, rejected))
                if sheet_parts is not None and report.cleaned_id_rows:
                    report.info.append(_cleaned_ids_note(cleaned_ids, report.cleaned_id_rows))
                for level, text in _merged_notes(notes):
                    (report.notes if level == "warning" else report.info).append(text)
                if hooks is not None:
                    # After every part: what the file wrote is posted once (in batches that
                    # DuckDB's memory holds), not re-read part after part.
                    report.ledger = hooks.after_write(con, import_id)
                report.rejections = pl.concat(problems).sort("row", maintain_order=True)
                report.rejected = report.rejections["row"].n_unique()
                if report.rejected:  # before anything is committed
                    _check_rejects_writable(report, options)
                if options.strict and report.rejected:
                    raise _Rollback
                db.record_import(con, _import_record(report, kind, options, import_id, started_at))
                report.import_id = import_id
                if options.dry_run:
                    raise _Rollback
            stage(path, "written")  # committed: closing the database can take a while yet
        except _Rollback:
            pass
    _write_rejects(report, options)
    if options.strict and report.rejected:
        raise InputFileError(
            _("{path}: {rejected} rows rejected and --strict is on: nothing imported").format(
                path=path, rejected=report.rejected
            ),
            hint=_("see {rejects_file}").format(rejects_file=report.rejects_file)
            if report.rejects_file
            else None,
        )
    stage(path, "done")
    return report


def _next_part(
    parts: Iterator[PlatformTable],
    kind: Kind,
    options: ImportOptions,
    rules: ImportRules,
    today: date,
    report: FileReport,
) -> tuple[ParsedRows, pl.DataFrame] | None:
    """The next part of a platform file, parsed, with its refused rows; None at the end.
    Its rows are added to the report's."""
    table = next(parts, None)
    if table is None:
        return None
    raw, part_kind = _platform_raw(table, kind)
    plan = plan_sheet(raw, part_kind, merchant=options.merchant, rules=rules, today=today)
    report.rows_read += table.rows_read
    report.skipped += plan.skipped + len(table.self_operated)
    report.self_operated += table.self_operated
    refused = pl.concat([plan.refused, table.refused], how="diagonal_relaxed")
    del table, raw
    parsed = parse_rows(plan, plan.rows)
    return parsed, _note_rejected_winners(refused, parsed.rejections)


def _next_sheet_part(
    parts: Iterator[tuple[RawTable, bool]],
    kind: Kind,
    options: ImportOptions,
    rules: ImportRules,
    today: date,
    report: FileReport,
    superseded: pl.DataFrame | None,
    cleaned_ids: list[tuple[int, str, str]],
) -> tuple[ParsedRows, pl.DataFrame] | None:
    """The next part of a large CSV, parsed, with its refused rows; None at the end. Its
    rows are added to the report's, the IDs it cleaned to `cleaned_ids`."""
    item = next(parts, None)
    if item is None:
        return None
    raw, last = item
    plan = plan_sheet(
        raw,
        kind,
        merchant=options.merchant,
        rules=rules,
        today=today,
        last=last,
        superseded=None if superseded is None else superseded["row"],
    )
    del raw
    report.rows_read += plan.rows_read
    report.skipped += plan.skipped
    report.totals += plan.totals
    report.cleaned_id_rows += plan.cleaned_id_rows
    cleaned_ids += plan.cleaned_ids
    parsed = parse_rows(plan, plan.rows)
    return parsed, plan.refused


def _merged_notes(notes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Notes of a file's parts as one: `120 orders …` and `80 orders …` make `200 orders …`."""
    totals: dict[tuple[str, str], int] = {}
    for level, text in notes:
        match = re.match(r"^([0-9]+) (.*)$", text)
        count, rest = (int(match.group(1)), match.group(2)) if match else (0, text)
        totals[(level, rest)] = totals.get((level, rest), 0) + count
    return [
        (level, f"{count} {rest}" if count else rest) for (level, rest), count in totals.items()
    ]


def _platform_raw(table: PlatformTable, kind: Kind) -> tuple[RawTable, Kind]:
    """A platform table as the pipeline reads sheets: cells `c0..cN` under its headers, and
    the kind with the source's headers as its aliases."""
    from dataclasses import replace

    frame = table.frame.rename({h: f"c{i}" for i, h in enumerate(table.headers)})
    raw = RawTable(table.path, frame, table.headers, first_row=2, encoding=table.encoding)
    return raw, replace(kind, aliases=table.aliases)


def _config_dir(options: ImportOptions) -> Path:
    from haowu_cli.config import packaged_path

    return options.config_dir or packaged_path("configs")


def _cleaned_ids_note(cleaned_ids: list[tuple[int, str, str]], cleaned_id_rows: int) -> str:
    rows = sorted({row for row, _column, _chars in cleaned_ids})[:SHOWN_CLEANED_IDS]
    cleaned_ids = [entry for entry in cleaned_ids if entry[0] in rows]  # the first rows' all
    shown = _("; ").join(
        _("row {row} {column}: {chars}").format(row=row, column=column, chars=chars)
        for row, column, chars in cleaned_ids
    )
    more = " …" if cleaned_id_rows > len(rows) else ""
    return _(
        "removed invisible characters from the IDs of {cleaned_id_rows} rows ({shown}{more})"
    ).format(cleaned_id_rows=cleaned_id_rows, shown=shown, more=more)


def _import_record(
    report: FileReport, kind: Kind, options: ImportOptions, import_id: int, started_at: datetime
) -> dict:
    return {
        "import_id": import_id,
        "kind": kind.name,
        "file_name": str(report.path),
        "file_bytes": report.path.stat().st_size,
        "encoding": report.encoding,
        "merchant_id": options.merchant,
        "started_at": started_at,
        "finished_at": datetime.now(),
        **report.counts(),
    }


# --- parsing ---------------------------------------------------------------------------------


def map_headers(raw: RawTable, kind: Kind) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Which column holds each field, and the columns that mean nothing to this kind (with
    a name each: their header, `column H` when they have none, `备注 (2)` when repeated)."""
    fields: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    for index, header in enumerate(raw.headers):
        name = kind.aliases.get(normalise_header(header)) if header else None
        if name is None:
            label = header or _("column {letter}").format(letter=column_letter(index))
            taken = {u for _, u in unknown}
            copy = 2
            while label in taken:
                label, copy = f"{header or label} ({copy})", copy + 1
            unknown.append((index, label))
        elif name in fields:
            first = raw.headers[fields[name]]
            raise InputFileError(
                _("{path}: columns {first!r} and {header!r} both mean {name}").format(
                    path=raw.path, first=first, header=header, name=name
                ),
                hint=_("delete or rename one of them"),
            )
        else:
            fields[name] = index
    return fields, unknown


def column_letter(index: int) -> str:
    """Excel's name of a column: 0 is A, 25 is Z, 26 is AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def plan_sheet(
    raw: RawTable,
    kind: Kind,
    *,
    merchant: str | None = None,
    rules: ImportRules | None = None,
    today: date | None = None,
    last: bool = True,
    superseded: pl.Series | None = None,
) -> SheetPlan:
    """Map the headers, check the required columns are there, and make the file-wide calls.

    A part of a file read in parts (`sources.CsvParts`): `last` says whether it is the last
    (a totals row is looked for at the bottom of the file only), `superseded` holds the rows
    of the whole file that a later row with the same key replaces (`superseded_rows`); they
    are left out here and refused once for the file."""
    if rules is None:
        from haowu_cli.config import packaged_path

        rules = load_import_rules(packaged_path("configs"))
    columns, unknown = map_headers(raw, kind)
    _check_required_columns(raw, kind, columns, merchant)
    if "_row" in raw.frame.columns:  # numbered by its reader (a platform file)
        frame = raw.frame
    else:
        frame = raw.frame.with_row_index("_row", offset=raw.first_row).with_columns(
            pl.col("_row").cast(pl.Int64)
        )
    rows_read = frame.height
    frame, overflow = _set_aside_overflowing_rows(frame)
    rows_after_overflow = frame.height
    frame = _drop_blank_and_header_rows(frame, raw, kind, columns)
    frame, totals = _drop_totals_rows(frame, rules.totals_labels) if last else (frame, [])
    skipped = rows_after_overflow - frame.height
    cleaned_ids, cleaned_id_rows = _invisible_in_ids(frame, raw, kind, columns)
    if superseded is None:
        frame, duplicates = _drop_superseded_rows(frame, raw, kind, columns)
    else:
        duplicates = pl.DataFrame(schema=_REJECT_SCHEMA)
        frame = frame.filter(~pl.col("_row").is_in(superseded.implode()))
    refused = pl.concat([overflow, duplicates], how="diagonal_relaxed")
    present = [f for f in kind.fields if f.name in columns]
    parsers = [f.type.parser(frame, f"c{columns[f.name]}", f.name) for f in present]
    return SheetPlan(
        raw=raw,
        kind=kind,
        merchant=merchant,
        columns=columns,
        unknown=unknown,
        rows=frame,
        parsers=parsers,
        rows_read=rows_read,
        skipped=skipped,
        refused=refused,
        rules=rules,
        today=today or dates.today(),
        totals=totals,
        cleaned_ids=cleaned_ids,
        cleaned_id_rows=cleaned_id_rows,
    )


def parse_rows(plan: SheetPlan, rows: pl.DataFrame) -> ParsedRows:
    """Parse some of the plan's rows, column by column; collect every problem."""
    kind, columns, merchant, headers = plan.kind, plan.columns, plan.merchant, plan.raw.headers
    present = [f for f in kind.fields if f.name in columns]
    parsed = values.run_parsers(rows, plan.parsers)
    if "category_l3" in {f.name for f in kind.fields}:  # a category path fills three levels
        parsed = split_category_paths(parsed)
    parsed = parsed.with_columns(_field_error(f, plan.rules, plan.today) for f in present)
    if plan.unknown:
        extra = pl.struct([values.tidy(pl.col(f"c{i}")).alias(h) for i, h in plan.unknown])
        parsed = parsed.with_columns(extra.struct.json_encode().alias("extra"))
    if kind.owner and merchant is not None:
        parsed = _apply_merchant(parsed, kind.owner, merchant)

    problems = [
        parsed.filter(pl.col(values.error_column(f.name)).is_not_null()).select(
            pl.col("_row").alias("row"),
            pl.lit(headers[columns[f.name]]).alias("column"),
            pl.col(f"c{columns[f.name]}").alias("value"),
            pl.col(values.error_column(f.name)).alias("reason"),
        )
        for f in present
    ]
    if kind.owner and merchant is not None and kind.owner in columns:
        problems.append(
            _merchant_problems(parsed, headers[columns[kind.owner]], kind.owner, merchant)
        )
    rejections = pl.concat(
        [pl.DataFrame(schema=_REJECT_SCHEMA)] + [p.cast(_REJECT_SCHEMA) for p in problems]
    )
    keep = ["_row"] + [f.name for f in present] + (["extra"] if plan.unknown else [])
    keep += [n for n in LEVELS if n not in columns and n in parsed.columns]  # from a path
    if kind.owner and kind.owner not in keep:
        keep.append(kind.owner)
    valid = parsed.select(keep)
    if rejections.height:
        valid = valid.filter(~pl.col("_row").is_in(rejections["row"].unique().implode()))
    return ParsedRows(valid=valid, rejections=rejections)


def _check_required_columns(
    raw: RawTable, kind: Kind, columns: dict[str, int], merchant: str | None
) -> None:
    missing = [
        f.name
        for f in kind.fields
        if f.required and f.name not in columns and not (f.name == kind.owner and merchant)
    ]
    if not missing:
        return
    found = ", ".join(h for h in raw.headers if h) or "(none)"
    hint = _("add the columns, or teach haowu your header names in configs/columns.yaml")
    if not columns and raw.encoding not in ("utf-8", "utf-8-sig", "xlsx"):
        hint = _(
            "the file was read as {encoding}: if that is wrong, name it with --encoding"
        ).format(encoding=raw.encoding)
    if kind.owner in missing:
        hint += _("; or give --merchant ID when every row is one merchant's")
    raise InputFileError(
        _("{path}: missing required columns: {join}. Columns found: {found}").format(
            path=raw.path,
            join=_("; ").join(_accepted_headers(kind, m) for m in missing),
            found=found,
        ),
        hint=hint,
    )


def _accepted_headers(kind: Kind, name: str) -> str:
    """A missing column as its reader names it: in Chinese, the first header columns.yaml
    gives for it (一级类目), else the field's name, then the other headers haowu accepts."""
    headers = kind.headers.get(name, ())
    if current() == "zh" and headers:
        shown, others = headers[0], headers[1:4]
    else:
        shown, others = name, headers[:3]
    if not others:
        return shown
    more = " …" if len(headers) > len(others) + (1 if current() == "zh" else 0) else ""
    return _("{column} (or {others})").format(column=shown, others=_(", ").join(others) + more)


def _drop_blank_and_header_rows(
    frame: pl.DataFrame, raw: RawTable, kind: Kind, columns: dict[str, int]
) -> pl.DataFrame:
    key = values.tidy(pl.col(f"c{columns[kind.key]}"))
    # Only rows without a key can be blank: look at every cell of those few alone.
    keyless = frame.filter(key.is_null() | (key == ""))
    cells = [c for c in frame.columns if c != "_row"]
    blank_rows = keyless.filter(
        pl.all_horizontal(values.tidy(pl.col(c)).fill_null("") == "" for c in cells)
    )["_row"]
    # A row without a key is no header row: `fill_null`, or the null would drop it too.
    header_again = (key == raw.headers[columns[kind.key]]).fill_null(False)
    drop = pl.col("_row").is_in(blank_rows.implode()) | header_again
    if not frame.select(drop.any()).item():
        return frame  # nothing to skip: no copy of the whole sheet
    return frame.filter(~drop)


_NUMBER_CELL = r"^[+-]?[¥$]?[+-]?[0-9][0-9,]*(\.[0-9]*)?(%|元|万|w)?$"

SHOWN_CLEANED_IDS = 3


def _drop_totals_rows(
    frame: pl.DataFrame, labels: Sequence[str]
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """A totals row (合计, 总计 …) at the bottom of the sheet: skipped, and named.

    A row is one when a cell holds one of `labels` and every other cell is empty or a
    number. Only the last rows are looked at: the same row higher up is an ordinary row.
    """
    cells = [c for c in frame.columns if c != "_row"]
    totals: list[tuple[int, str]] = []
    bottom = frame.height
    while bottom > 0 and labels:
        row = frame.row(bottom - 1, named=True)
        texts = [unicodedata.normalize("NFKC", row[c]).strip() for c in cells if row[c]]
        texts = [t for t in texts if t not in values.MISSING_TOKENS]
        found = [t for t in texts if label_form(t) in labels]
        if len(found) != 1 or not all(t == found[0] or re.match(_NUMBER_CELL, t) for t in texts):
            break
        totals.append((row["_row"], found[0]))
        bottom -= 1
    if not totals:
        return frame, []
    return frame.head(bottom), totals[::-1]


def _invisible_in_ids(
    frame: pl.DataFrame, raw: RawTable, kind: Kind, columns: dict[str, int]
) -> tuple[list[tuple[int, str, str]], int]:
    """The first few cells of ID columns that hold invisible characters (which `id_text`
    removes), as (row, column, characters), and how many rows have any."""
    ids = [f"c{columns[f.name]}" for f in kind.fields if f.type.name == "id" and f.name in columns]
    if not ids:
        return [], 0
    has = [values.tidy(pl.col(c)).str.contains(values.INVISIBLE).fill_null(False) for c in ids]
    hit = frame.filter(pl.any_horizontal(has))
    if hit.is_empty():
        return [], 0
    shown = []
    for row in hit.head(SHOWN_CLEANED_IDS).iter_rows(named=True):
        for source in ids:
            cell = (row[source] or "").strip()
            odd = sorted({ch for ch in cell if unicodedata.category(ch) in ("Cf", "Cc")})
            if odd:
                chars = " ".join(f"U+{ord(ch):04X}" for ch in odd)
                shown.append((row["_row"], raw.headers[int(source[1:])], chars))
    return shown, hit.height


def _field_error(f: Field, rules: ImportRules, today: date) -> pl.Expr:
    """The parse error, else a missing required value, else a value out of bounds."""
    value, error = pl.col(f.name), pl.col(values.error_column(f.name))
    checks = [error]
    if f.required:
        checks.append(pl.when(value.is_null()).then(pl.lit(_("required value is missing"))))
    out_of_bounds = pl.lit(False)
    if f.above is not None:
        out_of_bounds = out_of_bounds | (value <= f.above)
    if f.minimum is not None:
        out_of_bounds = out_of_bounds | (value < f.minimum)
    if f.maximum is not None:
        out_of_bounds = out_of_bounds | (value > f.maximum)
    checks.append(pl.when(out_of_bounds).then(pl.lit(_("must be {rule}").format(rule=_(f.rule)))))
    if f.type is MONEY:
        cap = rules.max_amount_fen
        checks.append(
            pl.when(value > cap).then(
                pl.lit(
                    _("too large: more than ¥{value:,} ({where_amount})").format(
                        value=cap // 100, where_amount=rules.where_amount
                    )
                )
            )
        )
    if f.type.name == "date":
        latest = rules.latest(today)
        days = rules.future_tolerance_days
        checks.append(
            pl.when(value > latest).then(
                pl.lit(
                    _(
                        "in the future: after {latest} (the import's day {today} + {days} "
                        "day{value}, {where_future})"
                    ).format(
                        latest=latest,
                        today=today,
                        days=days,
                        value="s" if days != 1 else "",
                        where_future=rules.where_future,
                    )
                )
            )
        )
        checks.append(
            pl.when(value < rules.earliest).then(
                pl.lit(
                    _("too far in the past: before {earliest} ({where_earliest})").format(
                        earliest=rules.earliest, where_earliest=rules.where_earliest
                    )
                )
            )
        )
    return values.first_error(*checks).alias(values.error_column(f.name))


def _apply_merchant(frame: pl.DataFrame, owner: str, merchant: str) -> pl.DataFrame:
    """`--merchant`: fill the merchant where the sheet has none."""
    if owner not in frame.columns:
        return frame.with_columns(pl.lit(merchant).alias(owner))
    return frame.with_columns(
        pl.col(owner).fill_null(merchant),
        pl.when(pl.col(values.error_column(owner)) == "required value is missing")
        .then(None)
        .otherwise(pl.col(values.error_column(owner)))
        .alias(values.error_column(owner)),
    )


def _merchant_problems(frame: pl.DataFrame, header: str, owner: str, merchant: str) -> pl.DataFrame:
    """`--merchant`: rows of another merchant are refused; one merchant's import never
    touches another merchant's products."""
    ok = pl.col(values.error_column(owner)).is_null()
    return frame.filter(ok & (pl.col(owner) != merchant)).select(
        pl.col("_row").alias("row"),
        pl.lit(header).alias("column"),
        pl.col(owner).alias("value"),
        pl.format(
            _("belongs to {} {}, but this import is for {} (--merchant)"),
            pl.lit(owner),
            pl.col(owner),
            pl.lit(merchant),
        ).alias("reason"),
    )


def _note_rejected_winners(duplicates: pl.DataFrame, rejections: pl.DataFrame) -> pl.DataFrame:
    """A duplicate whose winning row was itself rejected: say so, or the product seems lost."""
    if "winner" not in duplicates.columns:
        return duplicates
    winner_rejected = pl.col("winner").is_in(rejections["row"].unique().implode())
    return duplicates.with_columns(
        pl.when(winner_rejected)
        .then(pl.col("reason") + pl.lit(_(", but was rejected too: fix it and import again")))
        .otherwise(pl.col("reason"))
        .alias("reason")
    ).drop("winner")


def _set_aside_overflowing_rows(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CSV rows with values past the header's last column: refused, the file goes on."""
    if OVERFLOW not in frame.columns:
        return frame, pl.DataFrame(schema=_REJECT_SCHEMA)
    over = pl.col(OVERFLOW).is_not_null()
    refused = frame.filter(over).select(
        pl.col("_row").alias("row"),
        pl.lit(_("(past the last column)")).alias("column"),
        pl.col(OVERFLOW).alias("value"),
        pl.lit(
            _("more cells than the header has: a value with a comma that is not quoted (1,299)?")
        ).alias("reason"),
    )
    kept = frame.filter(~over) if refused.height else frame
    return kept.drop(OVERFLOW), refused.cast(_REJECT_SCHEMA)


def _drop_superseded_rows(
    frame: pl.DataFrame, raw: RawTable, kind: Kind, columns: dict[str, int]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows whose key a later row repeats: the last row of the sheet wins, the earlier ones
    are refused. Keys are compared as they will be stored (trimmed, full-width folded)."""
    source = f"c{columns[kind.key]}"
    key = values.id_text(pl.col(source))
    keyed = frame.select("_row", key.alias("_key"), pl.col(source).alias("_value"))
    duplicates = _duplicates(keyed, raw.headers[columns[kind.key]], kind)
    if duplicates.height:
        frame = frame.filter(~pl.col("_row").is_in(duplicates["row"].implode()))
    return frame, duplicates


def _duplicates(keyed: pl.DataFrame, header: str, kind: Kind) -> pl.DataFrame:
    """Of rows `_row` with their key as stored (`_key`) and as written (`_value`), those a
    later row with the same key supersedes, as rejections naming the winner (`winner`)."""
    repeated = keyed.filter(pl.col("_key").is_not_null() & pl.col("_key").is_duplicated())
    ranked = repeated.with_columns(pl.col("_row").max().over("_key").alias("_winner"))
    losers = ranked.filter(pl.col("_row") != pl.col("_winner"))
    return losers.select(
        pl.col("_row").alias("row"),
        pl.lit(header).alias("column"),
        pl.col("_value").alias("value"),
        pl.format(
            _("duplicate {}: row {} has the same ID and wins"),
            pl.lit(pgettext("column", kind.key)),
            pl.col("_winner"),
        ).alias("reason"),
        pl.col("_winner").alias("winner"),
    ).cast(_REJECT_SCHEMA)


def superseded_rows(
    stream: CsvParts, kind: Kind, columns: dict[str, int], rules: ImportRules
) -> pl.DataFrame:
    """The rows of a file read in parts that a later row with the same key supersedes (the
    last row wins, as in a file read whole), found by reading the key column alone: their
    rejections, with `winner`. Rows with cells past the header, blank and repeated header
    rows are not counted, as `plan_sheet` sets them aside before it looks."""
    from haowu_cli.ingest.sources import SPARE_COLUMNS

    index, width = columns[kind.key], len(stream.headers)
    source, header = f"c{index}", stream.headers[index]
    spare = [f"c{i}" for i in range(width, width + SPARE_COLUMNS)]
    keys = []
    for part, _last in stream.parts([index, *range(width, width + SPARE_COLUMNS)]):
        frame = part.frame.filter(~pl.any_horizontal(pl.col(spare).is_not_null()))
        cell = pl.col(source)
        keyed = frame.select(
            pl.col("_row").cast(pl.Int32),
            values.id_text(cell).alias("_key"),
            # As written only where that differs (else the key): less to hold.
            pl.when(cell != values.id_text(cell)).then(cell).alias("_value"),
        )
        keys.append(keyed)
    # Blank keys and the header repeated are no keys.
    keyed = pl.concat(keys).filter(
        pl.col("_key").is_not_null()
        & (pl.col("_key") != "")
        & (pl.col("_key") != values.id_text(pl.lit(header)))
    )
    del keys
    repeated = keyed.filter(pl.col("_key").is_duplicated())
    labels = set(rules.totals_labels)
    repeated = repeated.filter(
        ~pl.col("_key").map_elements(lambda k: label_form(k) in labels, return_dtype=pl.Boolean)
    )
    repeated = repeated.with_columns(
        pl.col("_row").cast(pl.Int64), pl.coalesce("_value", "_key").alias("_value")
    )
    return _duplicates(repeated, header, kind)


def _conflict_rejections(
    conflicts: list[tuple[int, str, str]], kind: Kind, key_header: str
) -> pl.DataFrame:
    """Rows whose key the database holds for another owner (merchant)."""
    return pl.DataFrame(
        {
            "row": [row for row, _, _ in conflicts],
            "column": [key_header] * len(conflicts),
            "value": [key for _, key, _ in conflicts],
            "reason": [
                _("{key} already belongs to {owner} {owner2}; an import cannot move it").format(
                    key=kind.key, owner=kind.owner, owner2=owner
                )
                for _key, _row, owner in conflicts
            ],
        },
        schema=_REJECT_SCHEMA,
    )


# --- rejects file ----------------------------------------------------------------------------


def default_rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def rejects_target(path: Path, options: ImportOptions) -> Path | None:
    """Where the rejected rows of `path` go: `--rejects` (a file, or a folder to hold
    FILE.rejects.csv), else next to the input; None for a dry run without `--rejects`."""
    if options.dry_run and options.rejects_path is None:
        return None
    if options.rejects_path is None:
        return default_rejects_path(path)
    if options.rejects_path.is_dir():  # a folder the user named (a link to one is fine)
        return options.rejects_path / default_rejects_path(path).name
    return options.rejects_path


def check_rejects_targets(
    db: Path, paths: Sequence[Path], options: ImportOptions, *, data_path: str | None = None
) -> None:
    """Before any file is imported: refuse (exit 2) a rejects target that is the database,
    its WAL or lock, an input, a link, a folder or a device, is in a missing folder or (a
    lake's `data_path`) in the lake's shared data folder; and a `--rejects` place where no
    file can be created."""
    from haowu_cli import outfiles

    protect = outfiles.protected(db, paths, data_path=data_path)
    for path in paths:
        target = rejects_target(path, options)
        if target is None or (options.rejects_path is None and not path.exists()):
            continue  # a missing input fails on its own, with its own message
        option = "--rejects" if options.rejects_path is not None else _("the rejects file")
        outfiles.check_target(target, option=option, protect=protect)
        if options.rejects_path is not None:
            outfiles.check_writable(target, option=option)


def _check_rejects_writable(report: FileReport, options: ImportOptions) -> None:
    """A file whose rejected rows cannot be written is not imported: it fails instead."""
    from haowu_cli import outfiles

    target = rejects_target(report.path, options)
    if target is None:
        return
    try:
        outfiles.check_writable(target, option=_("rejects file"))
    except HaowuError as exc:
        raise InputFileError(
            _(
                "{path}: {rejected} rows rejected, and they cannot be written: "
                "{message}; nothing imported from it"
            ).format(path=report.path, rejected=report.rejected, message=exc.message),
            hint=_("make the folder writable, or name another place with --rejects"),
        ) from exc


def _write_rejects(report: FileReport, options: ImportOptions) -> None:
    """Write the rejects CSV, for Excel (UTF-8 with BOM so it shows the Chinese, every text
    cell neutralised), whole or not at all, only where `rejects_target` says. A dry run
    writes it only where `--rejects` names a path. The place was checked before the import;
    if writing still fails (a disk filled up since), the command fails and says whether the
    file's other rows were imported: nothing is written anywhere else."""
    from haowu_cli import headings, outfiles
    from haowu_cli.exporting import excel_safe_frame

    target = rejects_target(report.path, options)
    if target is None:
        return
    if report.rejections is None or report.rejections.is_empty():
        stale = default_rejects_path(report.path)
        if options.rejects_path is None and not options.dry_run and _is_regular_file(stale):
            stale.unlink()  # from an earlier import of this sheet: it would mislead now
            report.info.append(
                _("removed {stale}: this time no row was rejected").format(stale=stale)
            )
        return
    frame = report.rejections.with_columns(pl.lit(str(report.path)).alias("file")).select(
        REJECT_COLUMNS
    )
    frame = excel_safe_frame(frame)
    frame = headings.for_people(frame, options.rejects_headers)[0]
    try:
        outfiles.write_file(target, lambda stream: frame.write_csv(stream, include_bom=True))
    except HaowuError as exc:
        committed = report.status == "imported" and not (options.strict and report.rejected)
        done = _("its other rows were imported") if committed else _("nothing was imported from it")
        raise InputFileError(
            _("{path}: {rejected} rows rejected, but {message}; {done}").format(
                path=report.path, rejected=report.rejected, message=exc.message, done=done
            ),
            hint=_(
                "make room or name another place with --rejects, and import the file again "
                "(rows already in change nothing) to get the rejected rows"
            ),
        ) from exc
    report.rejects_file = target


def _is_regular_file(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        return False
