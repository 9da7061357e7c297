"""Crashes: haowu killed with SIGKILL at random moments of imports, grading and order
imports. After every kill the database opens, each file is wholly in or wholly out, and the
next run completes the work."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from haowu_cli.store import Store
from tests.conftest import HEADER, product_row, write_csv

REPO = Path(__file__).resolve().parents[1]
KILLS = 50
ROWS = 3000


def start(database: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "haowu_cli", "--quiet", "--db", str(database), *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def state(database: Path) -> dict:
    with Store(database, lock_timeout=60).read() as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "products": dict(
                con.execute("SELECT merchant_id, count(*) FROM products GROUP BY 1").fetchall()
            ),
            "orders": one("SELECT count(*) FROM orders"),
            "unbalanced": one(
                "SELECT count(*) FROM (SELECT order_id FROM ledger GROUP BY order_id HAVING "
                "coalesce(sum(amount_fen) FILTER (WHERE account = 'base'), 0) <> "
                "coalesce(sum(amount_fen) FILTER (WHERE account <> 'base'), 0))"
            ),
            "grades": one("SELECT count(*) FROM grades"),
        }


def kill_repeatedly(folder: Path, seed: int, kills_wanted: int) -> int:
    """Start imports and grading runs on one database and SIGKILL them at random moments,
    checking the database after each; then let each job run to its end. Returns the kills."""
    folder.mkdir()
    database = folder / "crash.duckdb"
    sheets = {
        m: write_csv(
            folder / f"{m}.csv", [HEADER] + [product_row(f"{m}-{i}", m) for i in range(ROWS)]
        )
        for m in ("M1", "M2", "M3")
    }
    orders = write_csv(
        folder / "orders.csv",
        [["订单号", "商品ID", "实付金额", "订单状态", "收货时间"]]
        + [[f"O{i}", f"M1-{i}", "59.90", "已收货", "2026-12-03"] for i in range(ROWS)],
    )
    jobs = [
        ("import", str(sheets["M1"])),
        ("import", str(sheets["M2"])),
        ("import", str(sheets["M3"])),
        ("import", "--kind", "orders", str(orders)),
        ("grade", "--as-of", "2026-11-22"),
    ]
    rng = random.Random(seed)
    kills = 0
    deadline = time.monotonic() + 200
    while kills < kills_wanted and time.monotonic() < deadline:
        job = rng.choice(jobs)
        process = start(database, *job)
        time.sleep(rng.uniform(0.2, 1.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        if database.exists():
            seen = state(database)  # opens, whatever moment the kill came at
            assert set(seen["products"].values()) <= {ROWS}, seen  # a file is all in or out
            assert seen["orders"] in (0, ROWS) and seen["unbalanced"] == 0, seen

    for job in jobs:  # the next runs complete the work
        assert start(database, *job).wait(timeout=300) == 0, job
    final = state(database)
    assert final["products"] == {"M1": ROWS, "M2": ROWS, "M3": ROWS}
    assert final["orders"] == ROWS and final["unbalanced"] == 0
    assert final["grades"] >= 3 * ROWS
    return kills


def test_fifty_kills_never_leave_half_a_file(tmp_path):
    # Two databases side by side, half the kills each: the same checks in half the time.
    with ThreadPoolExecutor(2) as pool:
        runs = [
            pool.submit(kill_repeatedly, tmp_path / f"db{seed}", seed, KILLS // 2)
            for seed in (7, 8)
        ]
        kills = sum(run.result() for run in runs)
    assert kills >= KILLS, f"only {kills} processes were still running when killed"
