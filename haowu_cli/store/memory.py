"""How much memory DuckDB may take, and where it spills beyond that.

DuckDB takes up to 80% of the machine's memory by default. haowu caps it (512 MB unless
`HAOWU_MEMORY_LIMIT` says otherwise) and lets it spill what does not fit to a folder next to
the database (`<db>.tmp`, or `HAOWU_TEMP_DIR`), so that a command's memory does not grow with
the size of the database or of a file: large sorts, joins and aggregates go to disk instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from haowu_cli.errors import UsageError
from haowu_cli.i18n import _

if TYPE_CHECKING:
    import duckdb

__all__ = ["DEFAULT_MEMORY_LIMIT", "MEMORY_ENV", "TEMP_ENV", "apply_memory_settings"]

DEFAULT_MEMORY_LIMIT = "512MB"
MEMORY_ENV = "HAOWU_MEMORY_LIMIT"
TEMP_ENV = "HAOWU_TEMP_DIR"
_SIZE = re.compile(r"^\s*[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)


def memory_limit() -> str:
    """DuckDB's memory limit: `HAOWU_MEMORY_LIMIT` (`1GB`, `768MB` …), else 512 MB."""
    given = os.environ.get(MEMORY_ENV, "").strip()
    if not given:
        return DEFAULT_MEMORY_LIMIT
    if not _SIZE.match(given):
        raise UsageError(
            _("{name}={value!r} is not a size").format(name=MEMORY_ENV, value=given),
            hint=_("give a number and a unit, such as 512MB or 2GB"),
        )
    return given.replace(" ", "")


def temp_directory(database: Path) -> Path:
    """Where DuckDB spills: `HAOWU_TEMP_DIR`, else `<db>.tmp` next to the database."""
    given = os.environ.get(TEMP_ENV, "").strip()
    return Path(given) if given else database.with_name(database.name + ".tmp")


def apply_memory_settings(con: duckdb.DuckDBPyConnection, database: Path | None) -> None:
    """Cap DuckDB's memory on `con`, spilling to the temporary folder of `database` (None: a
    database in memory, spilling where `HAOWU_TEMP_DIR` says, if anywhere)."""
    con.execute("SET memory_limit = ?", [memory_limit()])
    if database is not None or os.environ.get(TEMP_ENV, "").strip():
        folder = temp_directory(database or Path("haowu"))
        con.execute("SET temp_directory = ?", [str(folder)])
