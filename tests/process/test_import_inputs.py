"""What `haowu import` makes of awkward sheets, through the real process (issue 12, "Inputs"):
every row with a value in it is imported or rejected with its reason, never skipped or
guessed; the exit code says which (0 all in, 3 rows rejected, 1 the file refused).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.conftest import HEADER, product_row

TODAY = {"HAOWU_TODAY": "2026-12-02"}  # the day of the import, fixed for these tests
ORDERS = ["订单号", "商品ID", "达人ID", "专场ID", "实付金额", "支付时间", "订单状态"]


def sheet(path: Path, rows: list[list[str]], *, newline: str = "\r\n", encoding="utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def products_in(haowu, tmp_path, rows) -> None:
    products = sheet(tmp_path / "products.csv", [HEADER, *rows])
    assert haowu("--db", "h.duckdb", "import", products, env=TODAY).code == 0


# --- line endings, blank lines ----------------------------------------------------------------


def test_a_sheet_with_cr_only_line_endings_is_read(haowu, tmp_path, databases):
    path = sheet(tmp_path / "mac.csv", [HEADER, product_row("P1"), product_row("P2")], newline="\r")
    ran = haowu("--db", "h.duckdb", "import", path)
    assert ran.code == 0, ran
    assert "2 rows: 2 new" in ran.err, ran
    assert databases.rows(tmp_path / "h.duckdb", "SELECT product_id FROM products ORDER BY 1") == [
        ("P1",),
        ("P2",),
    ]


def test_a_cr_only_sheet_with_a_line_break_inside_a_cell_is_read(haowu, tmp_path, databases):
    rows = [HEADER, product_row("P1"), product_row("P2"), product_row("P3")]
    rows[2][2] = "两行\n的标题"  # Excel writes a line break in a cell as LF, in quotes
    path = tmp_path / "mac.csv"
    path.write_text("\r".join(",".join(f'"{c}"' for c in row) for row in rows), encoding="utf-8")
    ran = haowu("--db", "h.duckdb", "import", path)
    assert ran.code == 0 and "3 rows: 3 new" in ran.err, ran
    found = databases.rows(
        tmp_path / "h.duckdb", "SELECT title FROM products WHERE product_id = 'P2'"
    )
    assert found == [("两行\n的标题",)]


def test_a_row_without_id_after_a_blank_line_is_rejected_not_skipped(haowu, tmp_path):
    rows = [HEADER, product_row("P1"), [""] * 6, product_row(""), product_row("P3")]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows))
    assert ran.code == 3, ran
    assert "4 rows: 2 new, 0 updated, 0 unchanged, 1 rejected, 1 skipped" in ran.err, ran
    assert "row 4, 商品ID None: required value is missing" in ran.err, ran


# --- dates ------------------------------------------------------------------------------------


def test_dates_after_the_import_day_are_rejected_with_a_days_grace(haowu, tmp_path):
    header = [*HEADER, "上架时间"]
    rows = [
        header,
        product_row("P1") + ["2026-12-03"],  # tomorrow: another time zone's today
        product_row("P2") + ["2026-12-04"],
        product_row("P3") + ["2099-01-01"],
        product_row("P4") + ["1900-01-01"],
        product_row("P5") + ["1990-01-01"],
    ]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows), env=TODAY)
    assert ran.code == 3, ran
    assert "2 new" in ran.err and "3 rejected" in ran.err, ran
    future = (
        "in the future: after 2026-12-03 (the import's day 2026-12-02 + 1 day, "
        "dates.future_tolerance_days in configs/imports.yaml)"
    )
    assert f"row 3, 上架时间 '2026-12-04': {future}" in ran.err, ran
    assert f"row 4, 上架时间 '2099-01-01': {future}" in ran.err, ran
    assert (
        "row 5, 上架时间 '1900-01-01': too far in the past: before 1990-01-01 "
        "(dates.earliest in configs/imports.yaml)" in ran.err
    ), ran


def test_an_order_paid_next_year_is_rejected(haowu, tmp_path, databases):
    products_in(haowu, tmp_path, [product_row("P1")])
    rows = [
        ORDERS,
        ["O1", "P1", "A1", "S1", "100", "2026-12-01 20:00", "已付款"],
        ["O2", "P1", "A1", "S1", "100", "2027-12-01 20:00", "已付款"],
    ]
    path = sheet(tmp_path / "o.csv", rows)
    ran = haowu("--db", "h.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert ran.code == 3, ran
    assert "row 3, 支付时间 '2027-12-01 20:00': in the future" in ran.err, ran
    assert databases.rows(tmp_path / "h.duckdb", "SELECT order_id FROM orders") == [("O1",)]


def test_the_date_bounds_come_from_the_config(haowu, tmp_path):
    configs = tmp_path / "cfg"
    configs.mkdir()
    (configs / "imports.yaml").write_text(
        "amount_max_yuan: 1000\ndates:\n  future_tolerance_days: 0\n  earliest: 2020-01-01\n"
        "totals_labels: [合计]\n",
        encoding="utf-8",
    )
    header = [*HEADER, "上架时间"]
    rows = [header, product_row("P1") + ["2026-12-03"], product_row("P2") + ["2019-12-31"]]
    path = sheet(tmp_path / "s.csv", rows)
    ran = haowu("--config", configs, "--db", "h.duckdb", "import", path, env=TODAY)
    assert ran.code == 3 and "2 rejected" in ran.err, ran
    assert "after 2026-12-02 (the import's day 2026-12-02 + 0 days" in ran.err, ran
    assert "before 2020-01-01 (dates.earliest in cfg/imports.yaml)" in ran.err, ran


def test_a_broken_imports_config_is_reported_with_file_line_and_key(haowu, tmp_path):
    configs = tmp_path / "cfg"
    configs.mkdir()
    (configs / "imports.yaml").write_text(
        "amount_max_yuan: 99999999999999\ndates:\n  future_tolerance_days: -1\n"
        "  earliest: soon\ntotals_labels: 合计\n",
        encoding="utf-8",
    )
    path = sheet(tmp_path / "s.csv", [HEADER, product_row("P1")])
    ran = haowu("--config", configs, "--db", "h.duckdb", "import", path)
    assert ran.code == 2, ran
    for where in (
        "imports.yaml:1 amount_max_yuan",
        "imports.yaml:3 dates.future_tolerance_days",
        "imports.yaml:4 dates.earliest",
        "imports.yaml:5 totals_labels",
    ):
        assert where in ran.err, ran
    assert not (tmp_path / "h.duckdb").exists()


# --- amounts ----------------------------------------------------------------------------------


def test_an_absurd_amount_is_rejected_and_the_rest_imported(haowu, tmp_path, databases):
    products_in(haowu, tmp_path, [product_row("P1")])
    rows = [
        ORDERS,
        ["O1", "P1", "A1", "S1", "99999999999999.99", "2026-12-01", "已付款"],
        ["O2", "P1", "A1", "S1", "100000000.01", "2026-12-01", "已付款"],
        ["O3", "P1", "A1", "S1", "100000000", "2026-12-01", "已付款"],
    ]
    path = sheet(tmp_path / "o.csv", rows)
    ran = haowu("--db", "h.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert ran.code == 3, ran
    assert "OutOfRange" not in ran.err and "1 new" in ran.err and "2 rejected" in ran.err, ran
    assert (
        "row 2, 实付金额 '99999999999999.99': too large: more than ¥100,000,000 "
        "(amount_max_yuan in configs/imports.yaml)" in ran.err
    ), ran
    assert databases.rows(
        tmp_path / "h.duckdb",
        "SELECT order_id, base FROM (SELECT order_id, "
        "sum(amount_fen) AS base FROM ledger WHERE account = 'base' GROUP BY 1)",
    ) == [("O3", 10_000_000_000)]


def test_a_price_above_the_cap_is_rejected(haowu, tmp_path):
    rows = [HEADER, product_row("P1", price="100000001"), product_row("P2", price="1.2万")]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows))
    assert ran.code == 3 and "1 new" in ran.err, ran
    assert "直播价 '100000001': too large: more than ¥100,000,000" in ran.err, ran


# --- IDs --------------------------------------------------------------------------------------


def test_invisible_characters_are_removed_from_every_id_and_reported(haowu, tmp_path, databases):
    products_in(haowu, tmp_path, [product_row("P1"), product_row("P2"), product_row("P3")])
    rows = [
        HEADER,
        product_row("P1\u200b", price="10"),
        product_row("\ufeffP2", merchant="M1\u2060", price="10"),
        product_row("P\t3", price="10"),
        product_row("P4"),
    ]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows), env=TODAY)
    assert ran.code == 0, ran
    assert "4 rows: 1 new, 3 updated" in ran.err, ran
    assert (
        "removed invisible characters from the IDs of 3 rows (row 2 商品ID: U+200B; "
        "row 3 商品ID: U+FEFF; row 3 商家ID: U+2060; row 4 商品ID: U+0009)" in ran.err
    ), ran
    database = tmp_path / "h.duckdb"
    assert databases.rows(database, "SELECT product_id, merchant_id FROM products ORDER BY 1") == [
        ("P1", "M1"),
        ("P2", "M1"),
        ("P3", "M1"),
        ("P4", "M1"),
    ]
    orders = [
        ["订单号", "商品ID", "达人ID", "专场ID", "实付金额", "支付时间", "订单状态"],
        ["O1\u200c", "P1\u200b", "A1\u00ad", "S\u200d1", "100", "2026-12-01", "已付款"],
    ]
    path = sheet(tmp_path / "o.csv", orders)
    ran = haowu("--db", "h.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert ran.code == 0, ran
    assert "removed invisible characters from the IDs of 1 rows" in ran.err, ran
    assert databases.rows(
        database, "SELECT order_id, product_id, anchor_id, session_id FROM orders"
    ) == [("O1", "P1", "A1", "S1")]


# --- totals rows ------------------------------------------------------------------------------


def test_a_totals_row_at_the_bottom_is_skipped_and_named(haowu, tmp_path, databases):
    rows = [HEADER, product_row("P1"), product_row("P2"), ["合计", "", "", "", "119.80", ""]]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows))
    assert ran.code == 0, ran
    assert (
        "3 rows: 2 new, 0 updated, 0 unchanged, 0 rejected, 1 skipped (1 totals row: row 4: "
        "合计)" in ran.err
    ), ran
    assert databases.rows(tmp_path / "h.duckdb", "SELECT count(*) FROM products") == [(2,)]


def test_totals_rows_in_a_text_column_with_blank_lines_after_them(haowu, tmp_path):
    header = ["订单号", "商品ID", "达人ID", "实付金额", "支付时间", "订单状态", "佣金率"]
    rows = [
        header,
        ["O1", "P1", "A1", "100", "2026-12-01", "已付款", "20%"],
        ["", "", "小计：", "100", "", "", ""],
        ["", "", "总计", "¥100.00", "", "", "-"],
        ["", "", "", "", "", "", ""],
    ]
    path = sheet(tmp_path / "o.csv", rows)
    ran = haowu(
        "--db", "h.duckdb", "import", "--kind", "orders", "--format", "json", path, env=TODAY
    )
    assert ran.code == 0, ran
    [report] = json.loads(ran.out)
    assert (report["inserted"], report["skipped"], report["rejected"]) == (1, 3, 0), ran
    ran = haowu("--db", "h2.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert "3 skipped (1 blank or repeated header, 2 totals rows: row 3: 小计:, row 4: 总计)" in (
        ran.err
    ), ran


def test_a_totals_looking_row_above_the_bottom_is_an_ordinary_row(haowu, tmp_path):
    rows = [HEADER, product_row("P1"), ["合计", "", "", "", "59.90", ""], product_row("P2")]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows))
    assert ran.code == 3, ran
    assert "1 rejected" in ran.err and "totals row" not in ran.err, ran


# --- encodings --------------------------------------------------------------------------------


def test_a_bad_byte_in_a_utf8_sheet_is_named_by_line(haowu, tmp_path):
    text = "\r\n".join(",".join(r) for r in [HEADER, product_row("P1"), product_row("P2")])
    data = text.encode("utf-8").replace("商品P2".encode(), "商品".encode() + b"\xff")
    path = tmp_path / "s.csv"
    path.write_bytes(data)
    ran = haowu("--db", "h.duckdb", "import", path)
    assert ran.code == 1, ran
    assert "line 3: byte 0xFF cannot be read as UTF-8" in ran.err, ran
    assert "gb18030" not in ran.err.split("hint:")[0], ran
    assert "--encoding" in ran.err, ran
    named = haowu("--db", "h.duckdb", "import", "--encoding", "utf-8", path)
    assert named.code == 1, named
    assert "line 3: byte 0xFF cannot be read as UTF-8 (--encoding)" in named.err, named


# --- rates ------------------------------------------------------------------------------------


def test_a_rate_column_with_one_fraction_among_percents_refuses_only_it(haowu, tmp_path, databases):
    rows = [
        HEADER,
        product_row("P1", rate="30"),
        product_row("P2", rate="25"),
        product_row("P3", rate="20"),
        product_row("P4", rate="0.2"),
        product_row("P5", rate="15%"),
    ]
    ran = haowu("--db", "h.duckdb", "import", sheet(tmp_path / "s.csv", rows))
    assert ran.code == 3, ran
    assert "4 new" in ran.err and "1 rejected" in ran.err, ran
    assert "row 5, 佣金率 '0.2': ambiguous rate" in ran.err, ran
    found = databases.rows(
        tmp_path / "h.duckdb", "SELECT product_id, commission_rate FROM products"
    )
    assert sorted((p, str(r)) for p, r in found) == [
        ("P1", "0.300000"),
        ("P2", "0.250000"),
        ("P3", "0.200000"),
        ("P5", "0.150000"),
    ]


# --- --quiet, and the merchant's share ------------------------------------------------------


def test_quiet_orders_import_without_rates_says_nothing(haowu, tmp_path):
    products = sheet(tmp_path / "p.csv", [[*HEADER, "团长服务费率"], product_row("P1") + ["5%"]])
    assert haowu("--db", "h.duckdb", "import", products).code == 0
    rows = [ORDERS, ["O1", "P1", "A1", "S1", "100", "2026-12-01", "已付款"]]
    path = sheet(tmp_path / "o.csv", rows)
    ran = haowu("--quiet", "--db", "h.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert (ran.code, ran.out, ran.err) == (0, "", ""), ran
    again = sheet(
        tmp_path / "o2.csv", [ORDERS, ["O2", "P1", "A1", "S1", "100", "2026-12-01", "已付款"]]
    )
    loud = haowu("--db", "h.duckdb", "import", "--kind", "orders", again, env=TODAY)
    assert "had no commission_rate: their product's current rate was used" in loud.err, loud
    assert "warning" not in loud.err, loud


def test_quiet_reimport_that_clears_the_rejects_says_nothing(haowu, tmp_path):
    path = sheet(tmp_path / "p.csv", [HEADER, product_row("P1"), product_row("P2", price="x")])
    assert haowu("--db", "h.duckdb", "import", path).code == 3
    assert (tmp_path / "p.rejects.csv").exists()
    sheet(path, [HEADER, product_row("P1"), product_row("P2")])
    ran = haowu("--quiet", "--db", "h.duckdb", "import", path)
    assert (ran.code, ran.out, ran.err) == (0, "", ""), ran
    assert not (tmp_path / "p.rejects.csv").exists()  # it would mislead now


def test_rates_that_leave_the_merchant_a_negative_share_are_refused(haowu, tmp_path, databases):
    products_in(haowu, tmp_path, [product_row("P1"), product_row("P2", rate="88%")])
    rows = [
        [*ORDERS, "佣金率", "团长服务费率"],
        ["O1", "P1", "A1", "S1", "100", "2026-12-01", "已付款", "90%", "10%"],
        ["O2", "P2", "A1", "S1", "100", "2026-12-01", "已付款", "", "10%"],
        ["O3", "P1", "A1", "S1", "100", "2026-12-01", "已付款", "85%", "10%"],
    ]
    path = sheet(tmp_path / "o.csv", rows)
    ran = haowu("--db", "h.duckdb", "import", "--kind", "orders", path, env=TODAY)
    assert ran.code == 3, ran
    assert (
        "row 2, 佣金率 '90%': commission 90% + service fee 10% + technical fee 5% "
        "(technical_fee in commission.yaml) add up to 105%: the merchant's share would be "
        "negative" in ran.err
    ), ran
    assert (
        "row 3, 佣金率 '88%': commission 88% + service fee 10% + technical fee 5% "
        "(technical_fee in commission.yaml), the rates taken from product P2, add up to 103%"
        in ran.err
    ), ran
    found = databases.rows(
        tmp_path / "h.duckdb",
        "SELECT order_id, amount_fen FROM ledger WHERE account = 'merchant'",
    )
    assert found == [], found  # 100 − 85 − 10 − 5 leaves the merchant nothing, and no less
    assert databases.rows(tmp_path / "h.duckdb", "SELECT order_id FROM orders") == [("O3",)]
