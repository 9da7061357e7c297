"""Opening a haowu database: the file lock, read and write connections, transactions, and
what the file system or a foreign file refuses, as messages a user can act on.

DuckDB lets one process hold a database file for writing, and while it does, every other open
fails at once. So haowu opens late and closes early; writers queue behind a lock file
(`<db>.lock`) for up to `lock_timeout` seconds, and every open retries while another process
holds the file. A user sees a wait, then success, or after the timeout a clear message.
"""

from __future__ import annotations

import errno
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from haowu_cli.errors import (
    HaowuError,
    LockTimeout,
    StorageError,
    TransactionConflict,
    UnusableDatabase,
)
from haowu_cli.i18n import _
from haowu_cli.store.memory import apply_memory_settings, memory_limit
from haowu_cli.store.schema import SCHEMA_VERSION, apply_migrations, known_schema_version
from haowu_cli.store.sql import database_path, run

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "CONFLICT_RETRIES",
    "DEFAULT_LOCK_TIMEOUT",
    "Store",
    "migrate",
    "open_store",
    "retry_conflicts",
    "storage_error",
    "transaction",
    "write_transaction",
]

DEFAULT_LOCK_TIMEOUT = 120.0


# Every connection: no extension is ever downloaded or loaded behind haowu's back (a SQLite
# file would otherwise make DuckDB fetch its SQLite reader from the network).
_CONNECTION_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}

# What the file system can refuse, as a user should hear it, and what to do about it.
_REFUSALS = {
    errno.EACCES: ("permission denied", "ask the owner of {where} for access, or work on a copy"),
    errno.EPERM: ("permission denied", "ask the owner of {where} for access, or work on a copy"),
    errno.EROFS: (
        "the file system is read-only",
        "copy the database to a writable folder and use --db COPY, or mount it read-write",
    ),
    errno.ENOSPC: ("the disk is full", "free some space on that disk, then run it again"),
    errno.EDQUOT: ("the disk quota is used up", "free some space, then run it again"),
    errno.EFBIG: (
        "the size limit for files (ulimit -f) is reached",
        "raise the limit, then run it again",
    ),
}


def storage_error(exc: BaseException, path: Path, *, writing: bool) -> StorageError | None:
    """The file system's refusal behind `exc` (an OSError, or DuckDB's error quoting one) as a
    message saying what happened and what to do; None when `exc` is something else."""
    code = exc.errno if isinstance(exc, OSError) else None
    if code not in _REFUSALS:
        text = str(exc)
        code = next((c for c in _REFUSALS if os.strerror(c) in text), None)
        if code is None:
            return None
        quoted = re.search(r'"([^"]+)"', text)
        file = quoted.group(1) if quoted else str(path)
    else:
        file = str(getattr(exc, "filename", None) or path)
    what, todo = _REFUSALS[code]
    where = Path(file).parent if code in (errno.EACCES, errno.EPERM) and writing else file
    reason = f"{what} ({file})"
    if writing:
        message = _("cannot write to database {path}: {reason}; nothing was changed").format(
            path=path, reason=reason
        )
    else:
        message = _("cannot read database {path}: {reason}").format(path=path, reason=reason)
    return StorageError(message, hint=todo.format(where=where), reason=reason)


def _is_lock_conflict(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def _what_file(path: Path) -> str | None:
    """What `path` seems to be when DuckDB cannot open it; None when it looks like DuckDB's."""
    if path.is_dir():
        return "a folder"
    try:
        with path.open("rb") as file:
            head = file.read(4096)
    except OSError:
        return None
    if not head:
        return _("an empty file")
    if head[8:12] == b"DUCK":
        return None
    if head.startswith(b"SQLite format 3\0"):
        return _("a SQLite database")
    if head.startswith(b"PK\x03\x04"):
        return _("a zip file (an Excel workbook?)")
    if head.startswith(b"PAR1"):
        return _("a Parquet file")
    if b"\0" not in head:
        return _("a text file")
    return _("not a DuckDB database file")


def _holder(exc: Exception) -> str:
    """Who holds DuckDB's lock, from its message: `PID 123: haowu import a.csv` where the
    process's command line can be read, else `PID 123: /usr/bin/python3`."""
    found = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(exc))
    if not found:
        return _("another process")
    program, pid = found.groups()
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        argv = [a for a in argv if a]
        if len(argv) > 1 and Path(argv[1]).name == "haowu":
            argv = argv[1:]  # the interpreter running the haowu script
        program = " ".join([Path(argv[0]).name, *argv[1:]])
    except (OSError, IndexError):
        pass
    program = " ".join(program.split())  # one line, whatever the arguments hold
    if len(program) > 80:
        program = program[:77] + "..."
    return f"PID {pid}: {program}"


def _writer_holds(lock_path: Path) -> bool:
    """Whether a haowu writer holds the lock file now; asked without creating or writing it."""
    try:
        import fcntl
    except ImportError:  # Windows: unknown, say the likelier
        return True
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # also lets go of the shared lock this probe may have taken
    return False


class Store:
    """A haowu database file. Use `write()` or `read()`; both close the file when done.

    A missing file is a fresh database for writers; readers say there is none. A file that is
    not a haowu database (not DuckDB's, or another application's DuckDB file), or one written by
    a newer haowu, is refused (`UnusableDatabase`, exit 2). What the file system refuses
    (permissions, read-only, disk full) is a `StorageError` (exit 1), never a bug.
    """

    data_path: str | None = None  # a lake's shared data folder (`LakeStore`)

    def __init__(self, path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        memory_limit()  # a HAOWU_MEMORY_LIMIT that is no size: said before anything starts

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def write(self, *, scratch: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection, schema up to date; other writers wait for it.

        `scratch` is for dry runs, which roll back what they do: where the database does
        not exist yet, they get an empty one in memory instead of creating the file.
        """
        import duckdb
        from filelock import FileLock, Timeout

        if scratch and not self.path.exists():
            con = duckdb.connect(":memory:", config=_CONNECTION_CONFIG)
            run(con, "SET enable_progress_bar = false")
            try:
                apply_memory_settings(con, None)
                migrate(con)
                yield con
            finally:
                con.close()
            return
        if not self.path.parent.exists():
            raise HaowuError(
                _("{path}: folder {parent} does not exist").format(
                    path=self.path, parent=self.path.parent
                )
            )
        deadline = time.monotonic() + self.lock_timeout
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=self.lock_timeout)
        except Timeout as exc:
            raise self._busy_error(None) from exc
        except OSError as exc:  # the lock file cannot be made: a read-only folder, say
            refused = storage_error(exc, self.path, writing=True)
            if refused is None:
                raise
            raise refused from exc
        try:
            con = self._connect(read_only=False, deadline=deadline)
            try:
                migrate(con)
                yield con
            except duckdb.Error as exc:
                refused = storage_error(exc, self.path, writing=True)
                if refused is None:
                    raise
                raise refused from exc
            finally:
                con.close()
        finally:
            lock.release()

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection. Waits while a writer holds the file.

        An older schema is brought up to date first when the file can be written; when it
        cannot (a read-only file, folder or medium), the error says an upgrade is needed.
        """
        if not self.path.exists():
            raise HaowuError(
                _("no haowu database at {path}").format(path=self.path),
                hint=_("import a sheet first (haowu import FILE), or point --db at your database"),
            )
        deadline = time.monotonic() + self.lock_timeout
        con = self._connect(read_only=True, deadline=deadline)
        try:
            version = known_schema_version(con)
            if version < SCHEMA_VERSION:
                con.close()
                self._upgrade(version)
                con = self._connect(read_only=True, deadline=deadline)
            yield con
        finally:
            con.close()

    def _upgrade(self, version: int) -> None:
        try:
            with self.write():  # brings the schema up to date
                pass
        except StorageError as exc:
            raise StorageError(
                _(
                    "database {path} has schema version {version}, older than this haowu's "
                    "({SCHEMA_VERSION}); it must be upgraded before it can be read, and it "
                    "cannot be written: {reason}; nothing was changed"
                ).format(
                    path=self.path,
                    version=version,
                    SCHEMA_VERSION=SCHEMA_VERSION,
                    reason=exc.reason,
                ),
                hint=_(
                    "any haowu command upgrades it when run by someone who may write it; or "
                    "copy it to a writable folder and read the copy with --db COPY"
                ),
            ) from exc

    def _connect(self, *, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        import duckdb

        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=_CONNECTION_CONFIG)
                run(con, "SET enable_progress_bar = false")  # haowu draws its own
                try:
                    apply_memory_settings(con, self.path)  # a cap, spilling beyond it
                except BaseException:
                    con.close()
                    raise
                return con
            except duckdb.Error as exc:
                if not _is_lock_conflict(exc):
                    raise self._open_error(exc, writing=not read_only) from exc
                if time.monotonic() + pause > deadline:
                    raise self._busy_error(exc, locked=not read_only) from exc
                time.sleep(pause)
                pause = min(pause * 2, 0.5)

    def _open_error(self, exc: Exception, *, writing: bool) -> HaowuError:
        refused = storage_error(exc, self.path, writing=writing)
        if refused is not None:
            return refused
        what = _what_file(self.path)
        if what is not None:
            return UnusableDatabase(
                _("{path} is {what}, not a haowu database").format(path=self.path, what=what),
                hint=_(
                    "point --db at your haowu database; where no file exists, haowu creates one"
                ),
            )
        return HaowuError(_("cannot open database {path}: {exc}").format(path=self.path, exc=exc))

    def _busy_error(self, exc: Exception | None, *, locked: bool = False) -> LockTimeout:
        """Who kept the database busy: a haowu writer (the lock file, or DuckDB's lock while
        the lock file is held), a process reading it, or another program writing to it.
        `locked`: this process holds the lock file, so no haowu writer is in the way."""
        busy = _("database {path} stayed busy for {lock_timeout:g} s").format(
            path=self.path, lock_timeout=self.lock_timeout
        )
        hint = _("try again when it has finished, or wait longer with --lock-timeout SECONDS")
        if exc is None:
            return LockTimeout(
                _("{busy}: another haowu command is writing to it").format(busy=busy), hint=hint
            )
        holder = _holder(exc)
        if "read-only mode" in str(exc):  # DuckDB's hint when the holder only reads
            return LockTimeout(
                _("{busy}: another process is reading it ({holder})").format(
                    busy=busy, holder=holder
                ),
                hint=hint,
            )
        if not locked and _writer_holds(self.lock_path):
            return LockTimeout(
                _("{busy}: another haowu command is writing to it ({holder})").format(
                    busy=busy, holder=holder
                ),
                hint=hint,
            )
        return LockTimeout(
            _("{busy}: another program has it open for writing ({holder})").format(
                busy=busy, holder=holder
            ),
            hint=_("close that program (a DuckDB shell or a notebook?), then run this again"),
        )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any exception (Ctrl-C included). The file system refusing
    a write (disk full, read-only) becomes a `StorageError`; nothing was changed."""
    import duckdb

    run(con, "BEGIN TRANSACTION")
    try:
        yield
    except BaseException as exc:
        try:
            run(con, "ROLLBACK")
        except duckdb.Error as failed:
            # A connection already closed (Ctrl-C can land as DuckDB tears it down) holds no
            # transaction any more: nothing was committed, the interrupt is what to report.
            closed = "connection already closed" in str(failed).lower()
            if not isinstance(exc, duckdb.Error) and not closed:
                raise
            # DuckDB gave up on the connection after a failed write: nothing was committed
        if isinstance(exc, duckdb.Error):
            refused = storage_error(exc, Path(database_path(con)), writing=True)
            if refused is not None:
                raise refused from exc
        raise
    try:
        run(con, "COMMIT")
    except duckdb.Error as exc:
        from haowu_cli.store.lake import is_conflict

        if is_conflict(exc):  # team mode: another writer committed the same data first
            raise TransactionConflict(
                _(
                    "another haowu command changed the same data at the same time; this "
                    "one was not written: nothing was changed"
                ),
                hint=_("run it again"),
            ) from exc
        refused = storage_error(exc, Path(database_path(con)), writing=True)
        if refused is None:
            raise
        raise refused from exc


# Team mode: how many times, at least, a transaction DuckLake refused at commit is run again.
CONFLICT_RETRIES = 8

_T = TypeVar("_T")


def retry_conflicts(
    work: Callable[[], _T], attempts: int = CONFLICT_RETRIES, patience: float = 0.0
) -> _T:
    """Run `work` (one whole transaction: a file's import, a grading run) and run it again
    from the start when DuckLake refuses its commit because another writer committed the same
    data first: `attempts` times at least, and on while `patience` seconds (a lake's
    `--lock-timeout`) have not passed since the first try. Nothing of a refused try was
    written. On a local file no conflict arises: the lock file queues the writers."""
    from haowu_cli.store.lake import retry_pause

    deadline = time.monotonic() + patience
    attempt = 0
    while True:
        try:
            return work()
        except TransactionConflict:
            attempt += 1
            if attempt >= attempts and time.monotonic() >= deadline:
                raise
            retry_pause(min(attempt - 1, 5))


def write_transaction(
    store: Store,
    work: Callable[[duckdb.DuckDBPyConnection], _T],
    *,
    scratch: bool = False,
) -> _T:
    """One writing command's unit: open `store` for writing, BEGIN, `work(con)`, COMMIT, and
    all of it again from the start (`retry_conflicts`) when team mode's DuckLake refuses the
    commit. `work` only changes the database (what it prints or writes to files comes after),
    so a second try repeats nothing a user saw. `scratch`: a dry run's (`Store.write`)."""

    def once() -> _T:
        with store.write(scratch=scratch) as con, transaction(con):
            return work(con)

    return retry_conflicts(once, patience=store.lock_timeout)


def open_store(
    db: str | Path,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    data_path: str | Path | None = None,
) -> Store:
    """The database `--db` names: a file (`Store`, writers queue on its lock file), or
    `ducklake:postgres:CONNINFO` with its shared data folder (`LakeStore`, team mode)."""
    from haowu_cli.store.lake import LakeStore, is_lake_spec

    if is_lake_spec(db):
        return LakeStore(str(db), data_path, lock_timeout=lock_timeout)
    return Store(Path(db), lock_timeout=lock_timeout)


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create or upgrade the schema in one transaction; record its version."""
    current = known_schema_version(con)
    if current == SCHEMA_VERSION:
        return
    with transaction(con):
        if current == 0:
            from haowu_cli.store.lake import create_sequences_table, is_lake

            if is_lake(con):
                create_sequences_table(con)
        apply_migrations(con, current)
