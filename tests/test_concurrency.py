"""Many users and cron at once on one database: eight merchants' imports, an orders import,
a grading run, two readers and a commission report, started together. Every command succeeds
by queueing on the lock, every row is there, and no reader sees part of a file."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from haowu_cli.store import Store
from tests.conftest import HEADER, product_row, write_csv

REPO = Path(__file__).resolve().parents[1]
ROWS = 400
MERCHANTS = [f"M{i}" for i in range(1, 9)]


class Run:
    """A running `haowu` whose stdout and stderr go to files, never to pipes: a reader's CSV
    is larger than a pipe's buffer, and a child blocked on a full pipe never exits."""

    def __init__(self, database: Path, args: tuple[str, ...]) -> None:
        self._out = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115 (lives as long as the run)
        self._err = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "haowu_cli", "--db", str(database), "--lock-timeout", "300"]
            + list(args),
            cwd=REPO,
            stdout=self._out,
            stderr=self._err,
        )

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    @property
    def stdout(self) -> str:
        self._out.seek(0)
        return self._out.read()

    @property
    def stderr(self) -> str:
        self._err.seek(0)
        return self._err.read()


def haowu(database: Path, *args: str) -> Run:
    return Run(database, args)


def test_eight_imports_a_grading_run_and_readers_at_once(tmp_path):
    database = tmp_path / "shared.duckdb"
    # One merchant is there first, so the grading run always has products to grade.
    base = write_csv(
        tmp_path / "M0.csv", [HEADER] + [product_row(f"M0-{i}", "M0") for i in range(50)]
    )
    assert haowu(database, "import", str(base)).wait(timeout=120) == 0
    sheets = {
        m: write_csv(
            tmp_path / f"{m}.csv", [HEADER] + [product_row(f"{m}-{i}", m) for i in range(ROWS)]
        )
        for m in MERCHANTS
    }
    orders = write_csv(
        tmp_path / "orders.csv",
        [["订单号", "商品ID", "实付金额", "订单状态"]]
        + [[f"O{i}", f"M0-{i}", "59.90", "已收货"] for i in range(50)],
    )
    processes = [
        haowu(database, "import", "--merchant", m, str(sheet)) for m, sheet in sheets.items()
    ]
    processes.append(haowu(database, "import", "--kind", "orders", str(orders)))
    # A merchant's sheet that also carries ten of M0's products, meddling in the middle.
    meddler = write_csv(
        tmp_path / "M9.csv",
        [HEADER]
        + [product_row(f"M0-{i}", "M9", 商品名称="改了") for i in range(10)]
        + [product_row(f"M9-{i}", "M9") for i in range(10)],
    )
    meddling = haowu(database, "import", "--merchant", "M9", str(meddler))
    processes.append(haowu(database, "--quiet", "grade", "--as-of", "2026-11-22"))
    readers = [haowu(database, "products", "--format", "csv") for _ in range(2)]
    # A commission report too: it exits 1 if it ever saw parts that do not add up.
    reports = [haowu(database, "commission", "--by", "merchant", "--format", "csv")]
    results = [(p.wait(timeout=600), p.stderr) for p in processes + readers + reports]
    assert [code for code, _ in results] == [0] * len(results), results
    assert meddling.wait(timeout=600) == 3  # its rows of M0's products are refused

    for reader in readers:  # each file is one transaction: a reader sees all of it or none
        seen = list(csv.DictReader(io.StringIO(reader.stdout)))
        per_merchant = {m: sum(r["merchant_id"] == m for r in seen) for m in MERCHANTS}
        assert set(per_merchant.values()) <= {0, ROWS}, per_merchant
    with Store(database).read() as con:
        counts = dict(
            con.execute("SELECT merchant_id, count(*) FROM products GROUP BY 1").fetchall()
        )
        assert counts == {"M0": 50, "M9": 10} | {m: ROWS for m in MERCHANTS}
        assert con.execute("SELECT count(*) FROM imports").fetchone() == (len(MERCHANTS) + 3,)
        assert con.execute(
            "SELECT count(*) FROM products WHERE merchant_id = 'M0' AND title <> '改了'"
        ).fetchone() == (50,)  # M0's rows untouched
        graded = con.execute(
            "SELECT count(*), count(p.product_id) FROM grades g "
            "LEFT JOIN products p USING (product_id)"
        ).fetchone()
        assert graded[0] >= 50 and graded[0] == graded[1]  # every grade is of a real product
        base, parts = con.execute(
            "SELECT sum(amount_fen) FILTER (WHERE account = 'base'), "
            "sum(amount_fen) FILTER (WHERE account <> 'base') FROM ledger"
        ).fetchone()
        assert base == parts == 50 * 5990
