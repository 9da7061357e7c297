"""Ctrl-C during a multi-file import, through the real process: whatever the moment (reading,
checking, writing the rows, posting the ledger), haowu stops the whole command, rolls back the
file in progress, keeps the files committed before it, starts no other, and exits 130.

The moment is found from outside, as a watcher would: the import opens the database only to
write a file (and closes it once the file is committed), so the n-th time the process holds
the database file open it is writing the n-th file, and when it has let go of it the next file
is being read.
"""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import duckdb
import pytest

from tests.process.conftest import HAOWU, clean_env, file_only, interrupt_when

pytestmark = [
    pytest.mark.skipif(
        not Path("/proc/self/fd").is_dir(), reason="finds the moments through /proc (Linux)"
    ),
    file_only(
        "the moment of Ctrl-C is found by watching the process hold the database file open "
        "(a lake has no such file); on a lake, tests/process/test_team.py kills an import as "
        "it writes"
    ),
]

ROWS = 150_000  # a sheet big enough that each phase lasts a good fraction of a second


def products_sheet(path: Path, prefix: str, rows: int = ROWS) -> Path:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率", "团长服务费率"])
    for i in range(rows):
        out.writerow(
            [f"{prefix}{i}", f"M{i % 40}", f"商品{i}", "美妆", f"{i % 500 + 9}.90", "20%", "5%"]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def orders_sheet(path: Path, prefix: str, rows: int = ROWS) -> Path:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(
        ["订单号", "商品ID", "达人ID", "实付金额", "支付时间", "订单状态", "佣金率", "团长服务费率"]
    )
    for i in range(rows):
        out.writerow(
            [f"{prefix}{i}", f"P{i % 90}", "A1", f"{i % 900 + 10}.50", "2026-11-20", "已付款"]
            + ["20%", "5%"]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


class Watcher:
    """Follows one haowu process (found by its command line and folder) from outside: how
    many times it has opened the database file, whether it holds it now, and since when."""

    def __init__(self, folder: Path, database: Path) -> None:
        self.folder, self.database = folder.resolve(), database.resolve()
        self.pid: int | None = None
        self.opened = 0  # how many times the process has taken hold of the database
        self.holding = False
        self.changed = time.monotonic()  # when `holding` last changed

    def _find(self) -> int | None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
                if str(HAOWU).encode() in command and Path(f"/proc/{entry}/cwd").resolve() == (
                    self.folder
                ):
                    return int(entry)
            except OSError:
                continue
        return None

    def poll(self) -> None:
        if self.pid is None:
            self.pid = self._find()
            if self.pid is None:
                return
        folder = f"/proc/{self.pid}/fd"
        try:
            fds = os.listdir(folder)
        except OSError:  # the process has ended
            return
        holding = False
        for fd in fds:
            try:
                holding = holding or os.readlink(f"{folder}/{fd}") == str(self.database)
            except OSError:  # closed since the listing
                continue
        if holding != self.holding:
            self.holding, self.changed = holding, time.monotonic()
            self.opened += holding

    def since_change(self) -> float:
        return time.monotonic() - self.changed


def moment(name: str, watcher: Watcher):
    """`ready()` for `interrupt_when`: true at the named moment of the import. After the
    first file the process lets go of the database (its commit is done) and reads, then
    checks, the second file for a second or more before it opens the database again."""

    def after_the_first(seconds: float) -> bool:
        return watcher.opened >= 2 or (
            watcher.opened == 1 and not watcher.holding and watcher.since_change() > seconds
        )

    def ready() -> bool:
        watcher.poll()
        if name == "writing the first file":
            return watcher.opened == 1 and watcher.holding
        if name == "just after the first file":
            return after_the_first(0.0)
        if name == "reading the second file":
            return after_the_first(0.15)
        if name == "checking the second file":
            return after_the_first(0.35)
        if name == "writing the second file":
            return watcher.opened == 2 and watcher.holding
        if name == "late in writing the second file":  # orders: posting the ledger
            return watcher.opened == 2 and watcher.holding and watcher.since_change() > 0.25
        raise AssertionError(name)

    return ready


def count(database: Path, sql: str) -> int:
    con = duckdb.connect(str(database), read_only=True)  # the database opens after Ctrl-C
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def sheets(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sheets")
    made = {name: products_sheet(folder / f"{name}.csv", name) for name in ("A", "B", "C")}
    made |= {f"o{name}": orders_sheet(folder / f"o{name}.csv", name) for name in ("A", "B", "C")}
    return made


def interrupt_import(tmp_path, home, sheets, kind: str, when: str):
    names = ["A", "B", "C"] if kind == "products" else ["oA", "oB", "oC"]
    paths = [sheets[n] for n in names]
    database = tmp_path / "h.duckdb"
    watcher = Watcher(tmp_path, database)
    args = ["--db", database, "import", "--kind", kind, *paths]
    ran = interrupt_when(
        args, cwd=tmp_path, env=clean_env(home), ready=moment(when, watcher), timeout=300
    )
    ran.err += f"\n[watcher: pid {watcher.pid}, opened {watcher.opened}]"  # if a test fails
    return ran, database


@pytest.mark.parametrize(
    "when",
    [
        "writing the first file",
        "just after the first file",
        "reading the second file",
        "checking the second file",
        "writing the second file",
    ],
)
def test_ctrl_c_during_a_products_import(tmp_path, home, sheets, when):
    ran, database = interrupt_import(tmp_path, home, sheets, "products", when)
    assert ran.code == 130, ran
    assert "interrupted" in ran.err and "this is a bug" not in ran.err, ran
    assert "Traceback" not in ran.err, ran
    first_done = when != "writing the first file"
    in_progress = "B.csv" if first_done else "A.csv"
    # Ctrl-C can also come as A.csv's database is being closed: then A.csv is in, and said so.
    assert f"{in_progress}: it was rolled back, none of it is in" in ran.err or (
        first_done and "A.csv was imported; 2 files after it were not started" in ran.err
    ), ran
    assert "were not started" in ran.err, ran
    if not first_done:
        # Ctrl-C may even come while the new database gets its tables: then it has none.
        products = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'products'"
        if database.exists() and count(database, products):
            assert count(database, "SELECT count(*) FROM products") == 0
        return
    assert "A.csv (utf-8): 150,000 rows: 150,000 new" in ran.err or (
        "A.csv was imported" in ran.err
    ), ran  # what is in is said
    assert count(database, "SELECT count(*) FROM products WHERE product_id LIKE 'A%'") == ROWS
    assert count(database, "SELECT count(*) FROM products WHERE product_id NOT LIKE 'A%'") == 0
    assert count(database, "SELECT count(*) FROM imports") == 1
    assert count(database, "SELECT count(*) FROM product_changes WHERE product_id LIKE 'B%'") == 0


@pytest.mark.parametrize("when", ["writing the second file", "late in writing the second file"])
def test_ctrl_c_while_orders_are_written_or_posted(tmp_path, home, sheets, when):
    ran, database = interrupt_import(tmp_path, home, sheets, "orders", when)
    assert ran.code == 130, ran
    assert "oB.csv: it was rolled back, none of it is in" in ran.err, ran
    assert "this is a bug" not in ran.err and "Traceback" not in ran.err, ran
    assert count(database, "SELECT count(*) FROM orders") == ROWS
    assert count(database, "SELECT count(*) FROM orders WHERE order_id NOT LIKE 'A%'") == 0
    assert count(database, "SELECT count(DISTINCT order_id) FROM ledger") == ROWS
    assert count(database, "SELECT count(*) FROM ledger WHERE order_id NOT LIKE 'A%'") == 0
    assert count(database, "SELECT count(*) FROM imports") == 1
