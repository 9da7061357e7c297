"""跟播: a live session against its plan, at one moment.

`snapshot` takes a session's run sheet (the plan's items for that session), its orders so far
per product (`store.live_orders`) and the moment, and gives the figures the live view and
`haowu live --once` show: the clock against the run sheet, each product's units and GMV
against its plan and its stock, the session's pace, orders per minute, refunds and the team
leader's income so far (estimated), and the products sold that are not on the sheet.

Money is integer fen. Times are Beijing time (naive datetimes, as the database keeps them).
Orders that only know their day (haowu's own order sheets have 支付时间 as a date) are counted
as paid by the moment, but cannot say when: they are counted in `untimed_orders`, and the pace
of orders per minute uses the timed ones only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import polars as pl

PPM = 1_000_000


@dataclass(frozen=True)
class SessionSheet:
    """One session of a plan: its run sheet and when it starts."""

    plan_id: int
    session: int
    anchor_id: str
    session_date: date
    start: datetime
    minutes: int  # the run sheet's length (the last slot's end)
    items: pl.DataFrame  # the plan's items of this session, in order


def session_sheet(plan_id: int, items: pl.DataFrame, session: int) -> SessionSheet | None:
    """The run sheet of `session` among a plan's items; None when the plan has no such
    session."""
    part = items.filter(pl.col("session") == session).sort("position")
    if part.is_empty():
        return None
    first = part.row(0, named=True)
    hours, minutes = (int(x) for x in str(first["start"]).split(":"))
    day = first["session_date"]
    start = datetime.combine(day, time(0, 0)) + timedelta(
        minutes=hours * 60 + minutes - int(first["start_minute"])
    )
    # (integer columns: polars types their max as any scalar)
    end = int((part["start_minute"] + part["minutes"]).max())  # type: ignore[arg-type]
    return SessionSheet(plan_id, session, first["anchor_id"], day, start, end, part)


def moment(sheet: SessionSheet, at: str) -> datetime:
    """HH:MM on the session's day; a time before the session's start hour that would fall
    more than 12 hours before it is taken as the next day (a session past midnight)."""
    hours, minutes = (int(x) for x in at.split(":"))
    when = datetime.combine(sheet.session_date, time(hours, minutes))
    if when < sheet.start - timedelta(hours=12):
        when += timedelta(days=1)
    return when


def _fen(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def team_income_fen(gmv_fen: int, service_fee_rate: object, cut_ppm: int) -> int:
    """GMV × service-fee rate × (1 − the platform's cut), half up to the fen (the planner's
    rule, so that it compares with the plan's figure)."""
    if not gmv_fen or service_fee_rate is None:
        return 0
    return _fen(
        Decimal(gmv_fen) * Decimal(str(service_fee_rate)) * Decimal(PPM - cut_ppm) / Decimal(PPM)
    )


def snapshot(
    sheet: SessionSheet,
    orders: pl.DataFrame,
    at: datetime,
    *,
    stock_warning: float,
    window_minutes: int,
    cut_ppm: int,
) -> dict:
    """The figures at `at` (see the module's docstring); stable snake_case keys."""
    minute = (at - sheet.start).total_seconds() / 60
    sold = {row["product_id"]: row for row in orders.iter_rows(named=True)}
    products, expected_now, now_item, next_item = [], 0, None, None
    for item in sheet.items.iter_rows(named=True):
        begin, length = int(item["start_minute"]), int(item["minutes"])
        share = min(max((minute - begin) / length, 0.0), 1.0) if length else 1.0
        expected_now += _fen(Decimal(int(item["expected_gmv_fen"])) * Decimal(str(share)))
        if begin <= minute < begin + length:
            now_item = item
        elif begin >= minute and next_item is None:
            next_item = item
        row = sold.get(item["product_id"], {})
        products.append(_product(item, row, stock_warning, cut_ppm))
    if now_item is not None:  # next is the one after the slot on now
        later = sheet.items.filter(pl.col("position") > now_item["position"])
        next_item = later.row(0, named=True) if not later.is_empty() else None
    on_sheet = set(sheet.items["product_id"].to_list())
    off_sheet = [_off_sheet(row, cut_ppm) for pid, row in sold.items() if pid not in on_sheet]
    counted = products + off_sheet
    gmv = sum(p["gmv_fen"] for p in counted)
    timed = (
        int(orders["orders"].sum()) - int(orders["untimed_orders"].sum()) if orders.height else 0
    )
    elapsed = min(max(minute, 0.0), float(sheet.minutes))
    recent = int(orders["recent_orders"].sum()) if orders.height else 0
    window = min(float(window_minutes), max(minute, 0.0))
    return {
        "plan_id": sheet.plan_id,
        "session": sheet.session,
        "anchor_id": sheet.anchor_id,
        "at": at.isoformat(timespec="seconds"),
        "start": sheet.start.isoformat(timespec="seconds"),
        "minute": int(minute // 1),
        "minutes": sheet.minutes,
        "state": "before" if minute < 0 else ("after" if minute >= sheet.minutes else "live"),
        "clock": _clock(sheet, minute, now_item, next_item, sold),
        "gmv_fen": gmv,
        "expected_gmv_by_now_fen": expected_now,
        "pace": round(gmv / expected_now, 4) if expected_now else None,
        "planned_gmv_fen": int(sheet.items["expected_gmv_fen"].sum()),
        "orders": int(orders["orders"].sum()) if orders.height else 0,
        "untimed_orders": int(orders["untimed_orders"].sum()) if orders.height else 0,
        "orders_per_minute": round(timed / elapsed, 2) if elapsed > 0 else None,
        "recent_orders_per_minute": round(recent / window, 2) if window > 0 else None,
        "refunds": sum(p["refunds"] for p in counted),
        "refund_fen": sum(p["refund_fen"] for p in counted),
        "team_income_fen": sum(p["team_income_fen"] for p in counted),
        "planned_team_income_fen": int(sheet.items["team_income_fen"].sum()),
        "stock_warnings": [p["product_id"] for p in products if p["stock_warning"]],
        "products": products,
        "off_sheet": off_sheet,
    }


def _product(item: dict, row: dict, stock_warning: float, cut_ppm: int) -> dict:
    units, gmv = int(row.get("units") or 0), int(row.get("gmv_fen") or 0)
    stock = item["stock"]
    sell_through = round(units / stock, 4) if stock else None
    rate = row.get("service_fee_rate")
    rate = item["service_fee_rate"] if rate is None else rate
    return {
        "position": int(item["position"]),
        "start": item["start"],
        "product_id": item["product_id"],
        "title": item["title"],
        "role": item["role"],
        "planned_units": int(item["expected_units"]),
        "planned_gmv_fen": int(item["expected_gmv_fen"]),
        "units": units,
        "gmv_fen": gmv,
        "orders": int(row.get("orders") or 0),
        "refunds": int(row.get("refunds") or 0),
        "refund_fen": int(row.get("refund_fen") or 0),
        "stock": None if stock is None else int(stock),
        "sell_through": sell_through,
        "stock_warning": sell_through is not None and sell_through >= stock_warning,
        "sold_out": stock is not None and units >= stock,
        "team_income_fen": team_income_fen(gmv, rate, cut_ppm),
    }


def _off_sheet(row: dict, cut_ppm: int) -> dict:
    gmv = int(row["gmv_fen"] or 0)
    return {
        "product_id": row["product_id"],
        "title": row["title"],
        "known": bool(row["known"]),
        "units": int(row["units"] or 0),
        "gmv_fen": gmv,
        "orders": int(row["orders"]),
        "refunds": int(row["refunds"]),
        "refund_fen": int(row["refund_fen"] or 0),
        "team_income_fen": team_income_fen(gmv, row["service_fee_rate"], cut_ppm),
    }


def _clock(
    sheet: SessionSheet,
    minute: float,
    now_item: dict[str, Any] | None,
    next_item: dict[str, Any] | None,
    sold: dict,
) -> dict:
    """On now and next by the run sheet; minutes left in the slot; and late or early: the
    product the room is buying now (the sheet's product with the latest timed order) against
    its slot — its first order's minute minus its planned start (positive: late)."""
    live = None
    for item in sheet.items.iter_rows(named=True):
        row = sold.get(item["product_id"])
        if (row and row["first_paid"] is not None) and (
            live is None or row["last_paid"] > sold[live["product_id"]]["last_paid"]
        ):
            live = item
    late = None
    if live is not None:
        first = sold[live["product_id"]]["first_paid"]
        late = int((first - sheet.start).total_seconds() // 60) - int(live["start_minute"])
    left = None
    if now_item is not None:
        left = int(now_item["start_minute"]) + int(now_item["minutes"]) - minute
    return {
        "now": None if now_item is None else now_item["product_id"],
        "now_title": None if now_item is None else now_item["title"],
        "next": None if next_item is None else next_item["product_id"],
        "next_title": None if next_item is None else next_item["title"],
        "next_start": None if next_item is None else next_item["start"],
        "minutes_left": None if left is None else round(left, 1),
        "selling": None if live is None else live["product_id"],
        "late_minutes": late,
    }


# The files of a SOURCE folder that are read: export files, not the rejects haowu writes.
EXPORT_SUFFIXES = {".csv", ".xlsx", ".json", ".jsonl"}


def export_files(sources: list[Path]) -> tuple[list[Path], list[Path]]:
    """The files to read — each SOURCE file, and the export files in each SOURCE folder in
    name order (not the rejects files haowu writes there) — and the sources that are not
    there."""
    files: list[Path] = []
    missing: list[Path] = []
    for source in sources:
        if source.is_dir():
            files.extend(
                path
                for path in sorted(source.iterdir())
                if path.is_file()
                and path.suffix.lower() in EXPORT_SUFFIXES
                and not path.name.endswith(".rejects.csv")
            )
        elif source.is_file():
            files.append(source)
        else:
            missing.append(source)
    return files, missing


class SourceWatcher:
    """Which export files to read now, while a session runs.

    A file is read once it has stopped changing: its size and modification time the same at
    two polls in a row (the back office may still be saving it). A file read (or that failed
    to read) is read again only when it changes: a half-written file that failed is retried
    once it has been saved again, and one read whole is not read twice.

    A CSV export saved again with rows added at its end (the same bytes, then more) need not
    be read whole again: `appended` gives what was added, as a file of its own that keeps
    the rows' line numbers (the header, a blank line for each line read before, the new
    lines). Reading the rows read before again would find each unchanged: the database ends
    the same either way, a repeated order ID's last row winning as in a whole read."""

    def __init__(self, sources: list[Path]) -> None:
        self.sources = sources
        self._read: dict[Path, tuple[int, int]] = {}
        self._seen: dict[Path, tuple[int, int]] = {}
        self._prefix: dict[Path, _Prefix] = {}

    def poll(self) -> tuple[list[Path], list[Path]]:
        """(the files ready to read, the sources not there now)."""
        files, missing = export_files(self.sources)
        ready = []
        for path in files:
            try:
                stat = path.stat()
            except OSError:  # gone between the listing and now: next poll
                continue
            signature = (stat.st_mtime_ns, stat.st_size)
            if self._read.get(path) == signature:
                continue
            if self._seen.get(path) == signature:
                ready.append(path)
            self._seen[path] = signature
        return ready, missing

    def done(self, path: Path, *, read: bool = False) -> None:
        """`path` was read (or failed) as it was at the last poll; `read`: it was read
        without failing, so that what is added to it later can be read alone (`appended`)."""
        self._prefix.pop(path, None)
        if path in self._seen:
            self._read[path] = self._seen[path]
            prefix = _prefix(path, self._seen[path]) if read else None
            if prefix is not None:
                self._prefix[path] = prefix

    def appended(self, path: Path, folder: Path) -> tuple[Path, int] | None:
        """When `path` is the CSV file read last time with rows added at its end and
        nothing else changed: those rows as a file in `folder` (of the same name, their line
        numbers kept) and the line number of the first; else None (read it whole)."""
        known = self._prefix.get(path)
        if known is None:
            return None
        import hashlib

        try:
            data = path.read_bytes()
        except OSError:
            return None
        if (
            len(data) <= known.length
            or hashlib.sha256(data[: known.length]).digest() != known.digest
        ):
            return None
        eol = b"\r\n" if known.header.endswith(b"\r\n") else b"\n"
        target = folder / path.name
        target.write_bytes(known.header + eol * (known.lines - 1) + data[known.length :])
        return target, known.lines + 1


@dataclass(frozen=True)
class _Prefix:
    """A CSV file as it was read: its length, the SHA-256 of its bytes, its lines and its
    first line (the header, with its line end)."""

    length: int
    digest: bytes
    lines: int
    header: bytes


def _prefix(path: Path, signature: tuple[int, int]) -> _Prefix | None:
    """`path` as `_Prefix` when it is a CSV file still as `signature` (modification time,
    size) says, ending at a line's end; else None."""
    import hashlib

    if path.suffix.lower() != ".csv":
        return None
    try:
        data = path.read_bytes()
        stat = path.stat()
    except OSError:
        return None
    if (stat.st_mtime_ns, stat.st_size) != signature or len(data) != stat.st_size:
        return None
    if not data.endswith(b"\n"):
        return None
    header = data[: data.index(b"\n") + 1]
    return _Prefix(len(data), hashlib.sha256(data).digest(), data.count(b"\n"), header)


def orders_files_from_json_lines(
    lines: list[str], folder: Path, platform_keys: Sequence[tuple[str, ...]] = ()
) -> list[Path]:
    """JSON lines of orders as files in `folder` for the normal import of orders, in the
    order of their first line: the lines in an open-platform shape (an API response, its
    envelope `{"result": 1, "data": {"orderView": [...]}}`, or one order with its
    `cpsOrderProductView` list; a flat object too when it has all the keys of one of
    `platform_keys`, the JSON orders sources' `detect`) as `stdin.jsonl`, read as that
    platform file is; the rest, objects of plain values keyed by haowu's orders columns or
    any of their headers in columns.yaml (`order_id`, `product_id`, `paid_amount`,
    `paid_at` …), as one CSV file `stdin.csv`, where a `paid_at` with a time of day gives
    `paid_time` too (when the line has none). No file when there is no line. A line that is
    not JSON, or not an object or a list, fails the lot, naming it."""
    import csv
    import json

    from haowu_cli.errors import InputFileError
    from haowu_cli.i18n import _

    records: list[dict] = []
    platform: list[str] = []
    first: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(
                _("stdin line {line}: not JSON ({error})").format(line=number, error=exc.msg)
            ) from None
        if not isinstance(record, dict | list):
            raise InputFileError(
                _("stdin line {line}: expected an order (a JSON object) or an API response").format(
                    line=number
                )
            )
        keys = {str(k).lower() for k in record} if isinstance(record, dict) else set()
        if (
            isinstance(record, list)
            or any(isinstance(v, dict | list) for v in record.values())
            or any(all(k.lower() in keys for k in detect) for detect in platform_keys if detect)
        ):
            first.setdefault("jsonl", len(first))
            platform.append(line.strip())
            continue
        first.setdefault("csv", len(first))
        paid = record.get("paid_at")
        if "paid_time" not in record and isinstance(paid, str) and len(paid.strip()) > 10:
            record["paid_time"] = paid  # a payment time, not only its day
        records.append(record)
    files: dict[str, Path] = {}
    if platform:
        files["jsonl"] = folder / "stdin.jsonl"
        files["jsonl"].write_text("\n".join(platform) + "\n", encoding="utf-8")
    if records:
        headers = list(dict.fromkeys(key for record in records for key in record))
        files["csv"] = folder / "stdin.csv"
        with files["csv"].open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(headers)
            for record in records:
                writer.writerow(["" if record.get(h) is None else record.get(h) for h in headers])
    return [files[kind] for kind in sorted(files, key=first.__getitem__)]


def sheet_in_force(store: Any, plan_id: int, session: int, at: datetime) -> SessionSheet | None:
    """The run sheet of `session` in the version of plan `plan_id` in force at `at`: the last
    version (`haowu live replan`) to apply from `at` or before; None when there is none."""
    with store.read() as con:
        return sheet_in_force_on(con, plan_id, session, at)


def sheet_in_force_on(
    con: Any, plan_id: int, session: int, at: datetime, known: SessionSheet | None = None
) -> SessionSheet | None:
    """`sheet_in_force` on an open connection; `known`, when it is that version's sheet, is
    returned without reading its items again."""
    from haowu_cli import store as db

    versions = db.plan_versions(con, plan_id)
    due = versions.filter(pl.col("applies_from").is_null() | (pl.col("applies_from") <= at))
    if due.is_empty():
        return None
    version = int(due["plan_id"][-1])
    if known is not None and known.plan_id == version and known.session == session:
        return known
    return session_sheet(version, db.plan_items(con, version), session)
