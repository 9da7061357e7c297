"""The import pipeline through its core functions: what lands, what is refused, and why."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from haowu_cli import store as db
from haowu_cli.errors import InputFileError
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from haowu_cli.store import upsert
from tests.conftest import HEADER, product_row, write_csv, written_to

FULL_HEADER = [
    "商品ID",
    "商家ID",
    "商家名称",
    "商品名称",
    "品牌",
    "一级类目",
    "二级类目",
    "售价",
    "直播价",
    "佣金率",
    "团长服务费率",
    "库存",
    "近30天销量",
    "近30天GMV",
    "好评率",
    "退货率",
    "店铺评分",
    "发货时效(小时)",
    "上架日期",
    "样品",
    "机制",
]


def run(store, kind, path, **options) -> object:
    return import_file(store, path, kind, ImportOptions(**options))


def products(store) -> dict[str, dict]:
    with store.read() as con:
        rows = con.execute("SELECT * FROM products").fetchall()
        names = [d[0] for d in con.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in rows}


def rejects(path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_field_lands_exactly(store, products_kind, tmp_path):
    row = [
        "P1",
        "M1",
        "花漾旗舰店",
        "玻尿酸面霜",
        "花漾",
        "美妆",
        "护肤",
        "￥199",
        "89.90元",
        "20%",
        "5%",
        "1.2万",
        "1,299",
        "116,780.10",
        "98.5%",
        "3.2%",
        "4.85",
        "48小时",
        "2026/10/1",
        "有",
        "买一送一",
    ]
    report = run(store, products_kind, write_csv(tmp_path / "s.csv", [FULL_HEADER, row], "gbk"))
    assert (report.inserted, report.rejected, report.encoding) == (1, 0, "gb18030")
    p = products(store)["P1"]
    assert p["list_price_fen"] == 19900 and p["live_price_fen"] == 8990
    assert p["commission_rate"] == Decimal("0.200000") and p["service_fee_rate"] == Decimal("0.05")
    assert p["stock"] == 12000 and p["sales_30d"] == 1299 and p["gmv_30d_fen"] == 11678010
    assert p["good_rate"] == Decimal("0.985") and p["refund_rate"] == Decimal("0.032")
    assert p["shop_score"] == Decimal("4.85") and p["ship_hours"] == 48
    assert str(p["listed_at"]) == "2026-10-01" and p["sample"] is True
    assert (p["merchant_name"], p["title"], p["mechanism"]) == (
        "花漾旗舰店",
        "玻尿酸面霜",
        "买一送一",
    )


@pytest.mark.parametrize(
    ("cell", "value", "reason"),
    [
        ("直播价", "0", "must be more than 0"),
        ("直播价", "abc", "not an amount"),
        ("佣金率", "95%", "must be between 0% and 90%"),
        ("佣金率", "", "required value is missing"),
        ("商品名称", "—", "required value is missing"),
        ("商品ID", "1.23457E+18", "lost its digits"),
    ],
)
def test_each_rejection_names_file_row_column_value_and_reason(
    store, products_kind, tmp_path, cell, value, reason
):
    bad = dict(zip(HEADER, product_row("P2"), strict=True)) | {cell: value}
    path = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), [bad[h] for h in HEADER]])
    report = run(store, products_kind, path)
    assert (report.inserted, report.rejected) == (1, 1)
    [line] = rejects(report.rejects_file)
    assert line["file"] == str(path) and line["row"] == "3" and line["column"] == cell
    assert line["value"] == value and reason in line["reason"]
    assert report.rejects_file == tmp_path / "s.rejects.csv"
    assert report.rejects_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel shows Chinese


@pytest.mark.parametrize(
    ("cell", "value", "reason"),
    [
        ("库存", "-3", "must be zero or more"),
        ("上架日期", "2026-02-30", "not a real date"),
        ("样品", "maybe", "yes/no"),
        ("店铺评分", "6", "between 0 and 5"),
        ("退货率", "120%", "between 0% and 100%"),
        ("近30天销量", "1.5", "whole number"),
    ],
)
def test_optional_fields_are_checked_too(store, products_kind, tmp_path, cell, value, reason):
    header = HEADER + [cell]
    path = write_csv(tmp_path / "s.csv", [header, product_row("P1") + [value]])
    report = run(store, products_kind, path)
    assert report.rejected == 1 and reason in report.rejections["reason"][0]


def test_blank_lines_repeated_headers_and_duplicates(store, products_kind, tmp_path):
    rows = [
        HEADER,
        product_row("P1", price="10"),
        [""] * 6,
        HEADER,
        product_row("P2"),
        product_row("P1", price="12"),
    ]
    report = run(store, products_kind, write_csv(tmp_path / "s.csv", rows))
    assert (report.rows_read, report.skipped, report.inserted, report.rejected) == (5, 2, 2, 1)
    assert products(store)["P1"]["live_price_fen"] == 1200  # the last row wins
    [line] = rejects(report.rejects_file)
    assert line["row"] == "2" and "row 6 has the same ID and wins" in line["reason"]


def test_unknown_columns_are_kept_with_the_row(store, products_kind, tmp_path):
    rows = [HEADER + ["备注", "主播要求"], product_row("P1") + ["样品已寄", "无"]]
    report = run(store, products_kind, write_csv(tmp_path / "s.csv", rows))
    assert report.unknown_columns == ["备注", "主播要求"]
    assert products(store)["P1"]["extra"] == '{"备注":"样品已寄","主播要求":"无"}'


def test_a_missing_required_column_fails_the_file_and_lists_what_it_found(
    store, products_kind, tmp_path
):
    rows = [["商品ID", "商品名称", "价格"], ["P1", "面霜", "59"]]
    with pytest.raises(InputFileError) as error:
        run(store, products_kind, write_csv(tmp_path / "s.csv", rows))
    message = error.value.message
    assert (
        "missing required columns: merchant_id (or 商家ID, 店铺ID, 商家编号 …); "
        "category_l1 (or 一级类目, 类目, 商品类目 …); live_price (or 直播价, 到手价, 活动价 …); "
        "commission_rate (or 佣金率, 佣金比例, 达人佣金率 …)" in message
    )
    from haowu_cli.i18n import language

    with language("zh"), pytest.raises(InputFileError) as error:
        run(store, products_kind, write_csv(tmp_path / "s.csv", rows))
    assert (
        "缺少必需的列：商家ID（也可写作：店铺ID、商家编号、shop id …）；一级类目"
        in error.value.message
    )
    assert "Columns found: 商品ID, 商品名称, 价格" in message
    assert not written_to(store)  # nothing written, not even an empty database


def test_merchant_option_fills_a_sheet_without_merchant_column(store, products_kind, tmp_path):
    rows = [
        ["商品ID", "商品名称", "类目", "到手价", "佣金比例"],
        ["P1", "面霜", "美妆", "59", "20%"],
    ]
    report = run(store, products_kind, write_csv(tmp_path / "s.csv", rows), merchant="M9")
    assert report.inserted == 1 and products(store)["P1"]["merchant_id"] == "M9"


def test_one_merchants_import_never_touches_another_merchants_products(
    store, products_kind, tmp_path
):
    run(store, products_kind, write_csv(tmp_path / "a.csv", [HEADER, product_row("P1", "M1")]))
    # A sheet for M2 that names M1's row and M1's product under M2.
    rows = [
        HEADER,
        product_row("P2", "M1"),
        product_row("P1", "M2", price="1"),
        product_row("P3", "M2"),
    ]
    report = run(store, products_kind, write_csv(tmp_path / "b.csv", rows), merchant="M2")
    reasons = dict(zip(report.rejections["row"], report.rejections["reason"], strict=True))
    assert "this import is for M2" in reasons[2]
    assert "already belongs to merchant_id M1" in reasons[3]
    assert report.inserted == 1 and report.rejected == 2
    stored = products(store)
    assert stored["P1"]["merchant_id"] == "M1" and stored["P1"]["live_price_fen"] == 5990
    assert "P2" not in stored and stored["P3"]["merchant_id"] == "M2"


def test_update_keeps_history_and_untouched_columns(store, products_kind, tmp_path):
    first = run(
        store,
        products_kind,
        write_csv(tmp_path / "a.csv", [HEADER + ["库存"], product_row("P1") + ["100"]]),
    )
    second = run(
        store,
        products_kind,
        write_csv(tmp_path / "b.csv", [HEADER, product_row("P1", price="49.90", rate="25%")]),
    )
    assert (second.inserted, second.updated) == (0, 1)
    p = products(store)["P1"]
    assert p["live_price_fen"] == 4990 and p["stock"] == 100  # stock was not in the second sheet
    with store.read() as con:
        history = con.execute(
            "SELECT import_id, field, old_value, new_value FROM product_changes ORDER BY field"
        ).fetchall()
    assert history == [
        (second.import_id, "commission_rate", "0.200000", "0.250000"),
        (second.import_id, "live_price", "5990", "4990"),
    ]
    assert first.import_id != second.import_id


def test_importing_the_same_file_again_changes_nothing(store, products_kind, tmp_path):
    path = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2")])
    run(store, products_kind, path)
    with store.read() as con:
        before = con.execute("SELECT * FROM products ORDER BY product_id").fetchall()
    again = run(store, products_kind, path)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert not again.changed
    with store.read() as con:
        assert con.execute("SELECT * FROM products ORDER BY product_id").fetchall() == before
        assert con.execute("SELECT count(*) FROM product_changes").fetchone() == (0,)


def test_dry_run_writes_nothing(store, products_kind, tmp_path):
    path = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", price="x")])
    report = run(store, products_kind, path, dry_run=True)
    assert (report.status, report.inserted, report.rejected) == ("dry-run", 1, 1)
    assert not written_to(store) and report.rejects_file is None
    run(store, products_kind, write_csv(tmp_path / "t.csv", [HEADER, product_row("P9")]))
    report = run(store, products_kind, path, dry_run=True)
    assert report.inserted == 1 and set(products(store)) == {"P9"}


def test_strict_refuses_a_file_with_any_rejected_row(store, products_kind, tmp_path):
    path = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", price="x")])
    with pytest.raises(InputFileError, match="1 rows rejected and --strict is on"):
        run(store, products_kind, path, strict=True)
    assert products(store) == {}
    assert rejects(tmp_path / "s.rejects.csv")[0]["column"] == "直播价"


def test_a_failure_mid_file_leaves_the_database_as_it_was(
    store, products_kind, tmp_path, monkeypatch
):
    run(store, products_kind, write_csv(tmp_path / "a.csv", [HEADER, product_row("P1")]))
    with store.read() as con:
        before = con.execute("SELECT * FROM products").fetchall()

    def crash(*args, **kwargs):
        raise RuntimeError("disk on fire")

    rows = [HEADER, product_row("P1", price="1"), product_row("P2")]
    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(db, "record_import", crash)  # after products were updated and inserted
        run(store, products_kind, write_csv(tmp_path / "b.csv", rows))
    with store.read() as con:
        assert con.execute("SELECT * FROM products").fetchall() == before
        assert con.execute("SELECT count(*) FROM imports").fetchone() == (1,)
        assert con.execute("SELECT count(*) FROM product_changes").fetchone() == (0,)


def test_rejects_file_neutralises_formulas(store, products_kind, tmp_path):
    path = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1", price="=HYPERLINK(1)")])
    report = run(store, products_kind, path)
    assert rejects(report.rejects_file)[0]["value"] == "'=HYPERLINK(1)"


def test_a_row_shifted_by_an_unquoted_comma_is_refused_and_the_file_goes_on(
    store, products_kind, tmp_path
):
    path = tmp_path / "s.csv"
    lines = [",".join(HEADER) + ",", ",".join(product_row("P1")) + ",", "P2,M1,t,美妆,1,299,20%"]
    path.write_text("\n".join(lines), encoding="utf-8")
    report = run(store, products_kind, path)
    assert (report.inserted, report.rejected) == (1, 1)
    [line] = rejects(report.rejects_file)
    assert line["row"] == "3" and line["value"] == "20%" and "not quoted" in line["reason"]


def test_unknown_columns_with_the_same_or_no_name_are_all_kept(store, products_kind, tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        ",".join(HEADER + ["备注", "", "备注"])
        + "\n"
        + ",".join(product_row("P1") + ["a", "c", "b"]),
        encoding="utf-8",
    )
    report = run(store, products_kind, path)
    assert report.unknown_columns == ["备注", "column H", "备注 (2)"]
    assert products(store)["P1"]["extra"] == '{"备注":"a","column H":"c","备注 (2)":"b"}'


def test_when_the_winning_duplicate_is_rejected_both_rows_say_so(store, products_kind, tmp_path):
    rows = [HEADER, product_row("P1"), product_row("P1", price="abc")]
    report = run(store, products_kind, write_csv(tmp_path / "s.csv", rows))
    reasons = dict(zip(report.rejections["row"], report.rejections["reason"], strict=True))
    assert "row 3 has the same ID and wins, but was rejected too" in reasons[2]
    assert "not an amount" in reasons[3]


def test_a_clean_reimport_removes_the_old_rejects_file(store, products_kind, tmp_path):
    bad = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1", price="x")])
    assert run(store, products_kind, bad).rejects_file.exists()
    fixed = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    report = run(store, products_kind, fixed)
    assert not (tmp_path / "s.rejects.csv").exists()
    assert "no row was rejected" in report.info[0]  # for people, not a warning for cron


def test_ownership_conflicts_name_the_sheets_own_column(store, products_kind, tmp_path):
    run(store, products_kind, write_csv(tmp_path / "a.csv", [HEADER, product_row("P1", "M1")]))
    report = run(
        store, products_kind, write_csv(tmp_path / "b.csv", [HEADER, product_row("P1", "M2")])
    )
    assert report.rejections["column"].to_list() == ["商品ID"]


def test_an_unexpected_error_fails_only_its_file(store, products_kind, tmp_path, monkeypatch):
    from haowu_cli.ingest import pipeline

    good = write_csv(tmp_path / "good.csv", [HEADER, product_row("P1")])
    cursed = write_csv(tmp_path / "cursed.csv", [HEADER, product_row("P2")])
    real = pipeline.read_table

    def flaky(path, *args, **kwargs):
        if path.name == "cursed.csv":
            raise ValueError("a bug")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pipeline, "read_table", flaky)
    reports = pipeline.import_files(store, [cursed, good], products_kind, ImportOptions())
    assert [r.status for r in reports] == ["failed", "imported"]
    assert "unexpected ValueError: a bug" in reports[0].error.message
    assert set(products(store)) == {"P1"}


def test_large_upserts_compared_in_slices_give_the_same_result(
    store, products_kind, tmp_path, monkeypatch
):
    monkeypatch.setattr(upsert, "UPSERT_SLICE_ROWS", 3)  # 10 stored rows: 4 slices
    first = [HEADER] + [product_row(f"P{i}") for i in range(10)]
    run(store, products_kind, write_csv(tmp_path / "a.csv", first))
    second = [HEADER] + [product_row(f"P{i}", price="1" if i % 2 else "59.90") for i in range(14)]
    report = run(store, products_kind, write_csv(tmp_path / "b.csv", second))
    assert (report.inserted, report.updated, report.unchanged) == (4, 5, 5)
    stored = products(store)
    assert len(stored) == 14 and stored["P3"]["live_price_fen"] == 100
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM product_changes").fetchone() == (5,)
