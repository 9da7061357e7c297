"""The headers of files meant for people (`--headers zh|en`): the run sheet handed to the
host, the rejected rows handed back to whoever fixes the sheet, the exports for finance.

`--headers en` keeps the documented English column names (the same as `--format csv`, so a
script reading the file keeps working); `--headers zh` names the columns as the platform and
the team leaders do (商品ID, 直播价, 佣金比例 …). The Chinese names are gettext messages in
the "column" context (`pgettext`), so they live in the catalog with every other text. Machine
output (`--format json|csv`) never goes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from haowu_cli.i18n import language, pgettext

if TYPE_CHECKING:
    import polars as pl


def _headings() -> dict[str, str]:
    """Each column key and its heading, in the language in use (the key itself in English)."""
    return {
        # run sheet (排品表)
        "session": pgettext("column", "session"),
        "anchor_id": pgettext("column", "anchor_id"),
        "date": pgettext("column", "date"),
        "position": pgettext("column", "position"),
        "start": pgettext("column", "start"),
        "start_minute": pgettext("column", "start_minute"),
        "product_id": pgettext("column", "product_id"),
        "merchant_id": pgettext("column", "merchant_id"),
        "title": pgettext("column", "title"),
        "category_l1": pgettext("column", "category_l1"),
        "category_l2": pgettext("column", "category_l2"),
        "category_l3": pgettext("column", "category_l3"),
        "role": pgettext("column", "role"),
        "live_price": pgettext("column", "live_price"),
        "list_price": pgettext("column", "list_price"),
        "mechanism": pgettext("column", "mechanism"),
        "commission_rate": pgettext("column", "commission_rate"),
        "service_fee_rate": pgettext("column", "service_fee_rate"),
        "stock": pgettext("column", "stock"),
        "minutes": pgettext("column", "minutes"),
        "expected_units": pgettext("column", "expected_units"),
        "expected_gmv": pgettext("column", "expected_gmv"),
        "expected_commission": pgettext("column", "expected_commission"),
        "expected_team_income": pgettext("column", "expected_team_income"),
        "objective_value": pgettext("column", "objective_value"),
        "note": pgettext("column", "note"),
        # rejected rows
        "file": pgettext("column", "file"),
        "row": pgettext("column", "row"),
        "column": pgettext("column", "column"),
        "value": pgettext("column", "value"),
        "reason": pgettext("column", "reason"),
    }


def headings(columns: list[str], code: str | None = None) -> dict[str, str]:
    """`columns` (keys) and their headings in language `code` (default: the language in
    use); a column without a heading keeps its key."""
    if code is None:
        found = _headings()
    else:
        with language(code):
            found = _headings()
    return {c: found.get(c, c) for c in columns}


def for_people(
    frame: pl.DataFrame, code: str | None = None, kinds: Mapping[str, str] | None = None
) -> tuple[pl.DataFrame, dict[str, str]]:
    """`frame` with its columns headed in language `code`, and `kinds` (what each column
    holds, for the writers) keyed by the new headings."""
    names = headings(list(frame.columns), code)
    renamed = frame.rename(names)
    return renamed, {names.get(k, k): v for k, v in (kinds or {}).items()}
