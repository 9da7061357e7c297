"""The platform's own files (Kuaishou's exports and open-platform JSON), read as they come.

Each source is a mapping in `configs/sources.yaml`: how it is recognised (its header or JSON
shape), which column or key means which haowu field and in which unit, what its status words
and codes mean. Reading one gives a table of text cells in haowu's own terms (yuan amounts,
percent rates, wall-clock times), which the ordinary import pipeline then parses, checks and
writes: rejects, `--dry-run`, `--strict` and re-imports work as for any sheet.

Personal data (the buyer's name, phone, address …, listed in the config) is never read:
CSV columns are left out of the read itself, JSON keys are never picked, and only the
columns' names reach the summary.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from haowu_cli.config import load_config_file
from haowu_cli.errors import ConfigError, InputFileError
from haowu_cli.i18n import _

if TYPE_CHECKING:
    from haowu_cli.config import ConfigDoc
    from haowu_cli.ingest.columns import Kind

SOURCES_FILE = "sources.yaml"
UNITS = ("yuan", "fen", "permille", "percent", "text", "time", "ms")
STATES = ("paid", "shipped", "received", "settled", "invalid")
AFTER_SALE = ("none", "refunded")
KINDS = ("orders", "products", "settlements")
FORMATS = ("table", "json")
SETTLEMENT_FIELDS = ("platform_order_id", "product_id", "settled_at")
LEDGER_ACCOUNTS = {
    "merchant": ("net",),
    "anchor": ("net",),
    "agency": ("net",),
    "leader": ("net",),
    "second_leader": ("net",),
    "platform": ("commission_cut", "service_fee_cut", "technical_fee"),
}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
TIME_ZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Mapping:
    """One haowu field (or reconcile party) read from one column or JSON key path."""

    name: str
    source: str  # the header, or a JSON key path (`list[].key` for each element of a list)
    unit: str = "text"
    part: int | None = None  # `A>B>C`: which part (category paths)


@dataclass(frozen=True)
class Source:
    name: str
    label: str  # what `import` says it read the file as
    kind: str  # orders | products | settlements
    format: str  # table (CSV or XLSX) | json
    detect: tuple[str, ...]  # headers (or JSON keys) that are all there
    line: tuple[str, ...]  # what identifies one line: joined into the line's ID
    columns: tuple[Mapping, ...]
    keep: tuple[str, ...] = ()  # other columns kept with each row (`extra`)
    lists: tuple[str, ...] = ()  # JSON: the keys under `data` that hold the records
    statuses: dict[str, str] = field(default_factory=dict)
    after_sale_column: str | None = None
    after_sale: dict[str, str] = field(default_factory=dict)
    self_operated_column: str | None = None
    self_operated: tuple[str, ...] = ()
    parties: tuple[Mapping, ...] = ()  # settlements: each party's amount
    # JSON: the line-list keys whose product (price × quantity) is a line's value, which
    # shares the order-level amounts among an order's lines
    split_price: str | None = None
    split_quantity: str | None = None

    def mapping(self, name: str) -> Mapping | None:
        return next((m for m in self.columns if m.name == name), None)


@dataclass(frozen=True)
class Sources:
    sources: dict[str, Source]
    personal: tuple[str, ...]  # normalised headers; a trailing `*` is a prefix
    ledger_parties: dict[str, tuple[tuple[str, str], ...]]  # party -> (account, item)

    def is_personal(self, header: str) -> bool:
        from haowu_cli.ingest.columns import normalise_header

        norm = normalise_header(header).replace("[]", "")
        for pattern in self.personal:
            if pattern.endswith("…"):
                if norm.startswith(pattern[:-1]):
                    return True
            elif norm == pattern or norm.endswith("." + pattern):
                return True
        return False


def _norm(header: str) -> str:
    from haowu_cli.ingest.columns import normalise_header

    return normalise_header(header)


# --- the config --------------------------------------------------------------------------------


def load_sources(config_dir: Path) -> Sources:
    """`sources.yaml`, checked: every problem reported at once with file, line and key."""
    from haowu_cli.ingest.columns import KINDS as FIELD_KINDS

    doc = load_config_file(config_dir, SOURCES_FILE)
    data = doc.data if isinstance(doc.data, dict) else None
    problems: list[str] = []
    if data is None:
        raise ConfigError(
            [
                _("{where}: expected a mapping with personal_data and sources").format(
                    where=doc.where()
                )
            ]
        )
    for key in data:
        if key not in ("personal_data", "sources", "ledger_parties"):
            problems.append(
                _("{where}: unknown key {key!r}").format(where=doc.where(str(key)), key=key)
            )
    personal = data.get("personal_data") or []
    if not isinstance(personal, list) or not all(isinstance(p, str) for p in personal):
        problems.append(
            _("{where}: expected a list of column names").format(where=doc.where("personal_data"))
        )
        personal = []
    patterns = tuple(
        _norm(p[:-1]) + "…" if p.endswith("*") else _norm(p) for p in personal if p.strip()
    )
    sources: dict[str, Source] = {}
    section = data.get("sources")
    if not isinstance(section, dict) or not section:
        problems.append(
            _("{where}: expected a mapping of source names").format(where=doc.where("sources"))
        )
        section = {}
    for name, spec in section.items():
        source = _source(doc, str(name), spec, problems, FIELD_KINDS)
        if source is not None:
            sources[str(name)] = source
    ledger_parties: dict[str, tuple[tuple[str, str], ...]] = {}
    parties = data.get("ledger_parties") or {}
    if not isinstance(parties, dict):
        problems.append(
            _("{where}: expected a mapping of parties").format(where=doc.where("ledger_parties"))
        )
        parties = {}
    for party, entries in parties.items():
        where = doc.where("ledger_parties", str(party))
        if not isinstance(entries, list):
            problems.append(_("{where}: expected a list of account/item").format(where=where))
            continue
        pairs = []
        for entry in entries:
            account, _slash, item = str(entry).partition("/")
            if item not in LEDGER_ACCOUNTS.get(account, ()):
                known = ", ".join(f"{a}/{i}" for a, items in LEDGER_ACCOUNTS.items() for i in items)
                problems.append(
                    _("{where}: unknown ledger entry {entry!r}; known: {known}").format(
                        where=where, entry=entry, known=known
                    )
                )
            pairs.append((account, item))
        ledger_parties[str(party)] = tuple(pairs)
    if problems:
        raise ConfigError(problems)
    return Sources(sources, patterns, ledger_parties)


_SOURCE_KEYS = {
    "label",
    "kind",
    "format",
    "detect",
    "line",
    "columns",
    "keep",
    "lists",
    "statuses",
    "after_sale",
    "self_operated",
    "parties",
    "split_by",
}


def _source(
    doc: ConfigDoc, name: str, spec: Any, problems: list[str], field_kinds: dict[str, Kind]
) -> Source | None:
    base = ("sources", name)
    if not isinstance(spec, dict):
        problems.append(_("{where}: expected a mapping").format(where=doc.where(*base)))
        return None
    before = len(problems)
    for key in spec:
        if key not in _SOURCE_KEYS:
            problems.append(
                _("{where}: unknown key {key!r}; known: {known}").format(
                    where=doc.where(*base, str(key)),
                    key=key,
                    known=", ".join(sorted(_SOURCE_KEYS)),
                )
            )
    kind = spec.get("kind")
    if kind not in KINDS:
        problems.append(
            _("{where}: kind must be one of {value}").format(
                where=doc.where(*base, "kind"), value=", ".join(KINDS)
            )
        )
    fmt = spec.get("format")
    if fmt not in FORMATS:
        problems.append(
            _("{where}: format must be table or json").format(where=doc.where(*base, "format"))
        )

    def names(key: str, required: bool) -> tuple[str, ...]:
        value = spec.get(key)
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            problems.append(
                _("{where}: expected a list of names").format(where=doc.where(*base, key))
            )
            return ()
        return tuple(value)

    known_fields = (
        set(SETTLEMENT_FIELDS)
        if kind == "settlements"
        else {f.name for f in field_kinds[kind].fields}
        if kind in field_kinds
        else set()
    )
    columns = _mappings(doc, base, "columns", spec.get("columns"), problems, known_fields)
    parties: tuple[Mapping, ...] = ()
    if kind == "settlements":
        parties = _mappings(doc, base, "parties", spec.get("parties"), problems, None)
        if not parties:
            problems.append(
                _("{where}: a settlement names its parties").format(
                    where=doc.where(*base, "parties")
                )
            )
    statuses = _words(doc, base, "statuses", spec.get("statuses"), STATES, problems)
    after_column, after_words = None, {}
    if spec.get("after_sale") is not None:
        after = spec["after_sale"]
        if not isinstance(after, dict) or not isinstance(after.get("column"), str):
            problems.append(
                _("{where}: expected column and words").format(where=doc.where(*base, "after_sale"))
            )
        else:
            after_column = after["column"]
            after_words = _words(
                doc, (*base, "after_sale"), "words", after.get("words"), AFTER_SALE, problems
            )
    self_column: str | None = None
    self_words: tuple[str, ...] = ()
    if spec.get("self_operated") is not None:
        own = spec["self_operated"]
        words = own.get("words") if isinstance(own, dict) else None
        if not isinstance(own, dict) or not isinstance(own.get("column"), str) or not words:
            problems.append(
                _("{where}: expected column and words").format(
                    where=doc.where(*base, "self_operated")
                )
            )
        else:
            self_column, self_words = own["column"], tuple(str(w) for w in words)
    if "status" in {m.name for m in columns} and not statuses:
        problems.append(
            _("{where}: a status column needs its words").format(where=doc.where(*base, "statuses"))
        )
    if fmt == "json" and not spec.get("lists"):
        problems.append(
            _("{where}: a JSON source names its record lists").format(
                where=doc.where(*base, "lists")
            )
        )
    split_price, split_quantity = _split_by(doc, base, spec.get("split_by"), spec, problems)
    label = spec.get("label")
    if not isinstance(label, str) or not label:
        problems.append(
            _("{where}: expected the name people know it by").format(
                where=doc.where(*base, "label")
            )
        )
    source = Source(
        name=name,
        label=str(label),
        kind=str(kind),
        format=str(fmt),
        detect=names("detect", True),
        line=names("line", True),
        columns=columns,
        keep=names("keep", False),
        lists=names("lists", False),
        statuses=statuses,
        after_sale_column=after_column,
        after_sale=after_words,
        self_operated_column=self_column,
        self_operated=self_words,
        parties=parties,
        split_price=split_price,
        split_quantity=split_quantity,
    )
    return source if len(problems) == before else None


def _split_by(
    doc: ConfigDoc, base: tuple[str, ...], value: Any, spec: dict[str, Any], problems: list[str]
) -> tuple[str | None, str | None]:
    """`split_by: {price: LIST[].KEY, quantity: LIST[].KEY}`: keys of the line list."""
    if value is None:
        return None, None
    where = doc.where(*base, "split_by")
    line_list = next(
        (str(w).split("[]")[0] for w in spec.get("line") or () if "[]" in str(w)), None
    )
    keys = value if isinstance(value, dict) else {}
    price, quantity = keys.get("price"), keys.get("quantity")
    inline = f"{line_list}[]." if line_list else None
    if (
        spec.get("format") != "json"
        or inline is None
        or set(keys) - {"price", "quantity"}
        or not isinstance(price, str)
        or not price.startswith(inline)
        or (
            quantity is not None
            and (not isinstance(quantity, str) or not quantity.startswith(inline))
        )
    ):
        problems.append(
            _(
                "{where}: expected {{price: KEY, quantity: KEY}}, keys of the line list "
                "{value} of a JSON source"
            ).format(where=where, value=f"{line_list}[]" if line_list else "LIST[]")
        )
        return None, None
    return price, quantity


def _mappings(
    doc: ConfigDoc,
    base: tuple[str, ...],
    key: str,
    value: object,
    problems: list[str],
    known: set[str] | None,
) -> tuple[Mapping, ...]:
    if not isinstance(value, dict) or not value:
        problems.append(
            _("{where}: expected a mapping of fields to columns").format(
                where=doc.where(*base, key)
            )
        )
        return ()
    out = []
    for name, spec in value.items():
        where = doc.where(*base, key, str(name))
        if known is not None and name not in known:
            problems.append(
                _("{where}: unknown field {name!r}; known: {value}").format(
                    where=where, name=name, value=", ".join(sorted(known))
                )
            )
            continue
        if not isinstance(spec, dict) or not isinstance(spec.get("from"), str):
            problems.append(_("{where}: expected {{from: COLUMN, unit: UNIT}}").format(where=where))
            continue
        unit = spec.get("unit", "text")
        if unit not in UNITS:
            problems.append(
                _("{where}: unknown unit {unit!r}; known: {value}").format(
                    where=where, unit=unit, value=", ".join(UNITS)
                )
            )
            continue
        part = spec.get("part")
        if part is not None and (not isinstance(part, int) or part < 0):
            problems.append(_("{where}: part must be a whole number from 0").format(where=where))
            continue
        extra = set(spec) - {"from", "unit", "part"}
        if extra:
            problems.append(
                _("{where}: unknown key {value!r}; known: from, unit, part").format(
                    where=where, value=sorted(extra)[0]
                )
            )
            continue
        out.append(Mapping(str(name), spec["from"], unit, part))
    return tuple(out)


def _words(
    doc: ConfigDoc,
    base: tuple[str, ...],
    key: str,
    value: object,
    allowed: Collection[str],
    problems: list[str],
) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(
            _("{where}: expected a mapping of words to states").format(where=doc.where(*base, key))
        )
        return {}
    out = {}
    for word, state in value.items():
        if state not in allowed:
            problems.append(
                _("{where}: {state!r} is not one of {value}").format(
                    where=doc.where(*base, key, str(word)), state=state, value=", ".join(allowed)
                )
            )
            continue
        out[_word(word)] = str(state)
    return out


def _word(word: Any) -> str:
    """Status words and codes compared as text, NFKC, trimmed."""
    import unicodedata

    return unicodedata.normalize("NFKC", str(word)).strip()


# --- detection ---------------------------------------------------------------------------------


def is_json(path: Path) -> bool:
    if path.suffix.lower() in JSON_SUFFIXES:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head[:1] in (b"{", b"[")


def detect(
    path: Path,
    sources: Sources,
    *,
    encoding: str | None = None,
    kinds: tuple[str, ...] | None = None,
) -> Source | None:
    """The source whose header (or JSON record keys) `path` has, the first in the config's
    order (of `kinds` only, when given); None when none fits."""
    if not path.is_file():
        return None
    if is_json(path):
        records = _json_records(path, sources, limit=1)
        if not records:
            return None
        keys = {k.lower() for k in records[0][1]}
        for source in sources.sources.values():
            if kinds is not None and source.kind not in kinds:
                continue
            if source.format == "json" and all(d.lower() in keys for d in source.detect):
                return source
        return None
    headers = {_norm(h) for h in _table_header(path, encoding)[0]}
    for source in sources.sources.values():
        if kinds is not None and source.kind not in kinds:
            continue
        if source.format == "table" and all(_norm(d) in headers for d in source.detect):
            return source
    return None


def _table_header(path: Path, encoding: str | None) -> tuple[list[str], int, str, str]:
    """The header, its index, the CSV delimiter and the encoding (`xlsx` for a workbook)."""
    from haowu_cli.ingest import sources as sheet

    if path.suffix.lower() in sheet.EXCEL_SUFFIXES or sheet._looks_like_zip(path):
        cells = _excel_rows(path, None)
        index = sheet._find_header(cells, lambda _h: True)
        return [(c or "").strip() for c in cells[index]] if cells else [], index, "", "xlsx"
    with path.open("rb") as handle:
        # A few bytes past the head: its last character may be cut in two, which the
        # decoder must see as unfinished, not as the end of the file.
        data = handle.read(sheet.HEAD_BYTES + 8)
    _body, head, used = sheet._utf8_body(data, path, encoding)
    rows_text = sheet._head_rows(head)
    delimiter = sheet._sniff_delimiter(rows_text)
    cells = [list(r) for r in csv.reader(io.StringIO("\n".join(rows_text)), delimiter=delimiter)]
    index = sheet._find_header(cells, lambda _h: True)
    headers = [(c or "").strip() for c in cells[index]] if cells else []
    return headers, index, delimiter, used


def _excel_rows(path: Path, sheet_name: str | None) -> list[list[str | None]]:
    from python_calamine import CalamineWorkbook

    from haowu_cli.ingest.sources import _excel_text

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = workbook.sheet_names
        cells = workbook.get_sheet_by_name(sheet_name or names[0]).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputFileError(
            _("{path}: is not a readable Excel workbook ({exc})").format(path=path, exc=exc)
        ) from exc
    return [[_excel_text(c) for c in row] for row in cells]


# --- reading -----------------------------------------------------------------------------------


@dataclass
class PlatformTable:
    """A platform file in haowu's terms: `frame` has `_row` and one text column per header
    in `headers` (the source's column names, a field's name where two fields share one)."""

    path: Path
    source: Source
    frame: pl.DataFrame
    headers: list[str]
    aliases: dict[str, str]  # normalised header -> field
    encoding: str
    refused: pl.DataFrame  # row, column, value, reason
    personal: list[str] = field(default_factory=list)  # columns left unread as personal data
    self_operated: list[int] = field(default_factory=list)  # 自营 rows, left out
    not_read: list[str] = field(default_factory=list)  # other columns haowu does not use
    rows_read: int = 0  # every data row of the file (records × lines for JSON)


REFUSED_SCHEMA = pl.Schema(
    {"row": pl.Int64, "column": pl.String, "value": pl.String, "reason": pl.String}
)


def read_platform(
    path: Path,
    source: Source,
    sources: Sources,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> PlatformTable:
    """Read `path` as `source`, personal data left unread, units and states converted."""
    if source.format == "json":
        frame, encoding_used, personal, not_read = _read_json(path, source, sources)
    else:
        frame, encoding_used, personal, not_read = _read_table(
            path, source, sources, encoding, sheet
        )
    return _translate(path, source, frame, encoding_used, personal, not_read)


CHUNK_BYTES = 64 * 1024 * 1024  # a CSV this large is read in parts
PART_BYTES = 64 * 1024 * 1024  # about this much of it a part


def read_platform_chunks(
    path: Path,
    source: Source,
    sources: Sources,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    part_bytes: int = PART_BYTES,
) -> Iterator[PlatformTable]:
    """`read_platform` a part at a time: a large UTF-8 CSV comes about `part_bytes` of the
    file at a time, cut at line ends (only the columns the source reads are parsed, each
    part in turn), so that memory holds one part's cells, not the file's. The file is read
    once, front to back. Other files come whole, as one part. Personal and unread columns
    are named in the first part."""
    from haowu_cli.ingest.sources import csv_chunks

    if source.format == "json" or encoding not in (None, "utf-8", "utf-8-sig"):
        yield read_platform(path, source, sources, encoding=encoding, sheet=sheet)
        return
    headers, index, delimiter, used = _table_header(path, encoding)
    if used not in ("utf-8", "utf-8-sig") or path.stat().st_size < CHUNK_BYTES:
        yield read_platform(path, source, sources, encoding=encoding, sheet=sheet)
        return
    if sheet:
        raise InputFileError(
            _("{path}: --sheet applies to Excel workbooks, not CSV files").format(path=path)
        )
    take, personal, not_read = _projection(path, source, sources, headers)
    indices = sorted(take)
    seen = _line_counts(path, source, index, delimiter, len(headers), take)
    offset, skip = 0, index + 1  # the lines down to the header's, in the first parts
    for chunk in csv_chunks(path, used, part_bytes):
        lines = chunk.count(b"\n")
        if skip > lines:
            skip -= lines  # a part of the lines above the header, no more
            continue
        frame = _project_csv(
            io.BytesIO(chunk), skip - 1, delimiter, len(headers), indices, used, encoding, file=path
        )
        skip = 0
        del chunk
        if frame.height == 0 and offset:
            continue
        frame = frame.rename({f"c{i}": take[i] for i in indices})
        frame = frame.with_row_index("_row", offset=index + 2 + offset).with_columns(
            pl.col("_row").cast(pl.Int64)
        )
        if seen is not None:
            frame = frame.with_columns(seen.slice(offset, frame.height).alias("_seen"))
        first = offset == 0
        yield _translate(
            path, source, frame, used, personal if first else [], not_read if first else []
        )
        offset += frame.height


def _line_counts(
    path: Path, source: Source, index: int, delimiter: str, width: int, take: dict[int, str]
) -> pl.Series | None:
    """For each row of the file, how many rows so far have its line's parts (order,
    product): the second of a pair is `…-2` whichever part it falls in."""
    if source.kind != "orders":
        return None
    parts = [i for i, name in take.items() if name in source.line]
    frame = _project_csv(path, index, delimiter, width, sorted(parts), "utf-8", None)
    frame = frame.rename({f"c{i}": take[i] for i in parts})
    from haowu_cli.ingest.values import id_text

    key = pl.concat_str([id_text(pl.col(p)) for p in source.line], separator="-")
    return frame.select((pl.int_range(pl.len()).over(key) + 1).alias("_seen")).to_series()


def _wanted(source: Source) -> list[str]:
    """Every column or key the source reads, in order, once."""
    names = [m.source for m in source.columns] + [m.source for m in source.parties]
    names += list(source.keep) + list(source.line)
    if source.after_sale_column:
        names.append(source.after_sale_column)
    if source.self_operated_column:
        names.append(source.self_operated_column)
    return list(dict.fromkeys(names))


def _read_table(
    path: Path, source: Source, sources: Sources, encoding: str | None, sheet: str | None
) -> tuple[pl.DataFrame, str, list[str], list[str]]:
    from haowu_cli.ingest import sources as sheet_io

    if not path.exists():
        raise InputFileError(_("{path}: file not found").format(path=path))
    headers, index, delimiter, used = _table_header(path, encoding)
    take, personal, not_read = _projection(path, source, sources, headers)
    indices = sorted(take)
    if used == "xlsx":
        rows = _excel_rows(path, sheet)[index + 1 :]
        frame = pl.DataFrame(
            {take[i]: [r[i] if i < len(r) else None for r in rows] for i in indices},
            schema={take[i]: pl.String for i in indices},
        )
    else:
        if sheet:
            raise InputFileError(
                _("{path}: --sheet applies to Excel workbooks, not CSV files").format(path=path)
            )
        frame = _project_csv(path, index, delimiter, len(headers), indices, used, encoding)
        frame = frame.rename({f"c{i}": take[i] for i in indices})
        del sheet_io
    frame = frame.with_row_index("_row", offset=index + 2).with_columns(
        pl.col("_row").cast(pl.Int64)
    )
    # Blank lines and repeated headers go on to the pipeline, which skips them as usual.
    return frame, used, personal, not_read


def _projection(
    path: Path, source: Source, sources: Sources, headers: list[str]
) -> tuple[dict[int, str], list[str], list[str]]:
    """Which columns to read (index -> the source's name for it), the personal-data columns
    left unread, and the other columns not read. A required column missing fails the file."""
    wanted = {_norm(w): w for w in _wanted(source)}
    take: dict[int, str] = {}  # column index -> the name the source gives it
    personal, not_read = [], []
    for i, header in enumerate(headers):
        if not header:
            continue
        if sources.is_personal(header):
            personal.append(header)  # never read: not even into memory
        elif _norm(header) in wanted and wanted[_norm(header)] not in take.values():
            take[i] = wanted[_norm(header)]
        else:
            not_read.append(header)
    have = {_norm(h) for h in take.values()}
    missing = [
        m.source
        for m in source.columns
        if m.name in _required(source) and _norm(m.source) not in have
    ]
    if missing:
        raise InputFileError(
            _("{path}: read as {label}, but it has no column {columns}").format(
                path=path, label=source.label, columns=", ".join(missing)
            ),
            hint=_("the export's columns may have changed: see configs/sources.yaml"),
        )
    return take, personal, not_read


def _required(source: Source) -> set[str]:
    """The fields without which no row of the file could be read: the file fails."""
    from haowu_cli.ingest.columns import KINDS as FIELD_KINDS

    if source.kind == "settlements":
        return {"platform_order_id", "product_id"}
    required = {f.name for f in FIELD_KINDS[source.kind].fields if f.required}
    return required | ({"platform_order_id"} if source.kind == "orders" else set())


def _project_csv(
    path: Path | io.BytesIO,
    index: int,
    delimiter: str,
    width: int,
    indices: list[int],
    used: str,
    encoding: str | None,
    *,
    file: Path | None = None,
) -> pl.DataFrame:
    """Only the columns asked for are parsed: the others (personal data among them) are
    skipped by the CSV reader itself. `path`: the file, or a part of it (`file`, `index`:
    the header's line in it, -1 for none)."""
    schema = {f"c{i}": pl.String for i in range(width)}
    options = dict(
        has_header=False,
        skip_rows=index + 1,
        schema=schema,
        columns=indices,
        separator=delimiter,
        raise_if_empty=False,
        truncate_ragged_lines=True,
        missing_columns="insert",
        quote_char='"',
    )
    try:
        if used in ("utf-8", "utf-8-sig") or not isinstance(path, Path):
            return pl.read_csv(path, **options)  # type: ignore[arg-type]
        from haowu_cli.ingest.sources import decode

        text, _used = decode(path.read_bytes(), path, encoding)
        return pl.read_csv(io.BytesIO(text.encode("utf-8")), **options)  # type: ignore[arg-type]
    except pl.exceptions.PolarsError as exc:
        raise InputFileError(
            _("{path}: cannot be read as CSV: {value}").format(
                path=file or path, value=str(exc).splitlines()[0]
            )
        ) from exc


def _json_records(
    path: Path, sources: Sources, limit: int | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """The order (or item) records of a saved API response: one response per file, a list
    of responses, or one response per line (JSON lines). (record number, record)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            _("{path}: is not UTF-8 JSON ({exc})").format(path=path, exc=exc)
        ) from exc
    documents: list[Any]
    try:
        documents = [json.loads(text)]
    except json.JSONDecodeError:
        documents = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                documents.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InputFileError(
                    _("{path}: line {line}: not JSON: {problem}").format(
                        path=path, line=number, problem=exc.msg
                    )
                ) from exc
    lists = {name.lower() for s in sources.sources.values() for name in s.lists}
    records: list[tuple[int, dict[str, Any]]] = []
    for document in documents:
        for record in _records_of(document, lists):
            records.append((len(records) + 1, record))
            if limit is not None and len(records) >= limit:
                return records
    return records


def _records_of(document: Any, lists: set[str]) -> list[dict[str, Any]]:
    if isinstance(document, list):
        return [r for d in document for r in _records_of(d, lists)]
    if not isinstance(document, dict):
        return []
    lower = {str(k).lower(): v for k, v in document.items()}
    data = lower.get("data")
    if isinstance(data, dict):
        return _records_of(data, lists)
    for name in lists:
        if isinstance(lower.get(name), list):
            return [r for r in lower[name] if isinstance(r, dict)]
    if "result" in lower and isinstance(lower["result"], list):
        return [r for r in lower["result"] if isinstance(r, dict)]
    return [document] if any(not isinstance(v, dict | list) for v in document.values()) else []


def _read_json(
    path: Path, source: Source, sources: Sources
) -> tuple[pl.DataFrame, str, list[str], list[str]]:
    """One row per line: per element of the line list (`cpsOrderProductView[]`), one row
    for a record whose list is empty or absent (its line fields stay empty).

    An order with several lines has its order-level amounts in fen (`payAmount`, the
    refunds, `settlementAmount` …) once: each line gets its share, in proportion to the
    line's value the platform gives (`split_by`: the item's price × its quantity), to the
    fen, the lines' shares adding up to the order's amount. Such lines say so in `extra`
    (`shared_by_line_value`). An order whose lines lack their price is refused."""
    if not path.exists():
        raise InputFileError(_("{path}: file not found").format(path=path))
    records = _json_records(path, sources)
    wanted = _wanted(source)
    line_list = next((w.split("[]")[0] for w in source.line if "[]" in w), None)
    shared = _order_amounts(source, line_list)
    columns: dict[str, list[Any]] = {"_row": [], SHARED: []} | {w: [] for w in wanted}
    personal: set[str] = set()
    unpriced: list[int] = []
    for number, record in records:
        lower = {str(k).lower(): v for k, v in record.items()}
        personal.update(k for k in record if sources.is_personal(str(k)))
        found = lower.get(line_list.lower()) if line_list else None
        lines: list[dict[str, Any] | None] = (
            [x for x in found if isinstance(x, dict)] if isinstance(found, list) else []
        )
        elements = [{str(k).lower(): v for k, v in (e or {}).items()} for e in lines or [None]]
        cells = [
            {w: _json_value(w, lower, element, line_list, sources) for w in wanted}
            for element in elements
        ]
        note = None
        if len(elements) > 1 and shared:
            weights = _line_weights(source, elements)
            if weights is None:
                unpriced.append(number)
            else:
                note = ", ".join(_share_amounts(cells, shared, weights)) or None
        for line in cells:
            columns["_row"].append(number)
            columns[SHARED].append(note)
            for w in wanted:
                columns[w].append(line[w])
    frame = pl.DataFrame(
        columns, schema={"_row": pl.Int64, SHARED: pl.String} | {w: pl.String for w in wanted}
    )
    if unpriced:
        frame = frame.with_columns(
            pl.when(pl.col("_row").is_in(unpriced))
            .then(pl.lit("several"))
            .otherwise(None)
            .alias("_several")
        )
    if frame[SHARED].null_count() == frame.height:
        frame = frame.drop(SHARED)
    return frame, "utf-8", sorted(personal), []


SHARED = "shared_by_line_value"  # `extra` of a line holding its share of order amounts


def _order_amounts(source: Source, line_list: str | None) -> list[str]:
    """The order-level amounts in fen a JSON source reads (keys not in the line list)."""
    if line_list is None:
        return []
    keys = [m.source for m in (*source.columns, *source.parties) if m.unit == "fen"]
    inline = line_list.lower() + "[]"
    return list(dict.fromkeys(k for k in keys if not k.lower().startswith(inline)))


def _line_weights(source: Source, elements: list[dict[str, Any]]) -> list[int] | None:
    """Each line's value (price × quantity, in fen) as the platform gives it; None when a
    line has no whole price (or every line is worth nothing, or the source names no
    `split_by`): its share cannot be told."""
    if source.split_price is None:
        return None
    price_key = source.split_price.partition("[]")[2].lstrip(".").lower()
    quantity_key = (source.split_quantity or "").partition("[]")[2].lstrip(".").lower()
    weights = []
    for element in elements:
        price = _whole(element.get(price_key))
        quantity = _whole(element.get(quantity_key)) if quantity_key else 1
        if quantity is None and element.get(quantity_key) is None:
            quantity = 1  # the 团长's view of an order gives no count: one
        if price is None or price < 0 or quantity is None or quantity < 0:
            return None
        weights.append(price * quantity)
    return weights if sum(weights) > 0 else None


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _share_amounts(cells: list[dict[str, Any]], keys: list[str], weights: list[int]) -> list[str]:
    """Each order-level amount shared among the lines by weight (`share_fen`); a cell that
    is no whole number of fen stays as it is on every line, to be refused there. Returns
    the keys shared."""
    done = []
    for key in keys:
        amount = _whole(cells[0][key])
        if amount is None:
            continue
        for line, share in zip(cells, share_fen(amount, weights), strict=True):
            line[key] = str(share)
        done.append(key)
    return done


def share_fen(amount: int, weights: list[int]) -> list[int]:
    """`amount` fen shared in proportion to `weights` (whole, ≥ 0, not all 0), to the fen:
    each share rounded down, then the fen left over one each to the shares with the largest
    remainders (the earlier line on a tie). The shares add up to `amount` exactly."""
    total = sum(weights)
    sign, whole = (-1, -amount) if amount < 0 else (1, amount)
    shares = [whole * w // total for w in weights]
    remainders = [whole * w % total for w in weights]
    left = whole - sum(shares)
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[i] += 1
    return [sign * s for s in shares]


def _json_value(
    path: str, record: dict, element: dict, line_list: str | None, sources: Sources
) -> Any:
    head, _sep, key = path.partition("[]")
    if not _sep:
        if sources.is_personal(path):
            return None
        return _cell(record.get(path.lower()))
    key = key.lstrip(".").lower()
    if line_list and head.lower() == line_list.lower():
        return _cell(element.get(key))
    items = record.get(head.lower())
    if not isinstance(items, list) or not items:
        return None
    lowered = [{str(k).lower(): v for k, v in i.items()} for i in items if isinstance(i, dict)]
    values = [i[key] for i in lowered if i.get(key) is not None]
    if not values:
        return None
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return str(sum(values))  # fen amounts of a list (refunds): their sum
    return _cell(values[0])


def _cell(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- into haowu's terms ------------------------------------------------------------------------


def _translate(
    path: Path,
    source: Source,
    frame: pl.DataFrame,
    encoding: str,
    personal: list[str],
    not_read: list[str],
) -> PlatformTable:
    # Columns a version of the export lacks (the required ones were checked): empty.
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(w) for w in _wanted(source) if w not in frame.columns
    )
    refusals: list[pl.DataFrame] = []
    rows_read = frame.height

    def refuse(condition: pl.Expr, column: str, value: pl.Expr, reason: pl.Expr | str) -> None:
        hit = frame.filter(condition.fill_null(False))
        if hit.height:
            refusals.append(
                hit.select(
                    pl.col("_row").alias("row"),
                    pl.lit(column).alias("column"),
                    value.cast(pl.String).alias("value"),
                    (pl.lit(reason) if isinstance(reason, str) else reason).alias("reason"),
                )
            )

    if "_several" in frame.columns:
        refuse(
            pl.col("_several").is_not_null(),
            source.line[-1],
            pl.col(source.line[0]),
            _(
                "the order has several product lines and a line without its price ({key}): "
                "haowu cannot tell each line's share of the order's amounts"
            ).format(key=source.split_price or ""),
        )
        frame = frame.filter(pl.col("_several").is_null()).drop("_several")

    self_rows: list[int] = []
    if source.self_operated_column and source.self_operated_column in frame.columns:
        own = (
            pl.col(source.self_operated_column).str.strip_chars().is_in(list(source.self_operated))
        )
        self_rows = frame.filter(own.fill_null(False))["_row"].to_list()
        frame = frame.filter(~own.fill_null(False))

    out: dict[str, pl.Expr] = {}
    headers: list[str] = []
    aliases: dict[str, str] = {}
    for mapping in source.columns:
        header = (
            mapping.source
            if mapping.source not in headers
            else f"{mapping.source} [{mapping.name}]"
        )
        headers.append(header)
        aliases[_norm(header)] = mapping.name
        out[header] = _converted(pl.col(mapping.source), mapping)
        if mapping.unit in ("fen", "ms", "permille"):
            bad = pl.col(mapping.source).is_not_null() & ~pl.col(
                mapping.source
            ).str.strip_chars().str.contains(r"^-?[0-9]+$")
            what = {
                "fen": _("not a whole number of fen"),
                "ms": _("not a time in milliseconds"),
                "permille": _("not a whole number of ‰"),
            }[mapping.unit]
            refuse(bad, mapping.source, pl.col(mapping.source), what)
    for mapping in source.parties:
        header = f"{mapping.source}"
        headers.append(header)
        aliases[_norm(header)] = mapping.name
        out[header] = _converted(pl.col(mapping.source), mapping)
    status = source.mapping("status")
    if status is not None:
        word = pl.col(status.source).cast(pl.String).str.strip_chars()
        state = word.replace_strict(source.statuses, default=None)
        refuse(
            word.is_not_null() & state.is_null() & (word != "-"),
            status.source,
            word,
            _naming(
                _(
                    "unknown status {word} (not in configs/sources.yaml {name}.statuses): "
                    "add it there and import again"
                ),
                word,
                source.name,
            ),
        )
        platform_word = word
        if source.after_sale_column and source.after_sale_column in frame.columns:
            after = pl.col(source.after_sale_column).str.strip_chars()
            after_state = after.replace_strict(source.after_sale, default=None)
            refuse(
                after.is_not_null() & after_state.is_null() & (after != "-") & (after != ""),
                source.after_sale_column,
                after,
                _naming(
                    _(
                        "unknown after-sale status {word} (not in configs/sources.yaml "
                        "{name}.after_sale): add it there and import again"
                    ),
                    after,
                    source.name,
                ),
            )
            refunded = after_state == "refunded"
            state = pl.when(refunded.fill_null(False)).then(pl.lit("invalid")).otherwise(state)
            platform_word = (
                pl.when(after_state.is_not_null() & (after_state != "none"))
                .then(word + pl.lit(" / ") + after)
                .otherwise(word)
            )
            paid = source.mapping("paid_amount")
            if paid is not None and source.mapping("refund_amount") is None:
                # Closed after a refund: the whole amount went back (a full refund).
                headers.append("refund_amount")
                aliases["refundamount"] = "refund_amount"
                out["refund_amount"] = pl.when(refunded.fill_null(False)).then(
                    _converted(pl.col(paid.source), paid)
                )
        header = next(h for h in headers if aliases[_norm(h)] == "status")
        out[header] = state
        if source.kind == "orders":
            headers.append("platform_status")
            aliases["platformstatus"] = "platform_status"
            out["platform_status"] = platform_word
    line_id = _line_id(source)
    if line_id is not None:
        key = "order_id"
        headers.insert(0, key)
        aliases[key.replace("_", "")] = key
        out[key] = line_id
    for kept in (*source.keep, SHARED):
        if kept in frame.columns and kept not in out:
            headers.append(kept)
            out[kept] = pl.col(kept)
    refused = (
        pl.concat([r.cast(REFUSED_SCHEMA) for r in refusals])
        if refusals
        else pl.DataFrame(schema=REFUSED_SCHEMA)
    )
    refused_rows = refused["row"].unique().implode()
    frame = frame.filter(~pl.col("_row").is_in(refused_rows))
    seen = ["_seen"] if "_seen" in frame.columns else []
    frame = frame.select(pl.col("_row"), *seen, *[out[h].cast(pl.String).alias(h) for h in headers])
    if source.kind in ("orders",):
        frame = _unique_lines(frame)
    frame = frame.drop(seen)
    return PlatformTable(
        path=path,
        source=source,
        frame=frame,
        headers=headers,
        aliases=aliases,
        encoding=encoding,
        refused=refused,
        personal=personal,
        self_operated=self_rows,
        not_read=not_read,
        rows_read=rows_read,
    )


def _naming(template: str, word: pl.Expr, name: str) -> pl.Expr:
    """A translated reason with each row's `{word}` in it (and the source's `{name}`)."""
    before, _sep, after = template.replace("{name}", name).partition("{word}")
    return pl.lit(before) + word + pl.lit(after)


def _line_id(source: Source) -> pl.Expr | None:
    """The order line's ID: the line's parts (order, product) joined with `-`."""
    if source.kind == "products":
        return None
    from haowu_cli.ingest.values import id_text

    return pl.concat_str([id_text(pl.col(p)) for p in source.line], separator="-")


def _unique_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """Two lines of one order with the same product (two SKUs): the second is `…-2`. A part
    of a file read in chunks brings each row's count (`_seen`) from the whole file."""
    seen = (
        pl.col("_seen") if "_seen" in frame.columns else pl.int_range(pl.len()).over("order_id") + 1
    )
    return frame.with_columns(
        pl.when(seen > 1)
        .then(pl.col("order_id") + pl.lit("-") + seen.cast(pl.String))
        .otherwise(pl.col("order_id"))
        .alias("order_id")
    )


def _converted(cell: pl.Expr, mapping: Mapping) -> pl.Expr:
    """A cell in the units the pipeline reads: yuan text, `12.5%`, `YYYY-MM-DD HH:MM:SS`."""
    text = cell.cast(pl.String).str.strip_chars()
    number = text.cast(pl.Int64, strict=False)
    if mapping.unit == "fen":
        sign = pl.when(number < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        whole = (number.abs() // 100).cast(pl.String)
        cents = (number.abs() % 100).cast(pl.String).str.zfill(2)
        return pl.when(number.is_not_null()).then(sign + whole + pl.lit(".") + cents)
    if mapping.unit == "permille":
        tenths = (number.abs() % 10).cast(pl.String)
        return pl.when(number.is_not_null()).then(
            (number // 10).cast(pl.String) + pl.lit(".") + tenths + pl.lit("%")
        )
    if mapping.unit == "ms":
        when = (
            pl.from_epoch(number, time_unit="ms")
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(TIME_ZONE)
            .dt.strftime("%Y-%m-%d %H:%M:%S")
        )
        return pl.when(number.is_not_null() & (number != 0)).then(when)  # 0 means none
    if mapping.part is not None:
        return text.str.split(">").list.get(mapping.part, null_on_oob=True).str.strip_chars()
    return text
