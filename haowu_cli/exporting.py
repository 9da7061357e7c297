"""Writing CSV files for finance and Excel: atomically, and safe to open in Excel."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from haowu_cli.errors import HaowuError
from haowu_cli.formats import excel_safe


def write_csv(
    frame: pl.DataFrame,
    target: Path | None,
    *,
    excel: bool = False,
    text_columns: Sequence[str] = (),
) -> None:
    """Write `frame` as CSV to `target`, or to stdout when `target` is None.

    `excel`: a UTF-8 byte-order mark (Excel needs it to show Chinese) and free-text cells
    that Excel would run as formulas neutralised. A file is written whole or not at all.
    """
    if excel:
        frame = frame.with_columns(excel_safe(c) for c in text_columns if c in frame.columns)
    if target is None:
        data = frame.write_csv()
        stream = sys.stdout
        if excel:
            stream.write("\ufeff")
        stream.write(data)
        stream.flush()
        return
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise HaowuError(f"cannot write {target}: folder {folder} does not exist")
    handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    os.close(handle)
    try:
        frame.write_csv(temp, include_bom=excel)
        os.replace(temp, target)
    except OSError as exc:
        raise HaowuError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
