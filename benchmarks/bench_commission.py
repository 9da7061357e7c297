"""Benchmark commission splits: `haowu import --kind orders` and `haowu commission` against
bare DuckDB over the same orders.

    python benchmarks/bench_commission.py [--rows 1000000] [--products 100000] [--repeat 3]

Imports a generated product sheet (`generate.py`) and a few hundred generated anchors (some
with an MCN 机构 and its 机构分成比例) into a database, and writes one order export of
`--rows` orders over those products and anchors (`order_frame`: mixed statuses, about 10%
partly refunded, 5% invalid 已失效, 15% pay-later 先用后付, 20% shared with a second-level
team leader at an allowed rate, 10% without rates of their own, which take their product's).
Then it times, in the same run, each a whole process from start to exit:
  bare read       DuckDB `CREATE TABLE … AS SELECT * FROM read_csv(…, all_varchar=true)` of
                  the order export into a fresh database file: the least any import does
  import          `haowu import --kind orders` into a copy of the database with the products
                  and anchors but no orders: parses and checks every cell, fills the missing
                  rates, writes the orders, and splits and posts every order to the ledger,
                  in one transaction
  bare aggregate  one SQL aggregate over the imported orders (count and money per status),
                  read-only: the least any report over the orders does
  by party        `haowu commission --by party --as-of 2099-12-31 --format csv` over the
                  posted ledger (every entry counted, every order settled or not)
  by merchant     the same with `--by merchant`
and prints each median with its ratio to its baseline (the import to the bare read, the
reports to the bare aggregate) and its peak memory, the orders written and the ledger
entries (the view `ledger`) posted. Then, as queries in one process (no start-up in
either), it times the split of every order
(haowu's `split_orders_query`: every share of every order, summed per merchant) against a
bare aggregate of the same money (base and base × each rate per merchant, unrounded), and
says whether the target is met: the split within 3× of the bare aggregate. The
reports exit 0 only when the parts add up to the base, to the fen; the benchmark stops if
they do not.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import measured  # noqa: E402

TARGET_RATIO = 3.0
AS_OF = "2099-12-31"  # every entry posted, every received order settled
ANCHORS, MCNS, SECOND_LEADERS = 300, 12, 50
FIRST_PRODUCT_ID = 10_000_000_000_000  # generate.py's first 商品ID
ORDER_HEADERS = {
    "order_id": "订单编号",
    "product_id": "商品ID",
    "anchor_id": "达人ID",
    "session_id": "专场ID",
    "quantity": "购买数量",
    "paid_amount": "实付金额",
    "paid_at": "支付时间",
    "status": "订单状态",
    "refund_amount": "退款金额",
    "received_at": "收货时间",
    "commission_rate": "佣金率",
    "service_fee_rate": "团长服务费率",
    "second_leader_id": "二级团长ID",
    "second_leader_rate": "二级团长服务费率",
    "pay_later": "先用后付",
}
WRITE_INPUTS = (
    "import sys, bench_commission as b; "
    "b.write_inputs(b.Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))"
)
BARE_READ = """
import duckdb, sys
con = duckdb.connect(sys.argv[1])
con.execute("SET enable_progress_bar = false")
con.execute("CREATE TABLE orders AS SELECT * FROM read_csv(?, all_varchar = true)", [sys.argv[2]])
con.close()
"""
BARE_AGGREGATE = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
con.execute('''
    SELECT status, count(*), sum(paid_amount_fen), sum(refund_amount_fen)
    FROM orders GROUP BY status
''').fetchall()
con.close()
"""
# The split against a bare aggregate, as queries in one process (no start-up on either):
# the bare aggregate sums the money a split is about per merchant (base, and base × each
# rate, unrounded); the split computes every order's shares, each rounded term rounded
# (haowu's own `split_orders_query`, the query the ledger's entries are made from), and sums
# them per merchant. Medians of five, printed as JSON.
QUERIES = """
import duckdb, json, statistics, sys, time
from pathlib import Path
from haowu_cli.commission import load_rules, split_orders_query
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")
split_query = split_orders_query(load_rules(Path(sys.argv[2])))
split, params = split_query.sql, dict(split_query.params)
shares = ("base", "merchant", "anchor", "agency", "leader", "second_leader",
          "commission_cut", "service_fee_cut", "technical_fee")
base = "(paid_amount_fen - coalesce(refund_amount_fen, 0))"
queries = {
    "bare aggregate query": (
        f"SELECT merchant_id, count(*), sum({base}), sum({base} * commission_rate), "
        f"sum({base} * service_fee_rate) FROM orders WHERE status <> 'invalid' "
        "GROUP BY merchant_id"
    ),
    "split query": (
        f"SELECT merchant_id, {', '.join(f'sum({c})' for c in shares)} FROM ({split}) "
        "GROUP BY merchant_id"
    ),
}
result = {}
for name, sql in queries.items():
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        con.execute(sql, params if "$" in sql else None).fetchall()
        runs.append(time.perf_counter() - started)
    result[name] = statistics.median(runs)
print(json.dumps(result))
"""
COUNTS = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET enable_progress_bar = false")  # else a slow count prints a bar to stdout
one = lambda sql: con.execute(sql).fetchall()[0][0]
print(json.dumps({
    "orders": one("SELECT count(*) FROM orders"),
    "ledger": one("SELECT count(*) FROM ledger"),
    "posted": one("SELECT count(DISTINCT order_id) FROM ledger"),
    "invalid": one("SELECT count(*) FROM orders WHERE status = 'invalid'"),
}))
"""


def _draw(seed: int, salt: int, low: int | pl.Expr, high: int | pl.Expr) -> pl.Expr:
    """A deterministic pseudo-random integer in [low, high) per row (as generate.py)."""
    return (pl.int_range(pl.len()).hash(seed * 1000 + salt) % (high - low)).cast(pl.Int64) + low


def _yuan(fen: pl.Expr) -> pl.Expr:
    return pl.format("{}.{}", fen // 100, (fen % 100).cast(pl.String).str.zfill(2))


def _tenths(tenths: pl.Expr) -> pl.Expr:
    """A rate in tenths of a percent as typed: 25 → `2.5%`."""
    return pl.format("{}.{}%", tenths // 10, tenths % 10)


def anchor_frame(count: int = ANCHORS, seed: int = 11) -> pl.DataFrame:
    """Anchors B0001 …; every third with one of MCNS agencies taking 20–40% of its net."""
    base = pl.DataFrame({"i": pl.int_range(1, count + 1, eager=True)})
    with_mcn = pl.col("i") % 3 == 0
    return base.select(
        pl.format("B{}", pl.col("i").cast(pl.String).str.zfill(4)).alias("达人ID"),
        pl.format("主播{}", pl.col("i")).alias("达人昵称"),
        pl.format("{}万", _draw(seed, 1, 1, 300)).alias("粉丝数"),
        pl.format("{}%", _draw(seed, 2, 30, 95)).alias("女粉占比"),
        pl.lit("25-34").alias("主要年龄段"),
        pl.format("¥{}", _draw(seed, 3, 30, 400)).alias("客单价"),
        pl.lit("美妆、食品、日百").alias("主营类目"),
        pl.format("{}万", _draw(seed, 4, 1, 20)).alias("场均时GMV"),
        pl.when(with_mcn).then(pl.format("机构{}", pl.col("i") % MCNS)).alias("机构"),
        pl.when(with_mcn).then(pl.format("{}%", _draw(seed, 5, 20, 41))).alias("机构分成比例"),
    )


def order_frame(rows: int, products: int, seed: int = 13) -> pl.DataFrame:
    """An order export as the platform writes it, over products 0 … products − 1 of
    generate.py's sheet and the anchors of `anchor_frame`; paid 2026-10-01 to 11-30.

    Statuses: 5% 已失效 (refunded in full), 5% 已付款, 15% 已发货, 55% 已收货, 20% 已结算
    (received 2–7 days after paying). About 10% of the valid orders are partly refunded.
    90% carry their own rates (commission 5–45%, service fee 1–9%); the rest leave both out
    and take their product's. 20% name a second-level leader at 0.5% up to 0.9 × the
    service-fee rate, the most allowed (0.5% on orders without rates: every product's
    service fee is at least 1%). 15% are pay-later.
    """
    base = pl.DataFrame({"i": pl.int_range(rows, eager=True)}).with_columns(
        product=_draw(seed, 1, 0, products),
        anchor=_draw(seed, 2, 1, ANCHORS + 1),
        day=_draw(seed, 3, 0, 61),
        second=_draw(seed, 4, 19 * 3600, 24 * 3600),
        quantity=_draw(seed, 5, 0, 5).replace_strict({0: 1, 1: 1, 2: 1, 3: 2, 4: 3}),
        unit_fen=_draw(seed, 6, 990, 99_900),
        status_roll=_draw(seed, 7, 0, 100),
        refund_roll=_draw(seed, 8, 0, 100),
        refund_pct=_draw(seed, 9, 10, 90),
        receive_days=_draw(seed, 10, 2, 8),
        rates_roll=_draw(seed, 11, 0, 100),
        commission_pct=_draw(seed, 12, 5, 46),
        fee_pct=_draw(seed, 13, 1, 10),
        second_roll=_draw(seed, 14, 0, 100),
        second_leader=_draw(seed, 15, 1, SECOND_LEADERS + 1),
        pay_later_roll=_draw(seed, 17, 0, 100),
    )
    base = base.with_columns(
        # In tenths of a percent: from 0.5% up to 0.9 × the service fee (9 × fee_pct tenths).
        second_tenths=_draw(seed, 16, 0, pl.col("fee_pct") * 9 - 4) + 5,
    )
    roll, paid = pl.col("status_roll"), pl.col("unit_fen") * pl.col("quantity")
    paid_on = pl.date(2026, 10, 1) + pl.duration(days=pl.col("day"))
    status = (
        pl.when(roll < 5)
        .then(pl.lit("已失效"))
        .when(roll < 10)
        .then(pl.lit("已付款"))
        .when(roll < 25)
        .then(pl.lit("已发货"))
        .when(roll < 80)
        .then(pl.lit("已收货"))
        .otherwise(pl.lit("已结算"))
    )
    own_rates = pl.col("rates_roll") >= 10
    has_second = pl.col("second_roll") < 20
    anchor = pl.col("anchor").cast(pl.String).str.zfill(4)
    clock = pl.format(
        "{}:{}:{}",
        (pl.col("second") // 3600).cast(pl.String).str.zfill(2),
        (pl.col("second") // 60 % 60).cast(pl.String).str.zfill(2),
        (pl.col("second") % 60).cast(pl.String).str.zfill(2),
    )
    return base.select(
        pl.format("KS{}", pl.col("i") + 100_000_000_000).alias("order_id"),
        (pl.col("product") + FIRST_PRODUCT_ID).cast(pl.String).alias("product_id"),
        pl.format("B{}", anchor).alias("anchor_id"),
        pl.format("ZC{}B{}", paid_on.dt.strftime("%Y%m%d"), anchor).alias("session_id"),
        pl.col("quantity").cast(pl.String),
        _yuan(paid).alias("paid_amount"),
        pl.format("{} {}", paid_on.cast(pl.String), clock).alias("paid_at"),
        status.alias("status"),
        pl.when(roll < 5)
        .then(_yuan(paid))
        .when(pl.col("refund_roll") < 10)
        .then(_yuan(paid * pl.col("refund_pct") // 100))
        .alias("refund_amount"),
        pl.when(roll >= 25)
        .then((paid_on + pl.duration(days=pl.col("receive_days"))).cast(pl.String))
        .alias("received_at"),
        pl.when(own_rates)
        .then(pl.format("{}%", pl.col("commission_pct")))
        .alias("commission_rate"),
        pl.when(own_rates).then(pl.format("{}%", pl.col("fee_pct"))).alias("service_fee_rate"),
        pl.when(has_second)
        .then(pl.format("L2-{}", pl.col("second_leader").cast(pl.String).str.zfill(4)))
        .alias("second_leader_id"),
        pl.when(has_second & own_rates)
        .then(_tenths(pl.col("second_tenths")))
        .when(has_second)
        .then(pl.lit("0.5%"))
        .alias("second_leader_rate"),
        pl.when(pl.col("pay_later_roll") < 15)
        .then(pl.lit("是"))
        .otherwise(pl.lit("否"))
        .alias("pay_later"),
    ).rename(ORDER_HEADERS)


def write_inputs(folder: Path, rows: int, products: int) -> None:
    """The product sheet, anchors and orders (run in a child process: see `prepare`)."""
    from generate import write_sheet

    write_sheet(products, folder / "products.csv")
    anchor_frame().write_csv(folder / "anchors.csv")
    order_frame(rows, products).write_csv(folder / "orders.csv")


def prepare(folder: Path, rows: int, products: int, haowu: list[str]) -> Path:
    """The inputs, and a database holding the products and anchors but no orders."""
    # In a child process: a parent grown by the generator would pass its memory on to the
    # processes it starts, and spoil their peak-memory figures (harness.timed).
    sizes = [str(rows), str(products)]
    subprocess.run([sys.executable, "-c", WRITE_INPUTS, str(folder), *sizes], cwd=HERE, check=True)
    db = folder / "base.duckdb"
    subprocess.run([*haowu, "--db", str(db), "import", str(folder / "products.csv")], check=True)
    anchors = folder / "anchors.csv"
    subprocess.run(
        [*haowu, "--db", str(db), "import", "--kind", "anchors", str(anchors)], check=True
    )
    return db


def report_check(haowu: list[str], db: Path) -> tuple[str, bool]:
    """The commission report's own check line, and whether the parts add up to the base.
    The report is asked for in English whatever the machine's language (Chinese is the
    default: "核对：…"), so that the line is found by its "check:" prefix; its exit code
    says whether the parts add up (0) or not (1)."""
    loud = [a for a in haowu if a != "--quiet"]
    checked = subprocess.run(
        [*loud, "--lang", "en", "--db", str(db), "commission", "--as-of", AS_OF, "-f", "csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in checked.stderr.splitlines() if line.startswith("check:")]
    return (lines[0] if lines else "check: (no check line printed)"), checked.returncode == 0


def fresh(path: Path) -> Path:
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    # The orders are paid in Oct–Nov 2026 and received up to a week later: an import on a
    # fixed later day keeps them all in the past (else rows come back as future dates).
    os.environ.setdefault("HAOWU_TODAY", "2026-12-31")
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet", "--config", str(ROOT / "configs")]
    python = sys.executable
    names = ["bare read", "import", "bare aggregate", "by party", "by merchant"]
    runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        folder = Path(tmp)
        base = prepare(folder, args.rows, args.products, haowu)
        orders = str(folder / "orders.csv")
        db = folder / "run.duckdb"
        for _ in range(args.repeat):
            bare = fresh(folder / "bare.duckdb")
            runs["bare read"].append(measured([python, "-c", BARE_READ, str(bare), orders]))
            shutil.copy(base, fresh(db))
            importing = [*haowu, "--db", str(db), "import", "--kind", "orders", orders]
            runs["import"].append(measured(importing))
            runs["bare aggregate"].append(measured([python, "-c", BARE_AGGREGATE, str(db)]))
            for by in ("party", "merchant"):
                report = [*haowu, "--db", str(db), "commission", "--by", by, "--as-of", AS_OF]
                # Exits 1 when the parts do not add up to the base: measured() stops then.
                runs[f"by {by}"].append(measured([*report, "--format", "csv"]))
        queries = json.loads(
            subprocess.run(
                [python, "-c", QUERIES, str(db), str(ROOT / "configs")],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            ).stdout
        )
        # After the timing: what the last import wrote, and the report's own check line.
        counts = json.loads(
            subprocess.run(
                [python, "-c", COUNTS, str(db)], capture_output=True, text=True, check=True
            ).stdout
        )
        check, balanced = report_check(haowu, db)
        sizes = {p.name: p.stat().st_size for p in (folder / "orders.csv", db)}

    medians = {name: statistics.median(s for s, _, _ in runs[name]) for name in names}
    cpu = {name: statistics.median(c for _, c, _ in runs[name]) for name in names}
    baseline = {
        "bare read": None,
        "import": "bare read",
        "bare aggregate": None,
        "by party": "bare aggregate",
        "by merchant": "bare aggregate",
    }
    print(
        f"{args.rows:,} orders over {args.products:,} products and {ANCHORS} anchors, "
        f"median of {args.repeat} runs, {os.cpu_count()} cores; each a whole process"
    )
    print(
        f"orders written {counts['orders']:,} ({counts['invalid']:,} invalid), ledger entries "
        f"{counts['ledger']:,} for {counts['posted']:,} orders; orders.csv "
        f"{sizes['orders.csv'] / 2**20:,.0f} MiB, database {sizes[db.name] / 2**20:,.0f} MiB"
    )
    print(
        f"{'':15} {'seconds':>8} {'÷ base':>7} {'CPU s':>8} {'÷ base':>7} {'base':>15} "
        f"{'peak MiB':>9}"
    )
    for name in names:
        seconds, against = medians[name], baseline[name]
        ratio = f"{seconds / medians[against]:7.2f}" if against else f"{'':7}"
        cpu_ratio = f"{cpu[name] / cpu[against]:7.2f}" if against else f"{'':7}"
        peak = max(m for _, _, m in runs[name])
        print(
            f"{name:15} {seconds:8.2f} {ratio} {cpu[name]:8.2f} {cpu_ratio} "
            f"{against or '':>15} {peak:9d}"
        )
    bare, split = queries["bare aggregate query"], queries["split query"]
    print(f"{'bare aggregate query':21} {bare:8.3f}   (in one process, median of 5)")
    print(f"{'split query':21} {split:8.3f} {split / bare:7.2f}× the bare aggregate query")
    print(check)
    print(f"parts add up to the base: {'yes' if balanced else 'NO'}")
    worst = max(medians["by party"], medians["by merchant"]) / medians["bare aggregate"]
    print(
        f"target: splitting every order within {TARGET_RATIO:g}× of the bare aggregate "
        f"(queries): {'met' if split / bare <= TARGET_RATIO else 'NOT met'} "
        f"({split / bare:.2f}×); whole report commands: {worst:.2f}× the bare aggregate process"
    )
    print(f"total run time {time.perf_counter() - started:,.0f} s")


if __name__ == "__main__":
    main()
