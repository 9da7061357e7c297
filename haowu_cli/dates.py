"""Today's date, the one every "in the future" and "default: today" in haowu means.

The business runs on Beijing time (China Standard Time, UTC+8, no daylight saving since 1991),
so today is Beijing's today even on a server whose clock is set to UTC: at 01:00 in Beijing a
UTC server is still on yesterday, and a grade or a report made then would be dated a day early.

`HAOWU_TODAY=YYYY-MM-DD` sets today instead, for tests and for replaying a past day (a cron
job that missed a night); it is not meant for everyday use.
"""

from __future__ import annotations

import datetime as dt
import os

from haowu_cli.errors import UsageError
from haowu_cli.i18n import _

BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def today() -> dt.date:
    """`HAOWU_TODAY` when set, else today in Beijing."""
    given = os.environ.get("HAOWU_TODAY", "").strip()
    if not given:
        return dt.datetime.now(BEIJING).date()
    try:
        return dt.date.fromisoformat(given)
    except ValueError:
        raise UsageError(
            _("HAOWU_TODAY={given!r} is not a date").format(given=given),
            hint=_("give it as YYYY-MM-DD, or unset it"),
        ) from None
