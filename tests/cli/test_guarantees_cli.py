"""What holds whatever users type: no export for Excel carries a live formula, files go only
where the command line says, and a broken commission.yaml is refused with file, key, line."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import write_csv

FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("http://x")']


@pytest.fixture
def hostile(cli, tmp_path):
    """Products, an anchor and orders whose text fields start like formulas."""
    header = [
        "商品ID",
        "商家ID",
        "商品名称",
        "一级类目",
        "直播价",
        "佣金率",
        "团长服务费率",
        "机制",
    ]
    rows = [header] + [
        [f"P{i}", "M1", text, "美妆", "9.9", "20%", "5%", text] for i, text in enumerate(FORMULAS)
    ]
    assert cli("--db", "h.duckdb", "import", write_csv(tmp_path / "p.csv", rows)).code == 0
    write_csv(
        tmp_path / "a.csv",
        [
            ["达人ID", "达人昵称", "客单价", "机构", "机构分成比例"],
            ["A1", "=cmd", "100", "=MCN", "30%"],
        ],
    )
    assert cli("--db", "h.duckdb", "import", "--kind", "anchors", "a.csv").code == 0
    assert cli("--db", "h.duckdb", "--quiet", "grade", "--as-of", "2026-11-22").code == 0
    orders = [["订单号", "商品ID", "达人ID", "专场ID", "实付金额", "订单状态"]] + [
        [f"O{i}", f"P{i}", "A1", "=S1", "9.90", "已付款"] for i in range(len(FORMULAS))
    ]
    assert (
        cli(
            "--db", "h.duckdb", "import", "--kind", "orders", write_csv(tmp_path / "o.csv", orders)
        ).code
        == 0
    )
    return lambda *args: cli("--db", "h.duckdb", *args)


@pytest.mark.parametrize("what", ["products", "ledger", "orders"])
def test_no_export_for_excel_holds_a_live_formula(hostile, tmp_path, what):
    assert hostile("export", what, "--excel", "--out", f"{what}.csv").code == 0
    text = (tmp_path / f"{what}.csv").read_text(encoding="utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [c for c in cells if c[:1] in "=+@" and c[:1]], cells
    assert not [
        c for c in cells if c.startswith("-") and not c.lstrip("-").replace(".", "").isdigit()
    ]
    kept = {"products": "'=1+1", "ledger": "'=S1", "orders": "'=S1"}[what]
    assert kept in cells  # kept, as text Excel shows


def test_an_export_writes_only_its_file(hostile, tmp_path):
    before = set(tmp_path.iterdir())
    assert hostile("export", "products", "--out", "only.csv").code == 0
    assert set(tmp_path.iterdir()) - before == {tmp_path / "only.csv"}  # no temp file left


def test_rejects_go_where_the_command_line_says(cli, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    sheet = write_csv(
        tmp_path / "in" / "s.csv",
        [
            ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率"],
            ["P1", "M1", "x", "美妆", "abc", "20%"],
        ],
    )
    result = cli("--db", "h.duckdb", "import", sheet, "--rejects", tmp_path / "out" / "r.csv")
    assert result.code == 3
    assert sorted(p.name for p in (tmp_path / "in").iterdir()) == ["s.csv"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.csv"]


def test_a_broken_commission_yaml_is_refused_with_file_key_and_line(cli, tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "commission.yaml").write_text(
        "platform_cut:\n  commission: ten percent\n  service_fee: 0.1\n"
        "technical_fee: {default: 0.05, pay_later: 0.004}\n"
        "settlement:\n  - {min_shop_score: 4.8, days: 7}\n",
        encoding="utf-8",
    )
    sheet = write_csv(
        tmp_path / "o.csv",
        [["订单号", "商品ID", "实付金额", "订单状态"], ["O1", "P1", "1", "paid"]],
    )
    result = cli("--db", "h.duckdb", "--config", "configs", "import", "--kind", "orders", sheet)
    assert result.code == 2
    assert (
        "commission.yaml:2 platform_cut.commission: expected a fraction from 0 to 1" in result.err
    )
    assert "commission.yaml:4 technical_fee.pay_later: unknown key" in result.err
    assert "commission.yaml:6 settlement.0: the last rule takes every other order" in result.err
    assert not (tmp_path / "h.duckdb").exists()  # refused before anything was written
