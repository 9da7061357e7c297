"""`haowu products` and `haowu export products`: listing, filters, machine formats, Excel."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from tests.conftest import HEADER, product_row, write_csv


@pytest.fixture
def filled(cli, tmp_path):
    rows = [
        HEADER + ["品牌", "备注"],
        product_row("P1", "M1", "59.90", "20%", 商品名称="玻尿酸面霜") + ["花漾", "=1+1"],
        product_row("P2", "M1", "¥9.9", "35%", 一级类目="食品", 商品名称="螺蛳粉") + ["川味", ""],
        product_row("P3", "M2", "1,299", "12.5%", 商品名称="+羊毛大衣") + ["杭派", ""],
    ]
    assert cli("--db", "h.duckdb", "import", write_csv(tmp_path / "s.csv", rows)).code == 0
    return cli


def test_table_for_people(filled):
    result = filled("--db", "h.duckdb", "products")
    assert result.code == 0
    assert "玻尿酸面霜" in result.out and "¥1,299.00" in result.out and "12.5%" in result.out
    assert "3 products" in result.err


def test_filters(filled):
    out = lambda *a: filled("--db", "h.duckdb", "products", "--format", "csv", *a).out  # noqa: E731
    assert out("--merchant", "M2").count("\n") == 2
    assert "螺蛳粉" in out("--category", "食品") and "面霜" not in out("--category", "食品")
    assert "P1" in out("--search", "面霜") and out("--search", "面霜").count("\n") == 2
    assert out("--search", "P3").count("\n") == 2
    assert out("--limit", "1").count("\n") == 2


def test_json_is_exact_and_complete(filled):
    rows = json.loads(filled("--db", "h.duckdb", "products", "--format", "json").out)
    by_id = {r["product_id"]: r for r in rows}
    assert by_id["P2"]["live_price"] == "9.90" and by_id["P2"]["commission_rate"] == "0.35"
    assert by_id["P3"]["live_price"] == "1299.00" and by_id["P3"]["commission_rate"] == "0.125"
    assert by_id["P1"]["extra"] == '{"备注":"=1+1"}'
    assert list(by_id["P1"])[:4] == ["product_id", "merchant_id", "merchant_name", "title"]


def test_export_csv_uses_canonical_names(filled, tmp_path):
    result = filled("--db", "h.duckdb", "export", "products", "--out", tmp_path / "p.csv")
    assert result.code == 0 and "wrote 3 products" in result.err
    rows = list(csv.DictReader((tmp_path / "p.csv").open(encoding="utf-8")))
    assert rows[0]["product_id"] == "P1" and rows[0]["live_price"] == "59.90"
    assert rows[0]["commission_rate"] == "0.2" and rows[2]["title"] == "+羊毛大衣"


def test_export_for_excel_has_a_bom_and_no_live_formulas(filled, tmp_path):
    filled("--db", "h.duckdb", "export", "products", "--excel", "--out", tmp_path / "p.csv")
    data = (tmp_path / "p.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[2]["title"] == "'+羊毛大衣"
    assert rows[0]["extra"].startswith("{")  # JSON, not a formula: left alone
    assert rows[0]["live_price"] == "59.90"


def test_export_to_stdout(filled):
    result = filled("--db", "h.duckdb", "export", "products")
    assert result.out.splitlines()[0].startswith("product_id,merchant_id,merchant_name,title")


def test_export_into_a_missing_folder_fails_cleanly(filled, tmp_path):
    result = filled("--db", "h.duckdb", "export", "products", "--out", tmp_path / "no" / "p.csv")
    assert result.code == 2 and "does not exist" in result.err  # refused: nothing done


def test_listing_without_a_database(cli):
    result = cli("--db", "none.duckdb", "products")
    assert result.code == 1 and "no haowu database" in result.err


def test_category_at_any_level_merchant_min_level_and_sort(cli, tmp_path):
    header = [*HEADER, "二级类目", "三级类目", "近30天销量"]
    rows = [
        header,
        [*product_row("P1", "M1", rate="20%", 一级类目="美妆护肤>面部护理>洁面"), "", "", "900"],
        [*product_row("P2", "M1", rate="30%"), "面部护理", "面霜", "50"],
        [*product_row("P3", "M2", rate="25%"), "面部护理", "洁面", "500"],
        [*product_row("P4", "M1", rate="10%", 一级类目="食品"), "零食", "坚果", "0"],
    ]
    assert cli("--db", "h.duckdb", "import", write_csv(tmp_path / "s.csv", rows)).code == 0
    assert cli("--db", "h.duckdb", "grade", "--as-of", "2026-11-22").code == 0

    def ids(*options: str) -> list[str]:
        ran = cli("--db", "h.duckdb", "products", "--format", "json", *options)
        assert ran.code == 0, ran.err
        return [r["product_id"] for r in json.loads(ran.out)]

    assert ids("--category", "洁面") == ["P1", "P3"]  # 三级类目, from a path or its own column
    assert ids("--category", "面部护理") == ["P1", "P2", "P3"]  # 二级
    assert ids("--category", "食品") == ["P4"]  # 一级
    assert ids("--category", "美妆护肤>面部护理>洁面") == ["P1"]  # a path: every level matches
    assert ids("--category", "美妆>面部护理") == ["P2", "P3"]
    assert ids("--category", "洁面", "--merchant", "M1") == ["P1"]
    assert ids("--merchant", "M1", "--sort", "commission") == ["P2", "P1", "P4"]
    assert ids("--category", "面部护理", "--sort", "sales") == ["P1", "P3", "P2"]
    # Levels set by hand: this test is about the filters, not the model.
    with duckdb.connect(str(tmp_path / "h.duckdb")) as con:
        for pid, level in (("P1", "L3"), ("P2", "L2"), ("P3", "L4"), ("P4", "L0")):
            con.execute("UPDATE grades SET level = ? WHERE product_id = ?", [level, pid])
            con.execute("UPDATE latest_grades SET level = ? WHERE product_id = ?", [level, pid])
    assert ids("--min-level", "L2") == ["P1", "P2", "P3"]
    assert ids("--sort", "level") == ["P3", "P1", "P2", "P4"]
    assert ids("--category", "面部护理", "--min-level", "l3", "--sort", "level") == ["P3", "P1"]
    assert ids("--merchant", "M1", "--category", "洁面", "--min-level", "L4") == []
