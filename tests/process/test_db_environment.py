"""What the file system refuses, through the real process: a read-only folder or file, a
read-only file system, a full disk, the size limit for files. Each is the environment, not a
bug: haowu says what happened and what to do (exit 1), and the database is left intact. A
reader never needs to write: an older schema it cannot upgrade gives a message saying so.

The tests run as root, which file permissions do not stop. So the permission tests run haowu
as root without the capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH),
for which the kernel checks permissions as for anyone; a read-only file system and a full disk
are real mounts (a read-only bind mount, a small tmpfs) in a private mount namespace
(`unshare`); the size limit is RLIMIT_FSIZE with SIGXFSZ ignored, so writes fail with EFBIG.
A test that cannot set up its situation here is skipped with the reason.
"""

from __future__ import annotations

import ctypes
import gzip
import hashlib
import os
import resource
import shutil
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path
from tests.conftest import HEADER, product_row, write_csv
from tests.process.conftest import HAOWU, Ran, clean_env, file_only

pytestmark = file_only(
    "the file system refusing the database file (permissions, full disk, size limit)"
)

SHEET = packaged_path("sample_data") / "m1002_food_utf8bom.csv"  # 10 products
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def without_permission_bypass() -> None:
    """In the child before exec: drop the capabilities that let root ignore file modes."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run(
    args: list,
    *,
    cwd: Path,
    home: Path,
    preexec: Callable[[], None] | None = None,
    wrap: list[str] | None = None,
) -> Ran:
    args = [str(a) for a in args]
    done = subprocess.run(
        [*(wrap or []), str(HAOWU), *args],
        cwd=cwd,
        env=clean_env(home),
        preexec_fn=preexec,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=180,
        check=False,
    )
    return Ran(args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture(scope="module")
def permissions_apply(tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("probe")
    folder.chmod(0o555)
    try:
        probe = subprocess.run(
            ["touch", str(folder / "x")],
            preexec_fn=without_permission_bypass,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"cannot drop the capabilities that bypass file modes here: {exc}")
    finally:
        folder.chmod(0o755)
    if probe.returncode == 0:
        pytest.skip("file modes are not enforced for this user here (no way to drop the bypass)")


def mount_namespace(script: str) -> list[str]:
    """A wrapper running `script` (then the command, as "$@") in a private mount namespace."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]


@pytest.fixture(scope="module")
def mounts_allowed(tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("mount")
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here")
    probe = subprocess.run(
        [*mount_namespace(f'mount -t tmpfs -o size=64k tmpfs "{folder}" && exec "$@"'), "true"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot mount in a private namespace here: {probe.stderr.decode().strip()}")


@pytest.fixture
def database(tmp_path, home) -> Path:
    folder = tmp_path / "shared"
    folder.mkdir()
    target = folder / "haowu.duckdb"
    ran = run(["--db", target, "import", SHEET], cwd=tmp_path, home=home)
    assert ran.code == 0, ran
    return target


def old_database(tmp_path: Path) -> Path:
    folder = tmp_path / "old"
    folder.mkdir()
    target = folder / "haowu.duckdb"
    with gzip.open(FIXTURES / "schema_v1.duckdb.gz", "rb") as packed, target.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return target


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def product_count(database: Path, tmp_path: Path, home: Path, **how) -> int:
    ran = run(["--db", database, "products", "--format", "csv"], cwd=tmp_path, home=home, **how)
    assert ran.code == 0, ran
    return ran.out.count("\n") - 1


def assert_environment_error(ran: Ran, *words: str) -> None:
    assert ran.code == 1, ran
    assert "bug" not in ran.err and "unexpected" not in ran.err, ran
    assert "hint:" in ran.err, ran
    for word in words:
        assert word in ran.err, ran


@pytest.fixture
def locked_folder():
    folders = []

    def lock(folder: Path, mode: int = 0o555) -> None:
        folder.chmod(mode)
        folders.append(folder)

    yield lock
    for folder in folders:
        folder.chmod(0o755)


# --- permissions ----------------------------------------------------------------------------


def test_a_read_only_folder_stops_a_writer_with_a_message_and_the_database_intact(
    permissions_apply, database, locked_folder, tmp_path, home
):
    before = digest(database)
    locked_folder(database.parent)
    ran = run(
        ["--db", database, "import", packaged_path("sample_data") / "m1003_daily_m1007_home.csv"],
        cwd=tmp_path,
        home=home,
        preexec=without_permission_bypass,
    )
    assert_environment_error(ran, f"cannot write to database {database}", "permission denied")
    assert "nothing was changed" in ran.err
    assert f"ask the owner of {database.parent}" in ran.err
    assert digest(database) == before
    # Reading needs no write: it works in the read-only folder, and nothing was added.
    assert product_count(database, tmp_path, home, preexec=without_permission_bypass) == 10


def test_a_new_database_in_a_read_only_folder_is_refused_without_a_trace(
    permissions_apply, locked_folder, tmp_path, home
):
    folder = tmp_path / "shared"
    folder.mkdir()
    locked_folder(folder)
    target = folder / "new.duckdb"
    ran = run(
        ["--db", target, "import", SHEET],
        cwd=tmp_path,
        home=home,
        preexec=without_permission_bypass,
    )
    assert_environment_error(ran, "permission denied")
    assert list(folder.iterdir()) == []


def test_a_read_only_database_file_is_read_but_not_written(
    permissions_apply, database, tmp_path, home
):
    database.chmod(0o444)
    before = digest(database)
    ran = run(
        ["--db", database, "import", SHEET],
        cwd=tmp_path,
        home=home,
        preexec=without_permission_bypass,
    )
    assert_environment_error(ran, "permission denied", "nothing was changed")
    assert digest(database) == before
    assert product_count(database, tmp_path, home, preexec=without_permission_bypass) == 10


@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_an_old_schema_that_cannot_be_written_says_an_upgrade_is_needed(
    read_only, permissions_apply, locked_folder, tmp_path, home
):
    old = old_database(tmp_path)
    if read_only == "file":
        old.chmod(0o444)
    else:
        locked_folder(old.parent)
    before = digest(old)
    ran = run(
        ["--db", old, "products", "--format", "csv"],
        cwd=tmp_path,
        home=home,
        preexec=without_permission_bypass,
    )
    assert_environment_error(ran, "schema version 1", "must be upgraded", "copy it")
    assert ran.out == ""
    assert digest(old) == before
    # Where it can be written, the same reader upgrades it and reads it.
    old.chmod(0o644)
    old.parent.chmod(0o755)
    assert product_count(old, tmp_path, home) == 3


# --- a read-only file system ----------------------------------------------------------------


def read_only_mount(folder: Path) -> list[str]:
    return mount_namespace(
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"'
    )


def test_a_read_only_file_system_stops_writers_and_lets_readers_read(
    mounts_allowed, database, tmp_path, home
):
    before = digest(database)
    wrap = read_only_mount(database.parent)
    ran = run(["--db", database, "import", SHEET], cwd=tmp_path, home=home, wrap=wrap)
    assert_environment_error(ran, "the file system is read-only", "nothing was changed")
    assert "mount it read-write" in ran.err
    assert product_count(database, tmp_path, home, wrap=wrap) == 10
    assert digest(database) == before


def test_an_old_schema_on_a_read_only_file_system_says_an_upgrade_is_needed(
    mounts_allowed, tmp_path, home
):
    old = old_database(tmp_path)
    before = digest(old)
    ran = run(
        ["--db", old, "products", "--format", "csv"],
        cwd=tmp_path,
        home=home,
        wrap=read_only_mount(old.parent),
    )
    assert_environment_error(ran, "schema version 1", "must be upgraded", "read-only")
    assert digest(old) == before


# --- a full disk, the size limit for files ---------------------------------------------------


@pytest.fixture
def big_sheet(tmp_path) -> Path:
    rows = [HEADER] + [product_row(f"B{i}", f"M{i % 40}") for i in range(30_000)]
    return write_csv(tmp_path / "big.csv", rows)


def test_the_file_size_limit_stops_an_import_with_a_message_and_the_database_intact(
    database, big_sheet, tmp_path, home
):
    limit = database.stat().st_size  # the database may not grow, nor its WAL reach that size

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    ran = run(["--db", database, "import", big_sheet], cwd=tmp_path, home=home, preexec=limited)
    assert_environment_error(ran, "size limit for files (ulimit -f)", "nothing was changed")
    assert product_count(database, tmp_path, home) == 10
    ran = run(["--db", database, "import", big_sheet], cwd=tmp_path, home=home)
    assert ran.code == 0, ran
    assert product_count(database, tmp_path, home) == 30_010


def test_a_full_disk_stops_an_import_with_a_message_and_the_database_intact(
    mounts_allowed, database, big_sheet, tmp_path, home
):
    disk = tmp_path / "disk"
    disk.mkdir()
    after = tmp_path / "after"
    after.mkdir()
    size = database.stat().st_size + 128 * 1024
    # A tmpfs just larger than the database; what it holds after the run is copied out.
    wrap = mount_namespace(
        f'mount -t tmpfs -o size={size} tmpfs "{disk}" && cp "{database}" "{disk}/" '
        f'&& {{ "$@"; code=$?; cp "{disk}"/haowu.duckdb* "{after}/"; exit $code; }}'
    )
    ran = run(
        ["--db", disk / "haowu.duckdb", "import", big_sheet], cwd=tmp_path, home=home, wrap=wrap
    )
    assert_environment_error(ran, "the disk is full", "nothing was changed", "free some space")
    assert product_count(after / "haowu.duckdb", tmp_path, home) == 10


def test_storage_messages_are_mapped_from_the_real_error_texts(tmp_path):
    """The root-free part: the texts DuckDB and the OS give, mapped without running as anyone."""
    import errno

    import duckdb

    from haowu_cli.store import storage_error

    path = tmp_path / "haowu.duckdb"
    cases = {
        "permission denied": duckdb.IOException(
            f'IO Error: Cannot open file "{path}": Permission denied'
        ),
        "the file system is read-only": OSError(
            errno.EROFS, os.strerror(errno.EROFS), f"{path}.lock"
        ),
        "the disk is full": duckdb.TransactionException(
            f'TransactionContext Error: Failed to commit: Could not write file "{path}.wal": '
            "No space left on device"
        ),
        "size limit for files": duckdb.TransactionException(
            f'TransactionContext Error: Failed to commit: Could not write file "{path}.wal": '
            "File too large"
        ),
    }
    for what, exc in cases.items():
        error = storage_error(exc, path, writing=True)
        assert error is not None and what in error.message, (what, error)
        assert str(path) in error.message and error.hint
    assert storage_error(duckdb.IOException("IO Error: something else"), path, writing=True) is None
