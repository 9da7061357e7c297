"""The platform's files and 对账 through the installed `haowu`: what import says it read,
reconcile's categories and exit codes (0 all matched, 4 differences, 3 unreadable cells),
its machine output and page, and no buyer's personal data anywhere haowu writes."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path

SAMPLES = packaged_path("sample_data") / "platform"
EXTRA_LINE = "2599999999999999"  # in the sample settlement, not in the export


@pytest.fixture
def imported(haowu, tmp_path: Path) -> Path:
    """A database with the sample activity's products and its order export."""
    for name in ("activity_items.json", "order_export.csv", "settlement.csv"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    ran = haowu("--db", "h.duckdb", "import", "activity_items.json", "order_export.csv")
    assert ran.code == 0, ran
    assert (
        "read as: 快手商家后台订单导出" in ran.err
        and "read as: 快手开放平台活动商品 JSON" in ran.err
    )
    assert "personal data not read: 买家留言, 账号明细, 收货人姓名" in ran.err
    assert "自营" in ran.err
    return tmp_path / "h.duckdb"


def settlement_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def matching_settlement(tmp_path: Path) -> list[list[str]]:
    """The sample settlement without its two planted differences."""
    rows = settlement_rows(tmp_path / "settlement.csv")
    return [rows[0]] + rows[2:-1]


def test_sources_are_listed(haowu):
    ran = haowu("import", "--sources")
    assert ran.code == 0, ran
    names = [line.split("\t")[0] for line in ran.out.splitlines()]
    assert "kuaishou_order_export" in names and "kuaishou_settlement" in names


def test_reconcile_finds_the_planted_differences(haowu, imported, tmp_path, databases):
    ran = haowu("--db", "h.duckdb", "reconcile", "settlement.csv", "-f", "json")
    assert ran.code == 4, ran
    report = json.loads(ran.out)
    assert report["figures"]["lines_differs"] == 1
    assert report["figures"]["lines_only_platform"] == 1
    lines = report["tables"]["lines"]
    differs = {(r["party"], r["difference"]) for r in lines if r["state"] == "differs"}
    assert {("leader", "0.50"), ("merchant", "-0.50")} <= differs
    assert {r["platform_order_id"] for r in lines if r["state"] == "only_platform"} == {EXTRA_LINE}
    with databases.connect(imported) as con:
        kept = con.execute("SELECT count(DISTINCT platform_order_id) FROM platform_settlements")
        assert kept.fetchone()[0] > 50
        # The export gave no receipt date: the 结算明细's 实际结算时间 dates the ledger.
        standing = con.execute(
            "SELECT l.order_id, l.account, l.item, l.settles_on FROM ledger l "
            "JOIN orders o USING (order_id) JOIN (SELECT DISTINCT platform_order_id, product_id "
            "FROM platform_settlements) s USING (platform_order_id, product_id) "
            "GROUP BY ALL HAVING sum(l.amount_fen) <> 0"
        ).fetchall()
        assert len(standing) > 100 and all(day is not None for *_key, day in standing)
    assert "orders take their settlement date from the platform" in ran.err
    again = haowu("--db", "h.duckdb", "reconcile", "settlement.csv", "-f", "json")
    assert again.code == 4 and "settlement date" not in again.err, again
    assert json.loads(again.out)["figures"] == report["figures"]


def test_reconcile_csv_tables_and_page(haowu, imported, tmp_path):
    ran = haowu("--db", "h.duckdb", "reconcile", "settlement.csv", "-f", "csv", "--table",
                "summary", "--html", "page.html")  # fmt: skip
    assert ran.code == 4, ran
    header, *rows = list(csv.reader(ran.out.splitlines()))
    assert header == ["month", "party", "platform", "haowu", "difference", "lines",
                      "lines_differing"]  # fmt: skip
    assert {r[1] for r in rows} >= {"merchant", "anchor", "leader", "technical_fee"}
    assert "对账" in (tmp_path / "page.html").read_text(encoding="utf-8")


def test_all_matched_exits_0_whatever_the_parentheses(haowu, imported, tmp_path):
    rows = matching_settlement(tmp_path)
    rows[0] = [h.replace("(元)", "（元）") if h.startswith("达人") else h for h in rows[0]]
    write_rows(tmp_path / "ok.csv", rows)
    ran = haowu("--db", "h.duckdb", "reconcile", "ok.csv")
    assert ran.code == 0, ran
    assert "Differences found" not in ran.out


def test_unreadable_cells_exit_3(haowu, imported, tmp_path):
    rows = matching_settlement(tmp_path)
    column = rows[0].index("达人佣金(元)")
    rows[3][column] = "三块九"
    write_rows(tmp_path / "bad.csv", rows)
    ran = haowu("--db", "h.duckdb", "reconcile", "bad.csv")
    assert ran.code == 3, ran
    assert "'三块九'" in ran.err and "row 4" in ran.err


def test_an_order_file_is_not_a_settlement(haowu, imported):
    ran = haowu("--db", "h.duckdb", "reconcile", "order_export.csv")
    assert ran.code == 1, ran
    assert "is not a settlement file" in ran.err


def test_no_personal_data_in_any_table_or_file(haowu, tmp_path, databases):
    """Names, phones and addresses of the export's buyers appear nowhere haowu writes: not
    in any column of any table, not in the rejects file, not in any output."""
    rows = settlement_rows(SAMPLES / "order_export.csv")
    header = rows[0]
    rows[5][header.index("订单状态")] = "疑似异常"  # one rejected row: its rejects file
    write_rows(tmp_path / "export.csv", rows)
    personal = {"收货人姓名", "收货人电话", "收货地址", "实名姓名", "买家留言", "账号明细"}
    secrets = {row[header.index(h)] for row in rows[1:] for h in personal}
    secrets |= {s for s in (v.split("，")[-1] for v in secrets) if len(s) >= 2}
    assert len(secrets) > 100
    shutil.copy(SAMPLES / "activity_items.json", tmp_path)
    shutil.copy(SAMPLES / "settlement.csv", tmp_path)
    outputs = []
    outputs.append(haowu("--db", "h.duckdb", "import", "activity_items.json"))
    outputs.append(haowu("--db", "h.duckdb", "import", "export.csv", "-f", "json"))
    assert outputs[-1].code == 3, outputs[-1]
    outputs.append(haowu("--db", "h.duckdb", "import", "export.csv"))
    outputs.append(haowu("--db", "h.duckdb", "reconcile", "settlement.csv", "--html", "p.html"))
    outputs.append(haowu("--db", "h.duckdb", "export", "orders", "--out", "orders.csv"))
    assert (tmp_path / "export.rejects.csv").exists()
    with databases.connect("h.duckdb") as con:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        ]
        assert "orders" in tables and "platform_settlements" in tables
        for table in tables:
            columns = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [table]
            ).fetchall()]  # fmt: skip
            text = " ".join(
                str(v) for row in con.execute(f'SELECT * FROM "{table}"').fetchall() for v in row
            )
            leaked = [s for s in secrets if s in text]
            assert not leaked, (table, columns, leaked[:3])
    inputs = {"export.csv", "activity_items.json", "settlement.csv"}
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name not in inputs]
    assert any(p.name == "export.rejects.csv" for p in written)
    for path in written:
        if path.suffix in {".duckdb", ".parquet"}:
            continue  # the database's (on a lake, its data files): read above, table by table
        data = path.read_bytes().decode("utf-8", errors="replace")
        leaked = [s for s in secrets if s in data]
        assert not leaked, (path, leaked[:3])
    for ran in outputs:
        leaked = [s for s in secrets if s in ran.out or s in ran.err]
        assert not leaked, (ran, leaked[:3])
