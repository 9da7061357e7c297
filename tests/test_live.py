"""跟播: the live snapshot's figures at injected moments (haowu_cli.live)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from haowu_cli.live import moment, session_sheet, snapshot, team_income_fen

DAY = date(2026, 12, 1)


def items() -> pl.DataFrame:
    """A 30-minute run sheet from 20:00: a deal (10 min), a hero (15 min), a deal (5 min)."""
    rows = [
        ("P1", 1, 0, "20:00", 10, 100, 100_000, 200, 2_000),  # stock 200
        ("P2", 2, 10, "20:10", 15, 50, 300_000, 1000, 6_000),
        ("P3", 3, 25, "20:25", 5, 20, 20_000, None, 400),
    ]
    return pl.DataFrame(
        [
            {
                "plan_id": 7,
                "session": 1,
                "anchor_id": "A1",
                "session_date": DAY,
                "position": pos,
                "start_minute": begin,
                "start": start,
                "product_id": pid,
                "title": f"title {pid}",
                "role": "r",
                "minutes": minutes,
                "expected_units": units,
                "expected_gmv_fen": gmv,
                "stock": stock,
                "service_fee_rate": 0.05,
                "team_income_fen": income,
            }
            for pid, pos, begin, start, minutes, units, gmv, stock, income in rows
        ]
    )


def orders(*rows) -> pl.DataFrame:
    """Per-product order aggregates as store.live_orders gives them."""
    columns = {
        "product_id": pl.String,
        "orders": pl.Int64,
        "units": pl.Int64,
        "gmv_fen": pl.Int64,
        "refund_fen": pl.Int64,
        "refunds": pl.Int64,
        "recent_orders": pl.Int64,
        "untimed_orders": pl.Int64,
        "first_paid": pl.Datetime,
        "last_paid": pl.Datetime,
        "service_fee_rate": pl.Float64,
        "title": pl.String,
        "known": pl.Boolean,
    }
    return pl.DataFrame([dict(zip(columns, row, strict=True)) for row in rows], schema=columns)


def at(sheet, hhmm: str, sold=None) -> dict:
    return snapshot(
        sheet,
        sold if sold is not None else orders(),
        moment(sheet, hhmm),
        stock_warning=0.8,
        window_minutes=5,
        cut_ppm=0,
    )


@pytest.fixture
def sheet():
    found = session_sheet(7, items(), 1)
    assert found is not None
    return found


def test_the_sheet_starts_at_its_first_slot_and_ends_after_its_last(sheet):
    assert sheet.start == datetime(2026, 12, 1, 20, 0)
    assert sheet.minutes == 30
    assert session_sheet(7, items(), 2) is None


@pytest.mark.parametrize(
    ("hhmm", "expected", "now", "next_", "left", "state"),
    [
        ("19:50", 0, None, "P1", None, "before"),
        ("20:00", 0, "P1", "P2", 10, "live"),
        ("20:05", 50_000, "P1", "P2", 5, "live"),  # half the deal's slot
        ("20:16", 100_000 + 120_000, "P2", "P3", 9, "live"),  # 6 of the hero's 15 minutes
        ("20:30", 420_000, None, None, None, "after"),
        ("23:00", 420_000, None, None, None, "after"),
    ],
)
def test_expected_by_now_and_the_clock_follow_the_run_sheet(
    sheet, hhmm, expected, now, next_, left, state
):
    figures = at(sheet, hhmm)
    assert figures["expected_gmv_by_now_fen"] == expected
    assert figures["clock"]["now"] == now
    assert figures["clock"]["next"] == next_
    assert figures["clock"]["minutes_left"] == left
    assert figures["state"] == state
    assert figures["gmv_fen"] == 0
    assert figures["pace"] == (0.0 if expected else None)


def test_pace_late_and_orders_per_minute(sheet):
    sold = orders(
        (
            "P1",
            10,
            90,
            90_000,
            0,
            0,
            0,
            0,
            datetime(2026, 12, 1, 20, 1),
            datetime(2026, 12, 1, 20, 9),
            None,
            "t1",
            True,
        ),
        (
            "P2",
            4,
            5,
            30_000,
            1_000,
            1,
            4,
            0,
            datetime(2026, 12, 1, 20, 12),
            datetime(2026, 12, 1, 20, 15),
            0.1,
            "t2",
            True,
        ),
    )
    figures = at(sheet, "20:16", sold)
    assert figures["gmv_fen"] == 120_000
    assert figures["pace"] == round(120_000 / 220_000, 4)
    assert figures["clock"]["selling"] == "P2"
    assert figures["clock"]["late_minutes"] == 2  # planned 20:10, first order 20:12
    assert figures["orders_per_minute"] == round(14 / 16, 2)
    assert figures["recent_orders_per_minute"] == round(4 / 5, 2)
    assert figures["refunds"] == 1 and figures["refund_fen"] == 1_000
    # the order's own service-fee rate where it has one, else the plan's
    assert figures["team_income_fen"] == 90_000 * 5 // 100 + 30_000 // 10


def test_stock_warning_at_the_threshold_and_sold_out(sheet):
    def p1(units):
        return orders(("P1", 1, units, units * 1000, 0, 0, 0, 0, None, None, None, "t", True))

    below = at(sheet, "20:05", p1(159))
    assert below["stock_warnings"] == []
    warned = at(sheet, "20:05", p1(160))  # 80% of 200
    assert warned["stock_warnings"] == ["P1"]
    assert warned["products"][0]["sold_out"] is False
    out = at(sheet, "20:05", p1(200))["products"][0]
    assert out["sold_out"] is True and out["sell_through"] == 1.0
    assert at(sheet, "20:05", p1(10))["products"][2]["sell_through"] is None  # no stock known


def test_off_sheet_products_are_shown_and_counted(sheet):
    sold = orders(
        (
            "X9",
            2,
            3,
            4_500,
            0,
            0,
            0,
            0,
            datetime(2026, 12, 1, 20, 2),
            datetime(2026, 12, 1, 20, 3),
            None,
            None,
            False,
        ),
        ("P1", 1, 1, 1_000, 0, 0, 0, 1, None, None, None, "t1", True),
    )
    figures = at(sheet, "20:05", sold)
    assert [p["product_id"] for p in figures["off_sheet"]] == ["X9"]
    assert figures["off_sheet"][0]["known"] is False
    assert figures["gmv_fen"] == 5_500
    assert figures["untimed_orders"] == 1
    assert figures["orders_per_minute"] == round(2 / 5, 2)  # timed orders only


def test_a_session_past_midnight_reads_early_hours_as_the_next_day(sheet):
    assert moment(sheet, "00:30") == datetime(2026, 12, 2, 0, 30)
    assert moment(sheet, "19:00") == datetime(2026, 12, 1, 19, 0)


def test_team_income_rounds_half_up_net_of_the_platform_cut():
    assert team_income_fen(1_001, "0.05", 0) == 50  # 50.05
    assert team_income_fen(1_010, "0.05", 0) == 51  # 50.5
    assert team_income_fen(10_000, "0.05", 100_000) == 450  # 10% cut
    assert team_income_fen(10_000, None, 0) == 0


def test_the_watcher_reads_a_file_once_it_stops_changing_and_again_when_it_changes(tmp_path):
    import os

    from haowu_cli.live import SourceWatcher

    drop = tmp_path / "drop"
    drop.mkdir()
    watcher = SourceWatcher([drop, tmp_path / "gone.csv"])
    export = drop / "a.csv"
    export.write_text("half")
    (drop / "a.csv.rejects.csv").write_text("not an export")
    assert watcher.poll() == ([], [tmp_path / "gone.csv"])  # first seen: wait
    export.write_text("half and more")  # still being saved
    assert watcher.poll()[0] == []
    assert watcher.poll()[0] == [export]  # unchanged since the last poll: ready
    watcher.done(export)
    assert watcher.poll()[0] == []  # read: not again
    export.write_text("half and more, and the rest")
    os.utime(export, ns=(1, 1))
    assert watcher.poll()[0] == []
    assert watcher.poll()[0] == [export]  # changed, then stable: read again


def test_rows_added_to_an_export_are_read_alone_with_their_line_numbers(tmp_path, store):
    """An export saved again with rows added at its end: only those rows go through the
    import (their rejects, numbered by their lines in the file, beside it); an export whose
    earlier rows changed is read whole again."""
    from haowu_cli.commands.common import AppContext
    from haowu_cli.commands.live import _read_ready
    from haowu_cli.config import packaged_path
    from haowu_cli.live import SourceWatcher
    from haowu_cli.render import Output

    app = AppContext(
        db=Path(getattr(store, "spec", store.path)),  # a lake's spec, or the file
        data_path=store.data_path,
        config_dir=packaged_path("configs"),
        quiet=True,
        traceback=False,
        lock_timeout=10,
        out=Output(quiet=True),
    )
    header = "订单号,商品ID,实付金额,支付时间,订单状态,佣金率\r\n"
    rows = [f"O{i},P1,9.90,2026-12-01,已付款,20%\r\n" for i in (1, 2)]
    drop = tmp_path / "drop"
    drop.mkdir()
    export = drop / "订单导出.csv"
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    watcher = SourceWatcher([drop])

    def read_when_ready(text: str, mtime: int) -> object:
        import os

        export.write_text(text, encoding="utf-8")
        os.utime(export, ns=(mtime, mtime))
        assert watcher.poll()[0] == []
        assert watcher.poll()[0] == [export]
        return _read_ready(app, watcher, export, scratch)

    first = read_when_ready(header + "".join(rows), 1)
    assert (first.inserted, first.path) == (2, export)
    grown = (
        header
        + "".join(rows)
        + "O3,P1,19.90,2026-12-01,已付款,20%\r\nO4,P1,abc,2026-12-01,已付款,20%\r\n"
    )
    added = read_when_ready(grown, 2)
    # Read alone: the two rows read before are neither new nor unchanged this time.
    assert (added.inserted, added.unchanged, added.rejected, added.path) == (1, 0, 1, export)
    rejects = (drop / "订单导出.from-row-4.rejects.csv").read_text(encoding="utf-8-sig")
    assert "订单导出.csv,5,实付金额,abc" in rejects  # line 5 of the export
    edited = grown.replace("O1,P1,9.90", "O1,P1,8.80")
    whole = read_when_ready(edited, 3)  # an earlier row changed: the whole file again
    assert (whole.updated, whole.unchanged) == (1, 2)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM orders").fetchall() == [(3,)]
    assert list(scratch.iterdir()) == []
