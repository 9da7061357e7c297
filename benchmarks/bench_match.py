"""Benchmark `haowu match products --anchor A` against a bare SQL scoring pass, same run.

    python benchmarks/bench_match.py [--sizes 10000 100000] [--repeat 3]

For each size, imports a generated product sheet (`generate.py`) and one anchor and grades
the products; then times, in the same run:
  sql     a bare DuckDB scoring pass in a fresh process: open the database, join the latest
          grades, compute each product's expected GMV (GMV per hour × 6 minutes × the
          category affinity / live price, rounded down, capped by stock, × price) and keep
          the best 20: the least the model's arithmetic can cost
  match   the whole `haowu match products --anchor B001 --min-level L0 --format json`
          command (process start to exit): every product's eligibility, role, minutes and
          expected sales by the planner's model, 潜力好货, the best 20
and prints each median, the ratio of match to sql and match's peak memory.

`match anchors` is not built yet, so it is not measured.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import timed  # noqa: E402

ANCHORS_CSV = (
    "达人ID,达人昵称,粉丝数,女粉占比,主要年龄段,客单价,主营类目,场均时GMV,机构,机构分成比例\n"
    "B001,基准主播,120万,75%,25-34,¥299,美妆、食品、日百,8万,,\n"
)
SQL = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute('''
    WITH g AS (SELECT product_id, arg_max(level, as_of) AS level FROM grades GROUP BY 1),
    a AS (SELECT * FROM anchors WHERE anchor_id = 'B001')
    SELECT p.product_id,
           least(p.stock, floor(a.gmv_per_hour_fen * 6 / 60.0
                 * CASE WHEN list_contains(a.categories, p.category_l1) THEN 1.2 ELSE 0.6 END
                 / p.live_price_fen))::BIGINT * p.live_price_fen AS gmv
    FROM products p JOIN g USING (product_id), a
    WHERE p.live_price_fen > 0 AND p.stock > 0
    ORDER BY gmv DESC, p.product_id LIMIT 20
''').fetchall()
"""


def prepare(folder: Path, size: int, haowu: list[str]) -> str:
    sheet, db = folder / f"products_{size}.csv", str(folder / f"match_{size}.duckdb")
    anchors = folder / "anchors.csv"
    anchors.write_text(ANCHORS_CSV, encoding="utf-8")
    subprocess.run([sys.executable, str(HERE / "generate.py"), str(size), str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", str(sheet)], check=True)
    subprocess.run([*haowu, "--db", db, "import", "--kind", "anchors", str(anchors)], check=True)
    subprocess.run([*haowu, "--db", db, "grade", "--as-of", "2026-11-22"], check=True)
    return db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    haowu = [sys.executable, "-m", "haowu_cli", "--quiet"]
    print(f"{'products':>10} {'sql s':>8} {'match s':>8} {'ratio':>6} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for size in args.sizes:
            db = prepare(folder, size, haowu)
            match = [
                *haowu, "--db", db, "match", "products", "--anchor", "B001",
                "--min-level", "L0", "--date", "2026-11-22", "--format", "json",
            ]  # fmt: skip
            sql = [sys.executable, "-c", SQL, db]
            sql_runs = [timed(sql)[0] for _ in range(args.repeat)]
            match_runs = [timed(match) for _ in range(args.repeat)]
            sql_s = statistics.median(sql_runs)
            match_s = statistics.median(s for s, _ in match_runs)
            peak = max(m for _, m in match_runs)
            print(f"{size:>10,} {sql_s:>8.2f} {match_s:>8.2f} {match_s / sql_s:>6.1f} {peak:>9}")


if __name__ == "__main__":
    main()
