"""The run log cron jobs leave behind: one line per run, rotated, in the user log folder."""

from __future__ import annotations

import logging
import shlex
from logging.handlers import RotatingFileHandler
from pathlib import Path

from haowu_cli.errors import HaowuError
from haowu_cli.i18n import _


def default_log_path() -> Path:
    from platformdirs import user_log_dir

    return Path(user_log_dir("haowu", appauthor=False)) / "haowu.log"


def run_logger(path: Path | None, database: Path) -> logging.LoggerAdapter:
    """A logger writing to `path` (default: the user log folder), 1 MB a file, 5 kept. Each
    line ends with the database it is about (`db=/abs/path`): several databases may share
    one log."""
    target = path or default_log_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(target, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError as exc:
        raise HaowuError(
            _("cannot write the run log {target}: {strerror}").format(
                target=target, strerror=exc.strerror
            ),
            hint=_("name another with --log FILE"),
        ) from exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s db=%(database)s"))
    logger = logging.getLogger(f"haowu.run.{target}")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logging.LoggerAdapter(logger, {"database": shlex.quote(str(database.resolve()))})
