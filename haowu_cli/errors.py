"""Errors a user can act on, and the exit codes every command shares.

The core raises `HaowuError` (or a subclass) with a one-line message and, where it helps, a
hint; `cli.main` turns it into a message on stderr and the error's exit code. Anything else
is a bug and is shown as one (with the traceback only under `--traceback`).
"""

from __future__ import annotations

from enum import IntEnum

from haowu_cli.i18n import _


class ExitCode(IntEnum):
    """Exit codes, documented in the README; they hold for every command."""

    OK = 0
    FAILED = 1  # failure, nothing changed
    USAGE = 2  # usage or configuration error
    REJECTED_ROWS = 3  # done, but some input rows were rejected
    DIFFERENCES = 4  # reconcile: the platform's settlement and haowu's ledger differ
    INTERRUPTED = 130


class HaowuError(Exception):
    """An error with a message for the user and an optional hint on what to do next."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(HaowuError):
    """A configuration file is missing, unreadable or wrong. Lists every problem found."""

    exit_code = ExitCode.USAGE

    def __init__(self, problems: list[str], hint: str | None = None) -> None:
        self.problems = problems
        super().__init__(_("configuration error:\n") + "\n".join(f"  {p}" for p in problems), hint)


class UsageError(HaowuError):
    """The command was given options that cannot work together or a value it cannot use."""

    exit_code = ExitCode.USAGE


class InputFileError(HaowuError):
    """A whole input file cannot be imported (unreadable, wrong encoding, missing columns)."""


class LockTimeout(HaowuError):
    """Another haowu process kept the database busy for longer than --lock-timeout."""


class TransactionConflict(HaowuError):
    """Team mode: another writer committed a change to the same data first; this transaction
    was refused at commit, so nothing of it was written. Retried a few times, then shown."""


class UnusableDatabase(HaowuError):
    """The --db file is not a database this haowu can use: not a haowu database at all (another
    application's, an empty or a text file), or one written by a newer haowu."""

    exit_code = ExitCode.USAGE


class StorageError(HaowuError):
    """The file system refused: permission denied, read-only, disk full, file too large. Not a
    bug in haowu; the message says what happened and what to do. `reason` is the refusal
    alone (`permission denied (/data/haowu.duckdb)`), for messages that explain its effect."""

    def __init__(self, message: str, hint: str | None = None, *, reason: str = "") -> None:
        super().__init__(message, hint)
        self.reason = reason or message


def is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python raises it or as DuckDB reports the query it stopped (an
    `InterruptException`, or a RuntimeError while it scanned a Polars frame), also when
    another error was raised while it was being handled or from it (a message that explains
    a DuckDB error, a rollback that failed because the query was stopped)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _is_interrupt_itself(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_interrupt_itself(exc: BaseException) -> bool:
    if isinstance(exc, KeyboardInterrupt):
        return True
    if any(kind.__name__ == "InterruptException" for kind in type(exc).__mro__):
        return True
    return isinstance(exc, RuntimeError) and "query interrupted" in str(exc).lower()
