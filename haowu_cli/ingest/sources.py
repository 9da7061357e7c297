"""Reading a sheet file into a table of text cells: CSV in any encoding Excel writes, or XLSX.

Everything comes out as text; values are parsed afterwards, column by column (`values`).
Row numbers are the ones Excel shows (the header is row 1 unless a title sits above it), so
that a merchant can find a rejected row in the sheet they sent.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from haowu_cli.errors import InputFileError
from haowu_cli.i18n import _

HEADER_SEARCH_ROWS = 30  # a title or notes above the header are common in merchant templates
SPARE_COLUMNS = 16  # cells a row may have beyond its header before the file is refused
OVERFLOW = "_overflow"  # a CSV row's cells beyond the header, joined: that row is refused
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_DELIMITERS = [",", "\t", ";", "|"]


@dataclass(frozen=True)
class RawTable:
    """A sheet as text: `frame` has one String column `c0..cN` per header cell."""

    path: Path
    frame: pl.DataFrame
    headers: list[str]
    first_row: int  # the row number (as Excel shows it) of the frame's first row
    encoding: str  # how the file was read: utf-8, utf-8-sig, gb18030, utf-16, xlsx


def read_table(
    path: Path,
    is_known_header: Callable[[str], bool],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
) -> RawTable:
    """Read `path` as text cells. `is_known_header` finds the header row below any title."""
    if not path.exists():
        raise InputFileError(_("{path}: file not found").format(path=path))
    if path.is_dir():
        raise InputFileError(_("{path}: is a folder, not a sheet file").format(path=path))
    if path.suffix.lower() in EXCEL_SUFFIXES or _looks_like_zip(path):
        if encoding:
            raise InputFileError(
                _("{path}: --encoding applies to CSV files, not Excel workbooks").format(path=path)
            )
        return _read_excel(path, is_known_header, sheet)
    if sheet:
        raise InputFileError(
            _("{path}: --sheet applies to Excel workbooks, not CSV files").format(path=path)
        )
    return _read_csv(path, is_known_header, encoding)


def _looks_like_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


# --- CSV -------------------------------------------------------------------------------------


HEAD_BYTES = 256 * 1024  # enough for the header search, a title row and notes above it


def decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    """The file's text and the encoding used: BOM, then strict UTF-8, then GB18030."""
    if encoding:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError as exc:
            raise InputFileError(
                _("{path}: unknown encoding {encoding!r}").format(path=path, encoding=encoding)
            ) from exc
        return _decode_strict(data, codec, path, chosen=True), codec
    if data.startswith(codecs.BOM_UTF8):
        return _decode_strict(data[3:], "utf-8", path), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_strict(data, "utf-16", path), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if _mostly_utf8(data):  # a stray byte in a UTF-8 file: say where, do not guess GBK
            raise _undecodable(path, data, exc, "utf-8") from exc
    # Excel on Chinese Windows writes GBK; GB18030 is its superset and decodes it all.
    return _decode_strict(data, "gb18030", path), "gb18030"


def _mostly_utf8(data: bytes) -> bool:
    """More characters beyond ASCII read as valid UTF-8 than bytes fail to: the file is
    UTF-8 with a few bad bytes. (GBK text hardly ever makes valid UTF-8 sequences.)"""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return good > bad


def _decode_strict(data: bytes, codec: str, path: Path, *, chosen: bool = False) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise _undecodable(path, data, exc, codec, chosen=chosen) from exc


def _undecodable(
    path: Path, data: bytes, exc: UnicodeDecodeError, codec: str, *, chosen: bool = False
) -> InputFileError:
    """Where decoding failed: the line (as a text editor counts them) and the byte. `chosen`:
    the encoding is the one `--encoding` named, not haowu's guess."""
    line = data.count(b"\n", 0, exc.start) + 1
    byte = data[exc.start]
    name = "UTF-8" if codec.replace("_", "-").lower() in ("utf-8", "utf8") else codec
    if chosen:
        return InputFileError(
            _(
                "{path}: line {line}: byte 0x{byte:02X} cannot be read as {name} (--encoding)"
            ).format(path=path, line=line, byte=byte, name=name),
            hint=_("leave out --encoding to let haowu detect it, or name another"),
        )
    return InputFileError(
        _(
            "{path}: line {line}: byte 0x{byte:02X} cannot be read as {name} (the "
            "file is most likely {name}; a damaged cell, or text pasted in another "
            "encoding)"
        ).format(path=path, line=line, byte=byte, name=name),
        hint=_(
            "retype that cell and save the sheet as CSV UTF-8; if the whole file is in "
            "another encoding, name it with --encoding (gb18030, utf-16 …)"
        ),
    )


def _utf8_body(data: bytes, path: Path, encoding: str | None) -> tuple[bytes, str, str]:
    """UTF-8 bytes for Polars, the text of the file's head, and the encoding used.

    A UTF-8 file is handed over as it is (Polars checks every byte of it); only other
    encodings are decoded in Python. The head is decoded on its own for the header search.
    """
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            raise InputFileError(
                _("{path}: unknown encoding {encoding!r}").format(path=path, encoding=encoding)
            ) from exc
    utf8 = encoding is None or codecs.lookup(encoding).name == "utf-8"
    if utf8 and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
        head_decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            head = head_decoder.decode(body[:HEAD_BYTES], final=len(body) <= HEAD_BYTES)
            used = "utf-8-sig" if body is not data else "utf-8"
            return body, head, used
        except UnicodeDecodeError as exc:
            if encoding:
                raise _undecodable(path, body, exc, "utf-8", chosen=True) from None
    text, used = decode(data, path, encoding)
    return text.encode("utf-8"), text[: HEAD_BYTES // 2], used


def _read_csv(path: Path, is_known_header: Callable[[str], bool], encoding: str | None) -> RawTable:
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError(_("{path}: the file is empty").format(path=path))
    body, head, used = _utf8_body(data, path, encoding)
    del data
    body = _lines_ending_in_lf(body)
    if "\x00" in head or b"\x00" in body:
        raise InputFileError(
            _(
                "{path}: contains NUL bytes: it is not a CSV sheet (or is saved as "
                "UTF-16 without a byte-order mark)"
            ).format(path=path),
            hint=_("save it from Excel as CSV UTF-8"),
        )
    head_rows = _head_rows(head)
    delimiter = _sniff_delimiter(head_rows)
    try:
        rows = list(csv.reader(io.StringIO("\n".join(head_rows)), delimiter=delimiter))
    except csv.Error as exc:  # e.g. a cell of megabytes: no merchant's sheet has one
        raise InputFileError(
            _("{path}: cannot be read as CSV near the top: {exc}").format(path=path, exc=exc)
        ) from exc
    header_index = _find_header(rows, is_known_header)
    headers = [cell.strip() for cell in rows[header_index]] if rows else []
    while headers and not headers[-1]:
        headers.pop()  # cells past the last named column are not the header's
    if not headers:
        raise InputFileError(_("{path}: has no header row").format(path=path))
    # Room for cells beyond the header: a trailing comma, or data in a column with no name.
    schema = {f"c{i}": pl.String for i in range(len(headers) + SPARE_COLUMNS)}
    try:
        frame = _polars_csv(body, header_index, schema, delimiter)
    except pl.exceptions.PolarsError as exc:
        if "utf-8" in str(exc) and used == "utf-8" and encoding is None:
            # Valid UTF-8 at the head, not further on: GBK text after an ASCII head.
            text, used = decode(body, path, None)
            body = text.encode("utf-8")
            del text
            try:
                frame = _polars_csv(body, header_index, schema, delimiter)
            except pl.exceptions.PolarsError as again:
                raise _csv_error(path, body, delimiter, header_index, len(schema), again) from again
        else:
            raise _csv_error(path, body, delimiter, header_index, len(schema), exc) from exc
    frame = _set_aside_overflow(frame, len(headers), delimiter)
    frame, headers = _drop_empty_edge(frame, headers)
    return RawTable(path, frame, headers, first_row=header_index + 2, encoding=used)


def _lines_ending_in_lf(body: bytes) -> bytes:
    """Old Mac Excel ends lines with CR alone, which Polars reads as one long line (0 rows).
    Where lone CRs outnumber LFs (a cell may hold an LF of its own), they end the lines."""
    crs = body.count(b"\r")
    if not crs:
        return body
    lfs, crlfs = body.count(b"\n"), body.count(b"\r\n")
    if crs - crlfs <= lfs:
        return body
    if not lfs:
        return body.replace(b"\r", b"\n")
    import re

    return re.sub(rb"\r(?!\n)", b"\n", body)


def _polars_csv(
    body: bytes,
    header_index: int,
    schema: dict,
    delimiter: str,
    columns: list[int] | None = None,
) -> pl.DataFrame:
    """The rows below the header (`header_index`; -1: `body` holds rows only)."""
    return pl.read_csv(
        io.BytesIO(body),
        has_header=False,
        skip_rows=header_index + 1,
        schema=schema,
        columns=columns,
        separator=delimiter,
        raise_if_empty=False,
        truncate_ragged_lines=False,
        missing_columns="insert",
    )


def _set_aside_overflow(frame: pl.DataFrame, width: int, delimiter: str) -> pl.DataFrame:
    """Cells beyond the header's width go, joined, into the `OVERFLOW` column.

    Trailing empty cells (`…,20%,,`) are Excel's and mean nothing. Values there are a row's
    problem, most often a number with an unquoted comma (`1,299`) that shifted its row.
    """
    spare = frame.columns[width:]
    beyond = pl.any_horizontal(pl.col(spare).is_not_null())
    joined = pl.concat_str(pl.col(spare), separator=delimiter, ignore_nulls=True)
    return frame.with_columns(pl.when(beyond).then(joined).alias(OVERFLOW)).drop(spare)


def _drop_empty_edge(frame: pl.DataFrame, headers: list[str]) -> tuple[pl.DataFrame, list[str]]:
    """Drop the columns at the right edge that have neither a header nor a value."""
    cells = [c for c in frame.columns if c != OVERFLOW]
    has_value = frame.select(pl.col(cells).is_not_null().any()).row(0) if frame.height else ()
    named = (headers + [""] * len(cells))[: len(cells)]
    keep = len(cells)
    while keep and not named[keep - 1] and not (has_value and has_value[keep - 1]):
        keep -= 1
    return frame.drop(cells[keep:]), named[:keep]


def _csv_error(
    path: Path, body: bytes, delimiter: str, header_index: int, width: int, exc: Exception
) -> InputFileError:
    return _ragged_row_error(path, body, delimiter, header_index, width) or InputFileError(
        _("{path}: cannot be read as CSV: {value}").format(
            path=path, value=str(exc).splitlines()[0]
        )
    )


def _head_rows(text: str) -> list[str]:
    return text.splitlines()[:HEADER_SEARCH_ROWS]


def _sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:HEADER_SEARCH_ROWS])
    return max(_DELIMITERS, key=lambda d: (sample.count(d), d == ","))


def _find_header(rows: list[list], is_known_header: Callable[[str], bool]) -> int:
    """The first row with at least two known column names; else the first non-empty row."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for cell in row if cell and is_known_header(str(cell))) >= 2:
            return index
    for index, row in enumerate(rows):
        if any(str(cell).strip() for cell in row if cell is not None):
            return index
    return 0


def _ragged_row_error(
    path: Path, utf8: bytes, delimiter: str, header_index: int, width: int
) -> InputFileError | None:
    """Find the first row with more cells than the header: only on the error path."""
    reader = csv.reader(io.StringIO(utf8.decode("utf-8", errors="replace")), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            if (
                number > header_index + 1
                and len(row) > width
                and any(c.strip() for c in row[width:])
            ):
                return InputFileError(
                    _("{path}: row {number} has {count} cells, far more than its header").format(
                        path=path, number=number, count=len(row)
                    ),
                    hint=_(
                        "a value with a comma that is not quoted (1,299)? "
                        "Quote it or remove the comma"
                    ),
                )
    except csv.Error:
        return None  # the caller reports the reader's own error
    return None


# --- Excel -----------------------------------------------------------------------------------


def _read_excel(path: Path, is_known_header: Callable[[str], bool], sheet: str | None) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for every kind of bad file
        raise InputFileError(
            _("{path}: is not a readable Excel workbook ({name__}: {exc})").format(
                path=path, name__=type(exc).__name__, exc=exc
            ),
            hint=_("open it in Excel and save it again as .xlsx, or export it as CSV"),
        ) from exc
    names = workbook.sheet_names
    if sheet is not None and sheet not in names:
        raise InputFileError(
            _("{path}: has no sheet {sheet!r}; its sheets: {join}").format(
                path=path, sheet=sheet, join=", ".join(names)
            )
        )
    if not names:
        raise InputFileError(_("{path}: the workbook has no sheets").format(path=path))
    try:
        cells = workbook.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
    except Exception as exc:
        raise InputFileError(
            _("{path}: cannot read sheet {value!r}: {exc}").format(
                path=path, value=sheet or names[0], exc=exc
            )
        ) from exc
    rows = [[_excel_text(cell) for cell in row] for row in cells]
    if not any(any(row) for row in rows):
        raise InputFileError(
            _("{path}: sheet {value!r} is empty").format(path=path, value=sheet or names[0])
        )
    header_index = _find_header(rows, is_known_header)
    headers = [(cell or "").strip() for cell in rows[header_index]]
    body = rows[header_index + 1 :]
    width = max([len(headers)] + [len(r) for r in body])
    columns = {f"c{i}": [r[i] if i < len(r) else None for r in body] for i in range(width)}
    frame = pl.DataFrame(columns, schema={name: pl.String for name in columns})
    frame, headers = _drop_empty_edge(frame, headers)
    return RawTable(path, frame, headers, first_row=header_index + 2, encoding="xlsx")


def _excel_text(cell: object) -> str | None:
    """A cell as the text Excel would show: numbers to 15 significant digits, like Excel.

    So an 18-digit ID stored as a number reads `1.23456789012346e+18`, which the ID check
    rejects, instead of a made-up integer.
    """
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        if cell.is_integer() and abs(cell) < 1e15:  # Excel keeps 15 significant digits
            return str(int(cell))
        return format(cell, ".15g")
    if isinstance(cell, dt.datetime):
        return cell.isoformat(sep=" ")
    if isinstance(cell, dt.date | dt.time):
        return cell.isoformat()
    return str(cell)


# --- a large CSV in parts ----------------------------------------------------------------------


# A UTF-8 CSV this large is read a part at a time; smaller ones are read whole (a part costs
# scans of the stored tables). A million orders (116 MB) read whole peaked at 1.3–1.4 GiB,
# its frames while checking them (each cell as text, parsed, completed); in parts of 16 MB,
# once the upsert stopped keeping every part's frame until the commit, at about 0.9 GiB.
STREAM_BYTES = 32 * 1024 * 1024
PART_BYTES = 16 * 1024 * 1024  # about this much of the file per part
_CHECK_BYTES = 16 * 1024 * 1024  # read at a time when checking the whole file


@dataclass(frozen=True)
class CsvParts:
    """A large UTF-8 CSV to read a part at a time, so that memory holds one part's cells
    rather than the file's. Its header is found as `read_table` finds it; each part is a
    `RawTable` numbered (`_row`) as Excel shows the rows, cut at line ends outside quotes,
    parsed by the same reader with the same rules as a whole file."""

    path: Path
    headers: list[str]
    header_index: int  # the header's row among the file's first rows (0: the first)
    delimiter: str
    encoding: str  # utf-8 or utf-8-sig
    part_bytes: int = PART_BYTES

    @property
    def first_row(self) -> int:
        return self.header_index + 2

    def parts(self, columns: list[int] | None = None) -> Iterator[tuple[RawTable, bool]]:
        """Each part with whether it is the last. `columns`: only these columns (by index,
        cells past the header among them), as they are; else every column of the header,
        with the cells past it set aside (`OVERFLOW`)."""
        width = len(self.headers)
        schema = {f"c{i}": pl.String for i in range(width + SPARE_COLUMNS)}
        row = self.first_row
        skip = self.header_index + 1  # the lines down to the header's, in the first parts
        for chunk, last in _lookahead(self._chunks()):
            lines = chunk.count(b"\n")
            if skip > lines and not last:
                skip -= lines  # a part of the lines above the header, no more
                continue
            header, skip = skip - 1, 0
            try:
                frame = _polars_csv(chunk, header, schema, self.delimiter, columns)
            except pl.exceptions.PolarsError as exc:
                raise InputFileError(
                    _("{path}: cannot be read as CSV: {value}").format(
                        path=self.path, value=str(exc).splitlines()[0]
                    )
                ) from exc
            del chunk
            if columns is None:
                frame = _set_aside_overflow(frame, width, self.delimiter)
            frame = frame.with_row_index("_row", offset=row).with_columns(
                pl.col("_row").cast(pl.Int64)
            )
            row += frame.height
            raw = RawTable(self.path, frame, self.headers, self.first_row, self.encoding)
            yield raw, last

    def _chunks(self) -> Iterator[bytes]:
        return csv_chunks(self.path, self.encoding, self.part_bytes)


def csv_chunks(path: Path, encoding: str, part_bytes: int) -> Iterator[bytes]:
    """The bytes of a UTF-8 CSV (`encoding` utf-8, or utf-8-sig: its BOM left out) in pieces
    of about `part_bytes` that each end at the end of a line outside quotes: where the
    quotes so far are even (a doubled quote counts twice). The file is read once."""
    with path.open("rb") as handle:
        if encoding == "utf-8-sig":
            handle.read(3)
        carry = b""
        while True:
            block = handle.read(part_bytes if part_bytes > 0 else -1)
            if not block:
                if carry:
                    yield carry
                return
            buffer = carry + block
            cut = buffer.rfind(b"\n")
            while cut >= 0 and buffer.count(b'"', 0, cut) % 2:
                cut = buffer.rfind(b"\n", 0, cut)
            if cut < 0:  # one line longer than a part: read on
                carry = buffer
                continue
            yield buffer[: cut + 1]
            carry = buffer[cut + 1 :]


def _lookahead(items: Iterator[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Each item with whether it is the last."""
    previous = next(items, None)
    if previous is None:
        yield b"", True
        return
    for item in items:
        yield previous, False
        previous = item
    yield previous, True


def csv_parts(
    path: Path,
    is_known_header: Callable[[str], bool],
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    part_bytes: int | None = None,
    min_bytes: int | None = None,
) -> CsvParts | None:
    """`path` as a CSV to read in parts, when it is one that `read_table` would read whole
    as UTF-8 and it is at least `min_bytes` large; None otherwise (a workbook, another
    encoding, a file with NUL bytes, lines ended by CR alone, a small file): `read_table`
    reads those, and says what is wrong with them."""
    if sheet or not path.is_file() or path.suffix.lower() in EXCEL_SUFFIXES:
        return None
    if encoding is not None and codecs.lookup(encoding).name != "utf-8":
        return None
    part_bytes = PART_BYTES if part_bytes is None else part_bytes
    min_bytes = STREAM_BYTES if min_bytes is None else min_bytes
    size = path.stat().st_size
    if size < max(min_bytes, 1) or _looks_like_zip(path):
        return None
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    used = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    if not _plain_utf8_lines(path, skip=3 if used == "utf-8-sig" else 0):
        return None
    text = head[3:] if used == "utf-8-sig" else head
    head_text = text.decode("utf-8", errors="ignore")  # a character cut at the end
    head_rows = _head_rows(head_text)
    delimiter = _sniff_delimiter(head_rows)
    try:
        rows = list(csv.reader(io.StringIO("\n".join(head_rows)), delimiter=delimiter))
    except csv.Error:
        return None  # read whole, to say what is wrong
    header_index = _find_header(rows, is_known_header)
    headers = [cell.strip() for cell in rows[header_index]] if rows else []
    while headers and not headers[-1]:
        headers.pop()
    if not headers or any("\n" in cell or "\r" in cell for cell in rows[header_index]):
        return None
    if header_index and any('"' in line for line in head_rows[: header_index + 1]):
        return None  # a quoted title above the header: the whole reader counts its lines
    return CsvParts(path, headers, header_index, delimiter, used, part_bytes)


def _plain_utf8_lines(path: Path, *, skip: int) -> bool:
    """Whether the file (after `skip` bytes) is valid UTF-8 without NUL bytes, its lines
    ended by LF or CRLF (not by CR alone): what the parts can be cut from as they are."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    crs = lfs = crlfs = 0
    tail = b""
    with path.open("rb") as handle:
        handle.read(skip)
        while True:
            block = handle.read(_CHECK_BYTES)
            if b"\x00" in block:
                return False
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError:
                return False
            if not block:
                break
            crs += block.count(b"\r")
            lfs += block.count(b"\n")
            crlfs += (tail + block).count(b"\r\n")
            tail = block[-1:]
    return not crs or crs - crlfs <= lfs
