"""对账: the platform's settlement (结算明细, or settled order JSON) against haowu's ledger.

Each line the platform settled (an order and a product) is compared party by party (the
merchant's income, the anchor's commission, the team leader's fee, the technical fee and
whatever other party the file names) with the ledger's split of haowu's orders of that line:
matched, differs (which party, by how much, to the fen), only on the platform, only in haowu.
The lines read are kept in `platform_settlements` (a line read again replaces itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from haowu_cli import store as db
from haowu_cli.errors import InputFileError
from haowu_cli.i18n import _
from haowu_cli.ingest import values
from haowu_cli.ingest.platform import REFUSED_SCHEMA, PlatformTable, Sources, detect, read_platform

STATES = ("matched", "differs", "only_platform", "only_haowu")


@dataclass
class Reconciliation:
    detail: pl.DataFrame  # `store.compare_settlements`, a row per line and party
    rejections: pl.DataFrame  # file, row, column, value, reason: lines not read
    files: list[tuple[Path, str]] = field(default_factory=list)  # (file, read as)
    kept: int = 0  # settlement lines kept

    def line_states(self) -> dict[str, int]:
        lines = self.detail.unique(["platform_order_id", "product_id"])
        counts = dict(lines.group_by("state").len().iter_rows())
        return {state: int(counts.get(state, 0)) for state in STATES}

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
) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[Path, str]]]:
    """The settlement lines of `paths` (platform_order_id, product_id, party, amount_fen,
    settled_at, file_name), the cells that could not be read, and what each file was read
    as. A file that is no settlement is refused (exit 1)."""
    frames, rejected, files = [], [], []
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
    lines = pl.concat(frames) if frames else pl.DataFrame()
    problems = pl.concat(rejected).select("file", *REFUSED_SCHEMA)
    return lines, problems, files


def _parse(table: PlatformTable) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Text cells to IDs, fen and times; the cells that are none of these, as rejections."""
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
    if "settled_at" not in good.columns:
        good = good.with_columns(pl.lit(None, dtype=pl.Datetime("us")).alias("settled_at"))
    lines = good.unpivot(
        index=["platform_order_id", "product_id", "settled_at"],
        on=parties,
        variable_name="party",
        value_name="amount_fen",
    ).filter(pl.col("amount_fen").is_not_null())
    return lines.select(
        "platform_order_id",
        "product_id",
        "party",
        pl.col("amount_fen").cast(pl.Int64),
        pl.col("settled_at").cast(pl.Datetime("us")),
    ), rejected


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
) -> Reconciliation:
    """Read the settlement files, keep their lines and compare them with the ledger, in one
    transaction."""
    lines, rejections, files = read_settlements(
        paths, sources, source=source, encoding=encoding, sheet=sheet
    )
    party_map = pl.DataFrame(
        [
            {"party": party, "account": account, "item": item}
            for party, entries in sources.ledger_parties.items()
            for account, item in entries
        ],
        schema={"party": pl.String, "account": pl.String, "item": pl.String},
    )
    with store.write() as con, db.transaction(con):
        kept = db.record_settlements(con, lines, datetime.now())
        detail = db.compare_settlements(con, lines.drop("file_name"), party_map)
    return Reconciliation(detail=detail, rejections=rejections, files=files, kept=kept)
