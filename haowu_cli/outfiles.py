"""Files haowu creates for people (exports, pages, rejects): checked first, then written whole.

A target is checked before anything is written to it:

- it is not the database, its `.wal` or `.lock`, nor an input of the same command: paths are
  compared resolved (`x/../haowu.duckdb` is the database) and existing files by device and
  inode (a hard link to the database is the database);
- in team mode, it is not in the lake's shared data folder (`--data-path`), however that is
  reached: DuckLake's files are the data, and a file of ours among them is at best clutter
  on every team member's mount, at worst taken for the lake's;
- it is not a symbolic link: haowu never writes through a link, and it does not silently
  replace one either (a link planted in a shared folder is left for a person to look at);
- it is a regular file or does not exist yet (a folder, a FIFO, a device is refused), and
  its folder exists.

Then the file is written into a new temporary file in the target's folder, created with
`O_EXCL | O_NOFOLLOW` (it can be neither an existing file nor a planted link), and renamed
over the target, which replaces the target's directory entry and follows nothing. A failure
removes the temporary file: the target is written whole or not at all. A new file gets the
permissions any program's new file gets (0666 less the umask); a file written over keeps its
permissions, as the shell's `>` keeps them.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO, NamedTuple

from haowu_cli.errors import HaowuError, UsageError
from haowu_cli.i18n import _

_CREATE = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class Kept(NamedTuple):
    """A path no output may be: `path` (`what` it is, for the message), or with `folder`,
    any file in that folder or below it."""

    path: Path
    what: str
    folder: bool = False


def database_files(db: Path) -> list[Kept]:
    """The files of a database that no output may be: the database, its WAL and its lock."""
    return [
        Kept(db, _("the database")),
        Kept(db.with_name(db.name + ".wal"), _("the database's write-ahead log")),
        Kept(db.with_name(db.name + ".lock"), _("the database's lock file")),
    ]


def protected(
    db: Path | None, inputs: Iterable[Path] = (), *, data_path: str | None = None
) -> list[Kept]:
    """What a command's outputs must not overwrite: the database files and its inputs, and
    in team mode no file in the lake's shared data folder `data_path` (a URL holds none of
    ours)."""
    kept = database_files(db) if db is not None else []
    kept += [Kept(path, _("an input of this command")) for path in inputs]
    if data_path and "://" not in data_path:
        kept.append(Kept(Path(data_path), "", folder=True))
    return kept


def check_target(target: Path, *, option: str, protect: Iterable[Kept] = ()) -> None:
    """Refuse (exit 2) a target haowu must not write: see the module's docstring. `option`
    names where the target came from in the message (`--out`, `--html`, `--rejects`)."""
    for path, what, inside in protect:
        if inside and _in_folder(target, path):
            raise UsageError(
                _(
                    "{option} {target} is in the lake's shared data folder ({path}): it "
                    "holds DuckLake's data files and nothing else"
                ).format(option=option, target=target, path=path),
                hint=_("name another file"),
            )
        if not inside and _same_file(target, path):
            raise UsageError(
                _("{option} {target} is {what} ({path}): haowu will not write over it").format(
                    option=option, target=target, what=what, path=path
                ),
                hint=_("name another file"),
            )
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(
            _("{option} {target}: cannot be used: {strerror}").format(
                option=option, target=target, strerror=exc.strerror
            )
        ) from exc
    if info is not None:
        if stat.S_ISLNK(info.st_mode):
            raise UsageError(
                _(
                    "{option} {target} is a symbolic link: haowu does not write through "
                    "links, nor replace them"
                ).format(option=option, target=target),
                hint=_("remove the link, or name the file it points to"),
            )
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(
                _("{option} {target} is a folder").format(option=option, target=target),
                hint=_("name a file in it"),
            )
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(
                _(
                    "{option} {target} is not a regular file (a device, a FIFO or a "
                    "socket): haowu writes only regular files"
                ).format(option=option, target=target),
                hint=_("name a file, or leave the option out to write to stdout"),
            )
    folder = folder_of(target)
    if not folder.is_dir():
        raise UsageError(
            _("{option} {target}: the folder {folder} does not exist").format(
                option=option, target=target, folder=folder
            )
        )


def check_writable(target: Path, *, option: str) -> None:
    """Refuse (exit 2) a target whose folder does not let haowu create a file: tried for real
    (a file created and removed at once), which also sees read-only file systems and works
    for root."""
    try:
        temp, handle = _create_temp(target)
    except OSError as exc:
        raise UsageError(
            _("{option} {target}: cannot write in {folder_of}: {strerror}").format(
                option=option, target=target, folder_of=folder_of(target), strerror=exc.strerror
            )
        ) from exc
    os.close(handle)
    os.unlink(temp)


def write_file(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write `target` whole or not at all: `write(handle)` fills a new temporary file in its
    folder, which is then renamed over `target`. Check the target first (`check_target`)."""
    try:
        kept_mode = _regular_file_mode(target)
        temp, handle = _create_temp(target)
    except OSError as exc:
        raise HaowuError(
            _("cannot write {target}: {strerror}").format(target=target, strerror=exc.strerror)
        ) from exc
    done = False
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            if kept_mode is not None and hasattr(os, "fchmod"):  # POSIX
                os.fchmod(stream.fileno(), kept_mode)
            os.fsync(stream.fileno())
        os.replace(temp, target)
        done = True
    except OSError as exc:
        raise HaowuError(
            _("cannot write {target}: {value}; nothing was written there").format(
                target=target, value=exc.strerror or exc
            )
        ) from exc
    finally:
        if not done:
            temp.unlink(missing_ok=True)


def folder_of(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def _create_temp(target: Path) -> tuple[Path, int]:
    """A new, empty file next to `target`, open for writing; never an existing file or link."""
    folder = folder_of(target)
    name = target.name
    while len(os.fsencode(name)) > 200:  # a valid temporary name whenever the target's is
        name = name[:-1]
    while True:
        temp = folder / f".{name}.{secrets.token_hex(6)}.tmp"
        try:
            return temp, os.open(temp, _CREATE, 0o666)
        except FileExistsError:
            continue


def _regular_file_mode(target: Path) -> int | None:
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _same_file(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        first, second = os.stat(a), os.stat(b)
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def _in_folder(target: Path, folder: Path) -> bool:
    """Whether `target` (which may not exist yet) is `folder` or lies anywhere below it, by
    resolved path or, for a folder reached another way (a link, a bind mount), by device and
    inode of each folder above the target."""
    real = Path(os.path.realpath(target))
    if real.is_relative_to(os.path.realpath(folder)):
        return True
    try:
        kept = os.stat(folder)
    except OSError:
        return False
    for above in real.parents:
        try:
            info = os.stat(above)
        except OSError:
            continue
        if (info.st_dev, info.st_ino) == (kept.st_dev, kept.st_ino):
            return True
    return False
