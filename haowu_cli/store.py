"""The only module that talks to DuckDB: connections, schema, migrations, locking, writes.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from haowu_cli.errors import HaowuError, LockTimeout, StorageError, UnusableDatabase

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from haowu_cli.ingest.columns import Kind

DEFAULT_LOCK_TIMEOUT = 120.0
UPSERT_SLICE_ROWS = 250_000  # rows compared with the stored ones at a time

# Each entry moves the schema one version up. Released entries are never edited: a change
# is a new entry, so every database ever written can be brought up to date.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    CREATE SEQUENCE import_id_seq START 1;
    CREATE TABLE imports (
        import_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_bytes BIGINT,
        encoding VARCHAR,
        merchant_id VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        rows_read BIGINT,
        inserted BIGINT,
        updated BIGINT,
        unchanged BIGINT,
        rejected BIGINT,
        skipped BIGINT
    );
    CREATE TABLE products (
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR NOT NULL,
        merchant_name VARCHAR,
        title VARCHAR,
        brand VARCHAR,
        category_l1 VARCHAR,
        category_l2 VARCHAR,
        list_price_fen BIGINT,
        live_price_fen BIGINT,
        commission_rate DECIMAL(9,6),
        service_fee_rate DECIMAL(9,6),
        stock BIGINT,
        sales_30d BIGINT,
        gmv_30d_fen BIGINT,
        good_rate DECIMAL(9,6),
        refund_rate DECIMAL(9,6),
        shop_score DECIMAL(4,2),
        ship_hours INTEGER,
        listed_at DATE,
        sample BOOLEAN,
        mechanism VARCHAR,
        extra VARCHAR,               -- JSON object of the sheet's columns haowu does not know
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    CREATE TABLE product_changes (
        import_id BIGINT NOT NULL,
        product_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR
    );
    """,
    """
    CREATE SEQUENCE grade_run_seq START 1;
    CREATE TABLE grade_runs (
        run_id BIGINT PRIMARY KEY,
        as_of DATE NOT NULL,
        merchant_id VARCHAR,            -- the run graded this merchant's products only
        config_fingerprint VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        products BIGINT NOT NULL,
        level_counts VARCHAR NOT NULL,  -- JSON: {"L0": n, ..., "L5": n}
        moved_up BIGINT NOT NULL,
        moved_down BIGINT NOT NULL
    );
    CREATE TABLE grades (
        as_of DATE NOT NULL,
        product_id VARCHAR NOT NULL,
        run_id BIGINT NOT NULL,
        brand DECIMAL(4,1),
        price DECIMAL(4,1),
        distribution DECIMAL(4,1),
        service DECIMAL(4,1),
        sales DECIMAL(4,1),
        total DECIMAL(4,1) NOT NULL,
        level VARCHAR NOT NULL
    );
    """,
    """
    CREATE TABLE anchors (
        anchor_id VARCHAR NOT NULL,
        name VARCHAR,
        fans BIGINT,
        female_share DECIMAL(9,6),
        age_band VARCHAR,
        avg_ticket_fen BIGINT,
        categories VARCHAR[],
        gmv_per_hour_fen BIGINT,
        mcn VARCHAR,
        mcn_share DECIMAL(9,6),
        extra VARCHAR,
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    """,
    """
    CREATE SEQUENCE plan_id_seq START 1;
    CREATE TABLE plans (
        plan_id BIGINT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,          -- optimal | feasible (a time limit cut the proof)
        objective VARCHAR NOT NULL,       -- gmv | commission | team_income
        objective_fen BIGINT NOT NULL,
        bound_fen BIGINT NOT NULL,
        brief VARCHAR NOT NULL,           -- the resolved brief, JSON
        config_fingerprint VARCHAR NOT NULL,
        candidates BIGINT NOT NULL,
        eligible BIGINT NOT NULL,
        variables BIGINT NOT NULL         -- after pruning
    );
    CREATE TABLE plan_items (             -- the run sheets, as planned (a snapshot)
        plan_id BIGINT NOT NULL,
        session INTEGER NOT NULL,         -- 1, 2 … in the brief's order
        anchor_id VARCHAR NOT NULL,
        session_date DATE NOT NULL,
        position INTEGER NOT NULL,
        start_minute INTEGER NOT NULL,
        start VARCHAR NOT NULL,           -- HH:MM
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR NOT NULL,
        title VARCHAR,
        category_l1 VARCHAR,
        role VARCHAR NOT NULL,
        live_price_fen BIGINT NOT NULL,
        mechanism VARCHAR,
        commission_rate DECIMAL(9,6),
        service_fee_rate DECIMAL(9,6),
        stock BIGINT,
        minutes INTEGER NOT NULL,
        expected_units BIGINT NOT NULL,
        expected_gmv_fen BIGINT NOT NULL,
        commission_fen BIGINT NOT NULL,
        team_income_fen BIGINT NOT NULL,
        objective_fen BIGINT NOT NULL,
        note VARCHAR                      -- for the host: 开场, 收尾, 高峰
    );
    """,
    """
    CREATE TABLE orders (
        order_id VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR,              -- the product's, when the sheet has none
        category_l1 VARCHAR,              -- likewise
        anchor_id VARCHAR,
        session_id VARCHAR,
        quantity BIGINT,
        paid_amount_fen BIGINT NOT NULL,
        paid_at DATE,
        status VARCHAR NOT NULL,          -- paid | shipped | received | settled | invalid
        refund_amount_fen BIGINT,
        received_at DATE,
        commission_rate DECIMAL(9,6),     -- in force when paid
        service_fee_rate DECIMAL(9,6),
        second_leader_id VARCHAR,
        second_leader_rate DECIMAL(9,6),
        pay_later BOOLEAN,
        mcn VARCHAR,                      -- the anchor's agency when the order came in
        mcn_share DECIMAL(9,6),           -- and its share then
        shop_score DECIMAL(4,2),          -- the shop's score then (settlement days)
        extra VARCHAR,
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    CREATE TABLE order_changes (
        import_id BIGINT NOT NULL,
        order_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR
    );
    CREATE TYPE ledger_entry AS ENUM ('post', 'reverse');
    CREATE TYPE ledger_account AS ENUM (
        'base', 'merchant', 'anchor', 'agency', 'leader', 'second_leader', 'platform');
    CREATE TYPE ledger_item AS ENUM (
        'base', 'net', 'commission_cut', 'service_fee_cut', 'technical_fee');
    CREATE TABLE ledger (                 -- append-only: rows are added, never changed
        import_id BIGINT NOT NULL,        -- the import that posted it
        posted_at TIMESTAMP NOT NULL,
        order_id VARCHAR NOT NULL,
        entry ledger_entry NOT NULL,      -- post, or reverse (undoes an earlier post)
        account ledger_account NOT NULL,
        item ledger_item NOT NULL,
        party_id VARCHAR,                 -- the merchant, anchor, agency, second leader
        settles_on DATE,                  -- null: not received yet
        merchant_id VARCHAR,              -- the order's, as posted (reports group by these)
        anchor_id VARCHAR,
        session_id VARCHAR,
        paid_on DATE,
        amount_fen BIGINT NOT NULL
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


# Every connection: no extension is ever downloaded or loaded behind haowu's back (a SQLite
# file would otherwise make DuckDB fetch its SQLite reader from the network).
_CONNECTION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

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
        file = str(exc.filename or path)  # type: ignore[union-attr]
    what, todo = _REFUSALS[code]
    where = Path(file).parent if code in (errno.EACCES, errno.EPERM) and writing else file
    reason = f"{what} ({file})"
    if writing:
        message = f"cannot write to database {path}: {reason}; nothing was changed"
    else:
        message = f"cannot read database {path}: {reason}"
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
        return "an empty file"
    if head[8:12] == b"DUCK":
        return None
    if head.startswith(b"SQLite format 3\0"):
        return "a SQLite database"
    if head.startswith(b"PK\x03\x04"):
        return "a zip file (an Excel workbook?)"
    if head.startswith(b"PAR1"):
        return "a Parquet file"
    if b"\0" not in head:
        return "a text file"
    return "not a DuckDB database file"


def _holder(exc: Exception) -> str:
    """Who holds DuckDB's lock, from its message: `PID 123: haowu import a.csv` where the
    process's command line can be read, else `PID 123: /usr/bin/python3`."""
    found = re.search(r"Conflicting lock is held in (.*?) \(PID (\d+)\)", str(exc))
    if not found:
        return "another process"
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

    def __init__(self, path: Path, *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT) -> None:
        self.path = Path(path)
        self.lock_timeout = lock_timeout

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
                migrate(con)
                yield con
            finally:
                con.close()
            return
        if not self.path.parent.exists():
            raise HaowuError(f"{self.path}: folder {self.path.parent} does not exist")
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
                f"no haowu database at {self.path}",
                hint="import a sheet first (haowu import FILE), or point --db at your database",
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
                f"database {self.path} has schema version {version}, older than this haowu's "
                f"({SCHEMA_VERSION}); it must be upgraded before it can be read, and it cannot "
                f"be written: {exc.reason}; nothing was changed",
                hint="any haowu command upgrades it when run by someone who may write it; or "
                "copy it to a writable folder and read the copy with --db COPY",
            ) from exc

    def _connect(self, *, read_only: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        import duckdb

        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=_CONNECTION_CONFIG)
                run(con, "SET enable_progress_bar = false")  # haowu draws its own
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
                f"{self.path} is {what}, not a haowu database",
                hint="point --db at your haowu database; where no file exists, haowu creates one",
            )
        return HaowuError(f"cannot open database {self.path}: {exc}")

    def _busy_error(self, exc: Exception | None, *, locked: bool = False) -> LockTimeout:
        """Who kept the database busy: a haowu writer (the lock file, or DuckDB's lock while
        the lock file is held), a process reading it, or another program writing to it.
        `locked`: this process holds the lock file, so no haowu writer is in the way."""
        busy = f"database {self.path} stayed busy for {self.lock_timeout:g} s"
        hint = "try again when it has finished, or wait longer with --lock-timeout SECONDS"
        if exc is None:
            return LockTimeout(f"{busy}: another haowu command is writing to it", hint=hint)
        holder = _holder(exc)
        if "read-only mode" in str(exc):  # DuckDB's hint when the holder only reads
            return LockTimeout(f"{busy}: another process is reading it ({holder})", hint=hint)
        if not locked and _writer_holds(self.lock_path):
            return LockTimeout(
                f"{busy}: another haowu command is writing to it ({holder})", hint=hint
            )
        return LockTimeout(
            f"{busy}: another program has it open for writing ({holder})",
            hint="close that program (a DuckDB shell or a notebook?), then run this again",
        )


def run(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> None:
    """Execute a statement whose result is not needed, and finish it: DuckDB 2 refuses the
    next statement on a connection while a result is unread."""
    (con.execute(sql) if params is None else con.execute(sql, params)).fetchall()


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict) -> pl.DataFrame:
    """A query's whole result as a Polars frame (the same call on DuckDB 1.5 and 2.x).

    Polars reads the result through the Arrow C stream interface; DuckDB's own `.pl()` goes
    through pyarrow, whose import alone costs a read command a third of its start-up."""
    import polars as pl

    return pl.DataFrame(con.sql(sql, params=params))


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file open on `con`, for messages (asked only when something went wrong)."""
    import duckdb

    try:
        rows = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    except duckdb.Error:
        return "the database"
    return rows[0][0] if rows and rows[0][0] else "the database"


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The haowu schema version of the database on `con`; 0 when it has no tables yet.

    Raises `UnusableDatabase` when it holds tables but no haowu version (another application's
    DuckDB file) or a version haowu never writes.
    """
    import duckdb

    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() ORDER BY 1"
    ).fetchall()
    names = [r[0] for r in tables]
    if not names:
        return 0
    try:
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.Error:  # no meta table, or not haowu's
        rows = []
    if not rows:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise UnusableDatabase(
            f"{_database_path(con)} is a DuckDB database of another application (tables: "
            f"{shown}), not a haowu database",
            hint="point --db at your haowu database; where no file exists, haowu creates one",
        )
    value = rows[0][0]
    if not re.fullmatch(r"[1-9][0-9]{0,5}", str(value)):
        raise UnusableDatabase(
            f"{_database_path(con)} has schema version {value!r}, which no haowu writes "
            f"(this haowu writes version {SCHEMA_VERSION}): the file was changed outside haowu",
            hint="restore the database from a backup, or point --db at another database",
        )
    return int(value)


def known_schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """`schema_version`, refusing a version newer than this haowu knows."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise UnusableDatabase(
            f"{_database_path(con)} has schema version {current}, newer than this haowu knows "
            f"({SCHEMA_VERSION}): a newer haowu wrote it",
            hint="upgrade haowu (pip install -U haowu) to use this database",
        )
    return current


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Create or upgrade the schema in one transaction; record its version."""
    current = known_schema_version(con)
    if current == SCHEMA_VERSION:
        return
    with transaction(con):
        for script in MIGRATIONS[current:]:
            run(con, script)
        run(con, "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])


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
        except duckdb.Error:
            if not isinstance(exc, duckdb.Error):
                raise
            # DuckDB gave up on the connection after a failed write: nothing was committed
        if isinstance(exc, duckdb.Error):
            refused = storage_error(exc, Path(_database_path(con)), writing=True)
            if refused is not None:
                raise refused from exc
        raise
    try:
        run(con, "COMMIT")
    except duckdb.Error as exc:
        refused = storage_error(exc, Path(_database_path(con)), writing=True)
        if refused is None:
            raise
        raise refused from exc


# --- writing an import -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int
    unchanged: int
    conflicts: list[tuple[int, str, str]]  # (row, key, owner in the database)


def apply_rows(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    rows: pl.DataFrame,
    *,
    import_id: int,
) -> ImportCounts:
    """Upsert parsed rows into the kind's table by its key; keep history of tracked fields.

    `rows` holds `_row`, the key, and the staged values of the fields the sheet had. Fields
    the sheet did not have keep their stored values. A row whose key belongs to another owner
    (merchant) in the database is not applied: it comes back in `conflicts`, since a product
    never changes merchant through an import. Call inside a transaction.
    """
    present = [f for f in kind.fields if f.name in rows.columns]
    # The sheet's values as they are stored, read straight from the Polars frame (Arrow).
    stored = [f"{f.type.stored.format(_quote(f.name))} AS {_quote(f.column)}" for f in present]
    if "extra" in rows.columns:
        stored.append("extra")
    con.register("incoming_frame", rows)
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW incoming AS SELECT _row, {', '.join(stored)} "
        "FROM incoming_frame",
    )
    try:
        return _apply_incoming(con, kind, present, import_id, "extra" in rows.columns)
    finally:
        run(con, "DROP VIEW IF EXISTS incoming")
        con.unregister("incoming_frame")


def _apply_incoming(
    con: duckdb.DuckDBPyConnection, kind: Kind, present: list, import_id: int, has_extra: bool
) -> ImportCounts:
    table, key = kind.table, _quote(kind.key)
    conflicts: list[tuple[int, str, str]] = []
    if kind.owner and any(f.name == kind.owner for f in present):
        owner = _quote(kind.owner)
        conflicts = con.execute(
            f"SELECT s._row, s.{key}, t.{owner} FROM incoming s JOIN {table} t USING ({key}) "
            f"WHERE t.{owner} <> s.{owner} ORDER BY s._row"
        ).fetchall()
    run(con, f"CREATE OR REPLACE TEMP TABLE conflicting ({key} VARCHAR)")
    if conflicts:
        con.executemany("INSERT INTO conflicting VALUES (?)", [[k] for _, k, _ in conflicts])
    applicable = f"s.{key} NOT IN (SELECT {key} FROM conflicting)"

    value_columns = [_quote(f.column) for f in present if f.name != kind.key]
    if has_extra:
        value_columns.append("extra")
    tracked = [kind.get(name) for name in kind.tracked if any(f.name == name for f in present)]
    total = con.execute("SELECT count(*) FROM incoming").fetchall()[0][0]
    # Comparing every column of a million stored rows at once holds them all in memory;
    # slices by key hash keep that to a quarter million rows. New rows need no slicing.
    matched = con.execute(
        f"SELECT count(*) FROM incoming s SEMI JOIN {table} t USING ({key})"
    ).fetchall()[0][0]
    slices = max(1, -(-matched // UPSERT_SLICE_ROWS))
    columns = [_quote(f.column) for f in present] + (["extra"] if has_extra else [])
    updated = inserted = 0
    for part in range(slices):
        in_slice = f"hash(s.{key}) % {slices} = {part}"
        stored = f"(SELECT * FROM {table} WHERE hash({key}) % {slices} = {part})"
        if slices == 1:
            in_slice, stored = "TRUE", table
        updated += _update_changed(
            con, kind, value_columns, tracked, import_id, stored, f"{in_slice} AND {applicable}"
        )
        inserted += con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, created_import_id, updated_import_id) "
            f"SELECT {', '.join('s.' + c for c in columns)}, {import_id}, {import_id} "
            f"FROM incoming s ANTI JOIN {stored} t USING ({key}) WHERE {in_slice}"
        ).fetchall()[0][0]
    run(con, "DROP TABLE conflicting")
    return ImportCounts(
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated - len(conflicts),
        conflicts=conflicts,
    )


def _update_changed(
    con: duckdb.DuckDBPyConnection,
    kind: Kind,
    value_columns: list[str],
    tracked: list,
    import_id: int,
    stored: str,
    where: str,
) -> int:
    """Update the stored rows (of the `stored` slice) whose values differ from the incoming
    ones (among `where`), recording the changes of tracked fields first. Returns how many
    rows changed."""
    table, key = kind.table, _quote(kind.key)
    differs = " OR ".join(f"s.{c} IS DISTINCT FROM t.{c}" for c in value_columns) or "FALSE"
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE changed AS SELECT s.* FROM incoming s "
        f"JOIN {stored} t USING ({key}) WHERE ({differs}) AND {where}",
    )
    updated = con.execute("SELECT count(*) FROM changed").fetchall()[0][0]
    if updated and tracked:
        history = " UNION ALL ".join(
            f"SELECT {import_id}, s.{key}, '{f.name}', CAST(t.{_quote(f.column)} AS VARCHAR), "
            f"CAST(s.{_quote(f.column)} AS VARCHAR) FROM changed s JOIN {table} t "
            f"USING ({key}) WHERE s.{_quote(f.column)} IS DISTINCT FROM t.{_quote(f.column)}"
            for f in tracked
        )
        run(con, f"INSERT INTO {kind.history_table} {history}")
    if updated:
        assignments = ", ".join(f"{c} = s.{c}" for c in value_columns)
        run(
            con,
            f"UPDATE {table} t SET {assignments}, updated_import_id = {import_id} "
            f"FROM changed s WHERE t.{key} = s.{key}",
        )
    run(con, "DROP TABLE changed")
    return updated


def next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('import_id_seq')").fetchall()[0][0]


def record_import(con: duckdb.DuckDBPyConnection, record: dict) -> None:
    names = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    run(con, f"INSERT INTO imports ({names}) VALUES ({marks})", list(record.values()))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- reading ---------------------------------------------------------------------------------


def query_products(
    con: duckdb.DuckDBPyConnection,
    *,
    merchant: str | None = None,
    category: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    today=None,
) -> pl.DataFrame:
    """Products matching the filters, in a stable order (merchant, product), with their
    latest grade as of `today` (default: `dates.today()`)."""
    where, params = ["TRUE"], []
    if merchant:
        where.append("p.merchant_id = ?")
        params.append(merchant)
    if category:
        where.append("(p.category_l1 = ? OR p.category_l2 = ?)")
        params += [category, category]
    if search:
        where.append("(p.title ILIKE ? OR p.brand ILIKE ? OR p.product_id = ?)")
        params += [f"%{search}%", f"%{search}%", search]
    # The latest grade of each product rides along (level and total score).
    sql = (
        f"SELECT p.*, g.level, g.total_score FROM products p LEFT JOIN ({LATEST_GRADES}) g "
        f"USING (product_id) WHERE {' AND '.join(where)} ORDER BY p.merchant_id, p.product_id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return _frame(con, sql, [_grade_day(today), *params])


# --- grades ----------------------------------------------------------------------------------

# Each product's latest grade that is not in the future (`?`: today). A grade dated ahead
# (`haowu grade --as-of` a later day with --allow-future) waits for its day, so a database
# that holds one lists, exports, plans and reports by today's grades all the same.
LATEST_GRADES = (
    "SELECT product_id, arg_max(level, as_of) AS level, arg_max(total, as_of) AS total_score "
    "FROM grades WHERE as_of <= ? GROUP BY product_id"
)


def _grade_day(today):
    from haowu_cli import dates

    return today if today is not None else dates.today()


def next_grade_run_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT nextval('grade_run_seq')").fetchall()[0][0]


def save_grades(
    con: duckdb.DuckDBPyConnection, grading_sql: str, as_of, run_id: int, merchant: str | None
) -> tuple[dict[str, int], int, int, object]:
    """Grade every product (a merchant's only, when given: their percentiles are still taken
    among all products) and put the grades in place of that date's earlier ones. Returns the
    count per level, how many moved up and down since the previous date, and that date."""
    if merchant is None:
        run(con, "DELETE FROM grades WHERE as_of = ?", [as_of])
        run(
            con,
            "INSERT INTO grades SELECT ?, product_id, ?, brand, price, distribution, service, "
            f"sales, total, level FROM ({grading_sql})",
            [as_of, run_id],
        )
    else:
        run(
            con,
            "DELETE FROM grades WHERE as_of = ? AND product_id IN "
            "(SELECT product_id FROM products WHERE merchant_id = ?)",
            [as_of, merchant],
        )
        run(
            con,
            "INSERT INTO grades SELECT ?, product_id, ?, brand, price, distribution, service, "
            f"sales, total, level FROM ({grading_sql}) WHERE merchant_id = ?",
            [as_of, run_id, merchant],
        )
    counts = dict(
        con.execute(
            "SELECT level, count(*) FROM grades WHERE run_id = ? GROUP BY level", [run_id]
        ).fetchall()
    )
    # Each product against its own previous grade (a merchant-only run may have graded some
    # products on a date and not others).
    previous = con.execute("SELECT max(as_of) FROM grades WHERE as_of < ?", [as_of]).fetchall()[0][
        0
    ]
    up, down = con.execute(
        "SELECT count(*) FILTER (WHERE g.level > p.level), "
        "count(*) FILTER (WHERE g.level < p.level) "
        "FROM grades g JOIN (SELECT product_id, arg_max(level, as_of) AS level FROM grades "
        "WHERE as_of < ? GROUP BY product_id) p USING (product_id) WHERE g.run_id = ?",
        [as_of, run_id],
    ).fetchall()[0]
    return counts, up, down, previous


def record_grade_run(con: duckdb.DuckDBPyConnection, record: dict) -> None:
    names = ", ".join(record)
    marks = ", ".join("?" for _ in record)
    run(con, f"INSERT INTO grade_runs ({names}) VALUES ({marks})", list(record.values()))


def product_grade(
    con: duckdb.DuckDBPyConnection, product_id: str, as_of=None, *, today=None
) -> dict | None:
    """A product's stored grade on `as_of` (default: its latest not after `today`), with its
    title and category."""
    sql = (
        "SELECT g.*, p.title, p.merchant_id, p.category_l1 FROM grades g "
        "LEFT JOIN products p USING (product_id) WHERE g.product_id = ? "
    )
    params: list = [product_id]
    if as_of is not None:
        sql += "AND g.as_of = ? "
        params.append(as_of)
    else:
        sql += "AND g.as_of <= ? "
        params.append(_grade_day(today))
    result = con.execute(sql + "ORDER BY g.as_of DESC LIMIT 1", params)
    names, rows = [d[0] for d in result.description], result.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def level_changes(con: duckdb.DuckDBPyConnection, since=None) -> pl.DataFrame:
    """Products whose level changed from one grading date to the next, since `since`."""
    return _frame(
        con,
        """
        SELECT c.product_id, p.merchant_id, p.title, c.previous_as_of, c.previous_level,
               c.as_of, c.level,
               CASE WHEN c.level > c.previous_level THEN 'up' ELSE 'down' END AS direction
        FROM (
            SELECT product_id, as_of, level,
                   lag(as_of) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_as_of,
                   lag(level) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_level
            FROM grades
        ) c LEFT JOIN products p USING (product_id)
        WHERE c.previous_level IS NOT NULL AND c.previous_level <> c.level
          AND (? IS NULL OR c.as_of >= ?)
        ORDER BY c.as_of, c.product_id
        """,
        [since, since],
    )


def query_anchors(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every anchor (达人), by ID."""
    return _frame(con, "SELECT * FROM anchors ORDER BY anchor_id", [])


# --- session plans ---------------------------------------------------------------------------

PLAN_ITEM_COLUMNS = (
    "plan_id, session, anchor_id, session_date, position, start_minute, start, product_id, "
    "merchant_id, title, category_l1, role, live_price_fen, mechanism, commission_rate, "
    "service_fee_rate, stock, minutes, expected_units, expected_gmv_fen, commission_fen, "
    "team_income_fen, objective_fen, note"
)


def planning_products(con: duckdb.DuckDBPyConnection, *, today=None) -> pl.DataFrame:
    """What the planner reads of every product: its latest level (not after `today`), and its
    sales strength, the share of products of its category_l1 that sold no more in 30 days
    (0–1]."""
    return _frame(
        con,
        f"""
        SELECT p.product_id, p.merchant_id, p.title, p.category_l1, p.category_l2,
               p.live_price_fen, p.commission_rate, p.service_fee_rate, p.stock, p.sample,
               p.mechanism, g.level,
               cume_dist() OVER (PARTITION BY p.category_l1
                                 ORDER BY coalesce(p.sales_30d, 0)) AS sales_strength
        FROM products p LEFT JOIN ({LATEST_GRADES}) g USING (product_id)
        ORDER BY p.product_id
        """,
        [_grade_day(today)],
    )


def anchor_row(con: duckdb.DuckDBPyConnection, anchor_id: str) -> dict | None:
    result = con.execute("SELECT * FROM anchors WHERE anchor_id = ?", [anchor_id])
    names, rows = [d[0] for d in result.description], result.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def save_plan(con: duckdb.DuckDBPyConnection, record: dict, items: pl.DataFrame) -> int:
    """Store a plan and its run sheets in one transaction; returns the new plan ID."""
    with transaction(con):
        plan_id = con.execute("SELECT nextval('plan_id_seq')").fetchall()[0][0]
        record = {"plan_id": plan_id} | record
        names = ", ".join(record)
        marks = ", ".join("?" for _ in record)
        run(con, f"INSERT INTO plans ({names}) VALUES ({marks})", list(record.values()))
        con.register("plan_items_frame", items)
        try:
            columns = PLAN_ITEM_COLUMNS.replace("plan_id, ", "")
            run(
                con,
                f"INSERT INTO plan_items ({PLAN_ITEM_COLUMNS}) "
                f"SELECT {plan_id}, {columns} FROM plan_items_frame",
            )
        finally:
            con.unregister("plan_items_frame")
    return plan_id


def query_plans(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every saved plan, newest first, with its sessions' anchors and dates."""
    return _frame(
        con,
        """
        SELECT p.plan_id, p.created_at, p.status, p.objective, p.objective_fen,
               string_agg(DISTINCT i.anchor_id, ', ' ORDER BY i.anchor_id) AS anchors,
               min(i.session_date) AS first_date, count(DISTINCT i.session) AS sessions,
               count(i.product_id) AS products
        FROM plans p LEFT JOIN plan_items i USING (plan_id)
        GROUP BY ALL ORDER BY p.plan_id DESC
        """,
        [],
    )


def plan_record(con: duckdb.DuckDBPyConnection, plan_id: int) -> dict | None:
    result = con.execute("SELECT * FROM plans WHERE plan_id = ?", [plan_id])
    names, rows = [d[0] for d in result.description], result.fetchall()
    return dict(zip(names, rows[0], strict=True)) if rows else None


def plan_items(con: duckdb.DuckDBPyConnection, plan_id: int) -> pl.DataFrame:
    return _frame(
        con,
        f"SELECT {PLAN_ITEM_COLUMNS} FROM plan_items WHERE plan_id = ? ORDER BY session, position",
        [plan_id],
    )


# --- orders and the ledger -------------------------------------------------------------------


def order_terms(con: duckdb.DuckDBPyConnection, incoming: pl.DataFrame) -> pl.DataFrame:
    """What the database knows of each incoming order (`order_id`, `product_id`,
    `anchor_id`): `stored` (whether it is), its stored rates, second-level leader, anchor and
    agency share (`*_stored`); its merchant and category (`*_known`: the stored ones while
    the product stays the same, else the product's); its product's current rates
    (`*_product`); its anchor's agency and share (`*_anchor`). Rates in parts per million."""
    import polars as pl

    ids = incoming.select(
        "order_id",
        "product_id",
        pl.col("anchor_id")
        if "anchor_id" in incoming.columns
        else pl.lit(None, pl.String).alias("anchor_id"),
    )
    con.register("incoming_orders", ids)
    ppm = "* 1000000 AS BIGINT)"
    try:
        return _frame(
            con,
            f"""
            SELECT i.order_id, o.order_id IS NOT NULL AS stored,
                   CASE WHEN o.product_id = i.product_id THEN o.merchant_id END
                       AS merchant_stored_same,
                   coalesce(CASE WHEN o.product_id = i.product_id THEN o.merchant_id END,
                            p.merchant_id) AS merchant_id_known,
                   coalesce(CASE WHEN o.product_id = i.product_id THEN o.category_l1 END,
                            p.category_l1) AS category_l1_known,
                   CAST(o.commission_rate {ppm} AS commission_rate_stored,
                   CAST(o.service_fee_rate {ppm} AS service_fee_rate_stored,
                   CAST(p.commission_rate {ppm} AS commission_rate_product,
                   CAST(p.service_fee_rate {ppm} AS service_fee_rate_product,
                   o.second_leader_id AS second_leader_id_stored,
                   CAST(o.second_leader_rate {ppm} AS second_leader_rate_stored,
                   o.anchor_id AS anchor_id_stored,
                   CAST(coalesce(CASE WHEN o.product_id = i.product_id THEN o.shop_score END,
                                 p.shop_score) * 100 AS BIGINT) AS shop_score_known,
                   o.mcn AS mcn_stored, CAST(o.mcn_share {ppm} AS mcn_share_stored,
                   a.mcn AS mcn_anchor,
                   CAST(CASE WHEN a.mcn IS NOT NULL THEN a.mcn_share END {ppm} AS mcn_share_anchor
            FROM incoming_orders i LEFT JOIN orders o USING (order_id)
            LEFT JOIN products p ON p.product_id = i.product_id
            LEFT JOIN anchors a ON a.anchor_id = coalesce(i.anchor_id, o.anchor_id)
            """,
            [],
        ).drop("merchant_stored_same")
    finally:
        con.unregister("incoming_orders")


LEDGER_KEY = (
    "order_id, account, item, party_id, settles_on, merchant_id, anchor_id, session_id, paid_on"
)


def post_ledger(
    con: duckdb.DuckDBPyConnection, split_sql: str, touched_sql: str, import_id: int, posted_at
) -> tuple[int, int]:
    """Post the split (`split_sql`) of the orders `touched_sql` selects where it differs from
    what the ledger holds for them: reversing entries for the old, entries for the new (none
    for an invalid order). Returns how many orders were posted and how many of them reversed
    earlier entries. Call inside a transaction."""
    columns = f"import_id, posted_at, entry, {LEDGER_KEY}, amount_fen"
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE posted AS "
        f"SELECT {LEDGER_KEY}, sum(amount_fen) AS amount_fen FROM ledger "
        f"SEMI JOIN ({touched_sql}) t USING (order_id) "
        "GROUP BY ALL HAVING sum(amount_fen) <> 0",
    )
    if not con.execute("SELECT count(*) FROM posted").fetchall()[0][0]:
        # Nothing posted for these orders yet (a first import): straight in, no comparing.
        run(con, "DROP TABLE posted")
        run(
            con,
            f"INSERT INTO ledger ({columns}) SELECT ?, ?, 'post', {LEDGER_KEY}, amount_fen "
            f"FROM ({split_sql}) ORDER BY order_id",
            [import_id, posted_at],
        )
        posted = con.execute(
            "SELECT count(DISTINCT order_id) FROM ledger WHERE import_id = ?", [import_id]
        ).fetchall()[0][0]
        return posted, 0
    run(con, f"CREATE OR REPLACE TEMP TABLE split_new AS {split_sql}")
    # Orders whose new split differs from the one posted, either way round.
    run(
        con,
        "CREATE OR REPLACE TEMP TABLE changed AS SELECT DISTINCT order_id FROM ("
        f"(SELECT {LEDGER_KEY}, amount_fen FROM split_new EXCEPT "
        f"SELECT {LEDGER_KEY}, amount_fen FROM posted) UNION ALL "
        f"(SELECT {LEDGER_KEY}, amount_fen FROM posted EXCEPT "
        f"SELECT {LEDGER_KEY}, amount_fen FROM split_new))",
    )
    reversed_orders = con.execute(
        "SELECT count(DISTINCT order_id) FROM posted SEMI JOIN changed USING (order_id)"
    ).fetchall()[0][0]
    run(
        con,
        f"INSERT INTO ledger ({columns}) SELECT ?, ?, 'reverse', {LEDGER_KEY}, -amount_fen "
        "FROM posted SEMI JOIN changed USING (order_id)",
        [import_id, posted_at],
    )
    run(
        con,
        f"INSERT INTO ledger ({columns}) SELECT ?, ?, 'post', {LEDGER_KEY}, amount_fen "
        "FROM split_new SEMI JOIN changed USING (order_id) ORDER BY order_id",
        [import_id, posted_at],
    )
    posted = con.execute("SELECT count(*) FROM changed").fetchall()[0][0]
    run(con, "DROP TABLE split_new; DROP TABLE posted; DROP TABLE changed")
    return posted, reversed_orders


def _ledger_filters(filters: dict) -> tuple[str, list]:
    where, params = ["TRUE"], []
    for key, column in (
        ("session", "session_id"),
        ("anchor", "anchor_id"),
        ("merchant", "merchant_id"),
    ):
        if filters.get(key):
            where.append(f"{column} = ?")
            params.append(filters[key])
    if filters.get("start"):
        where.append("paid_on >= ?")
        params.append(filters["start"])
    if filters.get("end"):
        where.append("paid_on <= ?")
        params.append(filters["end"])
    return " AND ".join(where), params


GROUPS = {
    "merchant": "merchant_id",
    "anchor": "anchor_id",
    "session": "session_id",
    "day": "CAST(paid_on AS VARCHAR)",
}


def commission_totals(
    con: duckdb.DuckDBPyConnection, *, by: str, as_of, filters: dict
) -> pl.DataFrame:
    """Ledger totals as of a date (entries posted on or before it, with the merchant, anchor,
    session and day they were posted under), per account and item or per group, account and
    item: `estimated_fen` (every valid order), `settled_fen` (entries whose settlement date
    has come) and `orders` (those with a base left, on the base rows). The filters' `start`
    and `end` are paid dates (`paid_on`), the business date; `as_of` is a posting date."""
    where, params = _ledger_filters(filters)
    group = "NULL" if by == "party" else GROUPS[by]
    return _frame(
        con,
        f"""
        WITH entries AS (
            SELECT {group} AS "group", order_id, account, item, amount_fen, settles_on
            FROM ledger WHERE CAST(posted_at AS DATE) <= ? AND {where}
        ), totals AS (
            SELECT "group", account, item, sum(amount_fen) AS estimated_fen,
                   coalesce(sum(amount_fen) FILTER (WHERE settles_on <= ?), 0) AS settled_fen
            FROM entries GROUP BY ALL
        ), counted AS (  -- orders with a base left (an invalid one nets to 0)
            SELECT "group", count(*) FILTER (WHERE base <> 0) AS orders
            FROM (SELECT "group", order_id, sum(amount_fen) AS base FROM entries
                  WHERE account = 'base' GROUP BY ALL)
            GROUP BY ALL
        )
        SELECT t."group", CAST(t.account AS VARCHAR) AS account,
               CAST(t.item AS VARCHAR) AS item, t.estimated_fen, t.settled_fen,
               CASE WHEN t.account = 'base' THEN coalesce(c.orders, 0) ELSE 0 END AS orders
        FROM totals t LEFT JOIN counted c ON c."group" IS NOT DISTINCT FROM t."group"
        ORDER BY ALL
        """,
        [as_of, *params, as_of],
    )


def orders_posted_later(con: duckdb.DuckDBPyConnection, *, as_of, filters: dict) -> int:
    """Orders paid on or before `as_of` (within the filters) that the ledger first heard of
    after it (imported later): those a report as of that day cannot show."""
    where, params = _ledger_filters(filters)
    return con.execute(
        f"""
        SELECT count(*) FROM (
            SELECT order_id FROM ledger WHERE paid_on <= ? AND {where}
            GROUP BY order_id HAVING min(CAST(posted_at AS DATE)) > ?
        )
        """,
        [as_of, *params, as_of],
    ).fetchall()[0][0]


def ledger_entries(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every ledger entry in posting order, with the merchant, anchor, session and paid date
    it was posted under."""
    return _frame(
        con,
        """
        SELECT import_id, posted_at, order_id, merchant_id, anchor_id, session_id, paid_on,
               CAST(entry AS VARCHAR) AS entry, CAST(account AS VARCHAR) AS account,
               CAST(item AS VARCHAR) AS item, party_id, settles_on, amount_fen
        FROM ledger ORDER BY import_id, order_id, entry DESC, account, item
        """,
        [],
    )


def query_orders(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return _frame(con, "SELECT * FROM orders ORDER BY order_id", [])


# --- reports ---------------------------------------------------------------------------------

# Refunded fen of an order: all of an invalid (refunded, cancelled) one, else its refund.
REFUNDED_FEN = (
    "CASE WHEN status = 'invalid' THEN paid_amount_fen "
    "ELSE least(coalesce(refund_amount_fen, 0), paid_amount_fen) END"
)


def session_orders(
    con: duckdb.DuckDBPyConnection, *, session_id=None, anchor_id=None, start=None, end=None
) -> pl.DataFrame:
    """A session's orders per product: by 专场ID (`session_id`) when given, else the
    anchor's orders paid from `start` to `end`. `orders` counts every order, `units` its
    quantity (1 when the sheet gave none), `gmv_fen` the paid amounts, `refund_fen` what was
    refunded; with the product's title, merchant and category."""
    if session_id is not None:
        where, params = "o.session_id = ?", [session_id]
    else:
        where, params = "o.anchor_id = ? AND o.paid_at BETWEEN ? AND ?", [anchor_id, start, end]
    return _frame(
        con,
        f"""
        SELECT o.product_id, any_value(p.title) AS title,
               coalesce(any_value(o.merchant_id), any_value(p.merchant_id)) AS merchant_id,
               coalesce(any_value(o.category_l1), any_value(p.category_l1)) AS category_l1,
               count(*) AS orders, CAST(sum(coalesce(o.quantity, 1)) AS BIGINT) AS units,
               CAST(sum(o.paid_amount_fen) AS BIGINT) AS gmv_fen,
               CAST(sum({REFUNDED_FEN}) AS BIGINT) AS refund_fen
        FROM orders o LEFT JOIN products p USING (product_id)
        WHERE {where}
        GROUP BY o.product_id ORDER BY o.product_id
        """,
        params,
    )


def session_ids(con: duckdb.DuckDBPyConnection, anchor_id, start, end) -> list[tuple]:
    """The 专场IDs of an anchor's orders paid from `start` to `end`, with their orders (null
    for orders without one), the most orders first."""
    return con.execute(
        "SELECT session_id, count(*) AS orders FROM orders "
        "WHERE anchor_id = ? AND paid_at BETWEEN ? AND ? GROUP BY ALL ORDER BY 2 DESC, 1",
        [anchor_id, start, end],
    ).fetchall()


def merchant_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each merchant's name as its products give it (the most recent sheet's)."""
    return _frame(
        con,
        "SELECT merchant_id, arg_max(merchant_name, updated_import_id) AS merchant_name "
        "FROM products GROUP BY merchant_id ORDER BY merchant_id",
        [],
    )


def monthly_gmv(con: duckdb.DuckDBPyConnection, *, net: bool) -> pl.DataFrame:
    """GMV per merchant and month (`month`: the first day), from every order with a paid
    date: paid amounts, or paid − refunded (`net`); with the orders counted. An order
    without a merchant takes its product's; those with neither have a null merchant."""
    amount = f"paid_amount_fen - ({REFUNDED_FEN})" if net else "paid_amount_fen"
    return _frame(
        con,
        f"""
        SELECT coalesce(o.merchant_id, p.merchant_id) AS merchant_id,
               CAST(date_trunc('month', o.paid_at) AS DATE) AS month,
               count(*) AS orders, CAST(sum({amount}) AS BIGINT) AS gmv_fen
        FROM orders o LEFT JOIN products p USING (product_id)
        WHERE o.paid_at IS NOT NULL
        GROUP BY ALL ORDER BY ALL
        """,
        [],
    )


GRADES_WITH_PREVIOUS = """
    SELECT g.product_id, p.merchant_id, p.title, p.category_l1, g.level,
           prev.as_of AS previous_as_of, prev.level AS previous_level
    FROM grades g LEFT JOIN products p USING (product_id)
    LEFT JOIN (SELECT product_id, max(as_of) AS as_of, arg_max(level, as_of) AS level
               FROM grades WHERE as_of < $as_of GROUP BY product_id) prev USING (product_id)
    WHERE g.as_of = $as_of
"""


def grade_counts(con: duckdb.DuckDBPyConnection, as_of) -> pl.DataFrame:
    """Products graded on a date per category, level and previous level (each product's
    latest grade before that date; null for a first grade), with the latest earlier date."""
    return _frame(
        con,
        f"""
        SELECT category_l1, level, previous_level, count(*) AS products,
               max(previous_as_of) AS previous_as_of
        FROM ({GRADES_WITH_PREVIOUS}) GROUP BY ALL ORDER BY ALL
        """,
        {"as_of": as_of},
    )


def grade_moves(con: duckdb.DuckDBPyConnection, as_of) -> pl.DataFrame:
    """The products whose level on a date differs from their previous grade."""
    return _frame(
        con,
        f"""
        SELECT * FROM ({GRADES_WITH_PREVIOUS})
        WHERE previous_level IS NOT NULL AND previous_level <> level ORDER BY product_id
        """,
        {"as_of": as_of},
    )


def grading_dates(con: duckdb.DuckDBPyConnection) -> list:
    """The dates with grades, from the newest (future ones included: callers pick)."""
    return [
        r[0] for r in con.execute("SELECT DISTINCT as_of FROM grades ORDER BY 1 DESC").fetchall()
    ]
