"""对账: the platform's settlement (结算明细, or settled order JSON) against haowu's ledger.

Each line the platform settled (an order and a product) is compared party by party (the
merchant's income, the anchor's commission, the team leader's fee, the technical fee and
whatever other party the file names) with the ledger's split of haowu's orders of that line:
matched, differs (which party, by how much, to the fen), only on the platform, only in haowu.
The lines read are kept in `platform_settlements` (a line read again replaces itself), and
the platform's settlement date (实际结算时间) of a line becomes the settlement date of haowu's
orders of it (the 订单导出 gives none): their ledger entries are posted again with it, as an
import of kind `settlements`, so haowu's settled track follows the platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from haowu_cli import store as db
from haowu_cli.errors import InputFileError
from haowu_cli.i18n import _
from haowu_cli.ingest import values
from haowu_cli.ingest.platform import (
    REFUSED_SCHEMA,
    PlatformTable,
    Sources,
    detect,
    read_platform,
)

if TYPE_CHECKING:
    import duckdb

STATES = ("matched", "differs", "only_platform", "only_haowu")


@dataclass
class Reconciliation:
    # `store.reconciled_detail`, a row per line and party: every row, or (when the detail
    # was not asked for) only the rows whose amounts differ
    detail: pl.DataFrame
    rejections: pl.DataFrame  # file, row, column, value, reason: lines not read
    files: list[tuple[Path, str]] = field(default_factory=list)  # (file, read as)
    kept: int = 0  # settlement lines kept
    states: dict[str, int] = field(default_factory=dict)  # lines per state
    summary: pl.DataFrame | None = None  # `store.reconciled_summary`: by month and party
    dated: int = 0  # orders whose settlement date was taken from the platform

    def line_states(self) -> dict[str, int]:
        return {state: int(self.states.get(state, 0)) for state in STATES}

    @property
    def differences(self) -> bool:
        return any(self.line_states()[s] for s in STATES[1:])


def read_settlements(
    paths: list[Path],
    sources: Sources,
    *,
    source: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
) -> tuple[pl.DataFrame, list[str], pl.DataFrame, list[tuple[Path, str]]]:
    """The settlement lines of `paths`, a row per line (platform_order_id, product_id,
    settled_at, file_name and a column per party: its amount in fen), the parties, the
    cells that could not be read, and what each file was read as. A file that is no
    settlement is refused (exit 1)."""
    frames, rejected, files, parties = [], [], [], list[str]()
    for path in paths:
        spec = (
            sources.sources[source]
            if source
            else detect(path, sources, encoding=encoding, kinds=("settlements",))
            or detect(path, sources, encoding=encoding)
        )
        if spec is None or spec.kind != "settlements":
            what = _("read as {label}").format(label=spec.label) if spec else _("not recognised")
            raise InputFileError(
                _("{path}: is not a settlement file ({what})").format(path=path, what=what),
                hint=_(
                    "give the 结算明细 export or settled order JSON; orders go in with haowu import"
                ),
            )
        table = read_platform(path, spec, sources, encoding=encoding, sheet=sheet)
        files.append((path, spec.label))
        lines, problems = _parse(table)
        frames.append(lines.with_columns(pl.lit(str(path)).alias("file_name")))
        rejected.append(problems.with_columns(pl.lit(str(path)).alias("file")))
        parties += [m.name for m in spec.parties if m.name not in parties]
    lines = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    problems = pl.concat(rejected).select("file", *REFUSED_SCHEMA)
    return lines, parties, problems, files


def _parse(table: PlatformTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text cells to IDs, fen and times (a row per line, a column per party); the cells
    that are none of these, as rejections."""
    spec = table.source
    header = {table.aliases[_n(h)]: h for h in table.headers if _n(h) in table.aliases}
    parties = [m.name for m in spec.parties]
    parsers = [
        values.identifier(header["platform_order_id"], "platform_order_id"),
        values.identifier(header["product_id"], "product_id"),
        *([values.timestamp(header["settled_at"], "settled_at")] if "settled_at" in header else []),
        *[values.money(header[p], p) for p in parties],
    ]
    frame = table.frame.filter(pl.col(header["platform_order_id"]).is_not_null())
    parsed = values.run_parsers(frame, parsers)
    problems = [table.refused]
    for parser in parsers:
        error = values.error_column(parser.name)
        source = header[parser.name]
        problems.append(
            parsed.filter(pl.col(error).is_not_null()).select(
                pl.col("_row").alias("row"),
                pl.lit(source).alias("column"),
                pl.col(source).alias("value"),
                pl.col(error).alias("reason"),
            )
        )
    missing = parsed.filter(pl.col("product_id").is_null()).select(
        pl.col("_row").alias("row"),
        pl.lit(header["product_id"]).alias("column"),
        pl.lit(None, dtype=pl.String).alias("value"),
        pl.lit(_("required value is missing")).alias("reason"),
    )
    problems.append(missing)
    rejected = pl.concat([p.cast(REFUSED_SCHEMA) for p in problems])
    good = parsed.filter(
        ~pl.col("_row").is_in(rejected["row"].unique().implode())
        & pl.col("product_id").is_not_null()
    )
    settled_at = (pl.col("settled_at") if "settled_at" in good.columns else pl.lit(None)).cast(
        pl.Datetime("us")
    )
    lines = good.select(
        "platform_order_id",
        "product_id",
        settled_at.alias("settled_at"),
        *[pl.col(p).cast(pl.Int64) for p in parties],
    )
    return lines, rejected


def _n(header: str) -> str:
    from haowu_cli.ingest.columns import normalise_header

    return normalise_header(header)


def reconcile(
    store: db.Store,
    paths: list[Path],
    sources: Sources,
    *,
    source: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    detail: bool = True,
) -> Reconciliation:
    """Read the settlement files, keep their lines, take the platform's settlement dates
    into haowu's orders and ledger, and compare the lines with the ledger: in one
    transaction, in DuckDB. `detail`: bring back every row of the comparison (else only
    those whose amounts differ: what the table for people shows)."""
    started = datetime.now()
    lines, parties, rejections, files = read_settlements(
        paths, sources, source=source, encoding=encoding, sheet=sheet
    )
    if lines.is_empty():
        lines = pl.DataFrame(
            schema={
                "platform_order_id": pl.String,
                "product_id": pl.String,
                "settled_at": pl.Datetime("us"),
                "file_name": pl.String,
            }
        )
    lines = lines.with_columns(  # a party no file had a line for: none
        pl.lit(None, dtype=pl.Int64).alias(p) for p in parties if p not in lines.columns
    )
    party_map = pl.DataFrame(
        [
            {"party": party, "account": account, "item": item}
            for party, entries in sources.ledger_parties.items()
            for account, item in entries
        ],
        schema={"party": pl.String, "account": pl.String, "item": pl.String},
    )

    # One transaction, run again from the start when team mode's lake refuses its commit
    # (`store.write_transaction`): the files' lines stay in memory until it is done.
    def write(
        con: duckdb.DuckDBPyConnection,
    ) -> tuple[int, int, dict[str, int], pl.DataFrame, pl.DataFrame]:
        db.load_settlements(con, lines, parties)
        kept = db.record_settlements(con, started)
        import_id = db.next_import_id(con)
        dated, lines_dated, _posted = db.date_settled_orders(con, import_id, started)
        if dated:
            db.record_import(
                con,
                {
                    "import_id": import_id,
                    "kind": "settlements",
                    "file_name": "; ".join(str(path) for path, _label in files),
                    "started_at": started,
                    "finished_at": datetime.now(),
                    "rows_read": kept,
                    "inserted": 0,
                    # Counted in lines, as rows_read is (a line may date several orders).
                    "updated": lines_dated,
                    "unchanged": kept - lines_dated,
                    "rejected": int(rejections["row"].n_unique()) if rejections.height else 0,
                    "skipped": 0,
                },
            )
        db.compare_settlements(con, party_map)
        states = db.reconciled_states(con)
        summary = db.reconciled_summary(con)
        compared = db.reconciled_detail(con, differing_only=not detail)
        db.drop_settlement_tables(con)
        return kept, dated, states, summary, compared

    kept, dated, states, summary, compared = db.write_transaction(store, write)
    return Reconciliation(
        detail=compared,
        rejections=rejections,
        files=files,
        kept=kept,
        states=states,
        summary=summary,
        dated=dated,
    )
