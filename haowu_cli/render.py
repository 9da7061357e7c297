"""Everything haowu shows a person or a machine: tables, CSV/JSON, progress, messages.

The only module that imports Rich, lazily, so `haowu --help` stays instant. stdout carries
data (tables, CSV, JSON); messages, progress and errors go to stderr. Outside a terminal, or
with `--quiet`, there is no colour and no progress bar.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from haowu_cli.i18n import _
from haowu_cli.tables import Column

if TYPE_CHECKING:
    import polars as pl
    from rich.console import Console
    from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class Output:
    """Where and how output goes; tests hand in their own streams."""

    def __init__(
        self,
        *,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        quiet: bool = False,
    ) -> None:
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self.quiet = quiet

    @property
    def interactive(self) -> bool:
        """Progress bars only for a person at a terminal."""
        return not self.quiet and _isatty(self.stderr)

    def _console(self, stream: IO[str]) -> Console:
        from rich.console import Console

        # Outside a terminal nothing wraps lines: tables keep their full width.
        width = None if _isatty(stream) else 200
        return Console(file=stream, highlight=False, soft_wrap=True, width=width)

    # --- messages (stderr) ---

    def info(self, message: str) -> None:
        """A message about what was done; silent with --quiet."""
        if not self.quiet:
            self._console(self.stderr).print(message, markup=False)

    def note(self, message: str, style: str = "") -> None:
        """A message for a person at a terminal, styled there; silent with --quiet."""
        if not self.quiet:
            self._console(self.stderr).print(message, style=style or None, markup=False)

    def warn(self, message: str) -> None:
        """A warning that needs a person, printed even with --quiet (cron mails it): the
        result or the data may be wrong and nobody would otherwise notice (README, "Quiet")."""
        self._console(self.stderr).print(
            _("warning: {message}").format(message=message), style="yellow", markup=False
        )

    def notice(self, message: str) -> None:
        """Something unusual that needs no one to act (expected, or recorded anyway), as
        `note: …`; silent with --quiet, so a nightly job does not mail it every night."""
        if not self.quiet:
            self._console(self.stderr).print(
                _("note: {message}").format(message=message), style="yellow", markup=False
            )

    def error(self, message: str, hint: str | None = None) -> None:
        console = self._console(self.stderr)
        console.print(_("error: {message}").format(message=message), style="bold red", markup=False)
        if hint:
            console.print(_("hint: {hint}").format(hint=hint), style="cyan", markup=False)

    def traceback(self, exc: BaseException) -> None:
        """The full traceback of an unexpected error (`--traceback`)."""
        import traceback

        self.stderr.write("".join(traceback.format_exception(exc)))

    # --- data (stdout) ---

    def emit(
        self,
        frame: pl.DataFrame,
        fmt: OutputFormat,
        columns: Sequence[Column] = (),
        *,
        title: str | None = None,
        footer: str | None = None,
    ) -> None:
        """Print rows as a terminal table, CSV (header, UTF-8) or JSON (an array of objects)."""
        if fmt is OutputFormat.csv:
            self.stdout.write(frame.write_csv())
        elif fmt is OutputFormat.json:
            self.stdout.write(to_json(frame.to_dicts()) + "\n")
        else:
            self.table(frame, columns, title=title)
            if footer:
                self.info(footer)

    def table(self, frame: pl.DataFrame, columns: Sequence[Column], *, title: str | None) -> None:
        self._console(self.stdout).print(_rich_table(frame, columns, title))

    @property
    def terminal(self) -> bool:
        """The command's output goes to a terminal (a person watching)."""
        return _isatty(self.stdout)

    @contextmanager
    def screen(self) -> Iterator[Callable[[Sequence[str], Sequence[ScreenTable]], None]]:
        """A view that refreshes in place on the terminal: yields `show(lines, tables)`,
        which replaces what is shown by these lines and tables (frame, columns, title)."""
        from rich.console import Group
        from rich.live import Live
        from rich.text import Text

        console = self._console(self.stdout)
        with Live(console=console, auto_refresh=False, redirect_stderr=False) as live:

            def show(lines: Sequence[str], tables: Sequence[ScreenTable]) -> None:
                parts: list[Text | Table] = [Text(line) for line in lines]
                parts += [_rich_table(frame, columns, title) for frame, columns, title in tables]
                live.update(Group(*parts), refresh=True)

            yield show

    def print_line(self, text: str) -> None:
        """A line of a command's result (stdout), shown even with --quiet."""
        self.stdout.write(text + "\n")

    def write_json(self, value: Any) -> None:
        binary = _utf8_buffer(self.stdout)
        if binary is None:
            for piece in json_pieces(value):
                self.stdout.write(piece)
            self.stdout.write("\n")
            return
        # The frames' rows go out as the bytes Polars writes: decoding them to text and
        # encoding them again took longer than writing them (400,000 rows: about 1 s).
        self.stdout.flush()  # what was written as text goes first
        for part in _json_parts(value):
            binary.write(part.encode("utf-8") if isinstance(part, str) else part)
        binary.write(b"\n")

    @contextmanager
    def spinner(self, label: str) -> Iterator[None]:
        """A spinner with a label on a terminal while something runs; nothing outside one."""
        if not self.interactive:
            yield
            return
        with self._console(self.stderr).status(label):
            yield

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[str, str], None]]:
        """A progress bar on a terminal; outside one, a callback that does nothing.

        The callback takes (item, stage) and advances when an item reaches 'done'.
        """
        if not self.interactive:
            yield lambda _item, _stage: None
            return
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=self._console(self.stderr), transient=True) as bar:
            task = bar.add_task(label, total=total)

            def advance(item: str, stage: str) -> None:
                bar.update(task, description=f"{label} {Path(item).name}: {_(stage)}")
                if stage == "done":
                    bar.advance(task)

            yield advance


def to_json(value: Any) -> str:
    return "".join(json_pieces(value))


def json_pieces(value: Any) -> Iterator[str]:
    """Indented JSON, in pieces. A Polars frame inside `value` becomes an array of row
    objects, one a line, written by Polars: Python's indenting encoder would take seconds
    over 100,000 rows."""
    for piece in _json_parts(value):
        yield piece if isinstance(piece, str) else piece.decode("utf-8")


def _utf8_buffer(stream: IO[str]) -> IO[bytes] | None:
    """The binary stream under a text stream that writes UTF-8, or None."""
    binary = getattr(stream, "buffer", None)
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return binary if binary is not None and encoding == "utf8" else None


def _json_parts(value: Any) -> Iterator[str | bytes]:
    """`json_pieces`, with each frame's rows as UTF-8 bytes."""
    frames: dict[str, pl.DataFrame] = {}

    def default(item: Any) -> Any:
        if hasattr(item, "write_ndjson"):
            key = f"\x00frame{len(frames)}\x00"
            frames[key] = item
            return key
        return str(item)

    text = json.dumps(value, ensure_ascii=False, indent=2, default=default)
    for key, frame in frames.items():
        before, text = text.split(json.dumps(key), 1)
        yield before
        yield from _frame_rows(frame)
    yield text


JSON_SLICE_ROWS = 20_000  # rows written at once: the text of a slice, not the frame's, in memory


def _frame_rows(frame: pl.DataFrame) -> Iterator[bytes]:
    """A frame as a JSON array of row objects, one a line, written a slice at a time (UTF-8:
    as text, the rows' non-ASCII characters made every copy and replace cost more)."""
    import io

    if frame.height == 0:
        yield b"[]"
        return
    yield b"[\n"
    for offset in range(0, frame.height, JSON_SLICE_ROWS):
        written = io.BytesIO()
        frame.slice(offset, JSON_SLICE_ROWS).write_ndjson(written)
        if offset:
            yield b",\n"
        yield written.getvalue().rstrip(b"\n").replace(b"\n", b",\n")
    yield b"\n]"


ScreenTable = tuple["pl.DataFrame", Sequence[Column], str | None]


def _rich_table(frame: pl.DataFrame, columns: Sequence[Column], title: str | None) -> Table:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(
            column.label,
            justify=column.justify,
            max_width=column.max_width,
            no_wrap=column.max_width is None,
            overflow="fold",
        )
    for row in frame.select([c.name for c in columns]).iter_rows():
        table.add_row(*(c.cell(v) for c, v in zip(columns, row, strict=True)))
    return table


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
