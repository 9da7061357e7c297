"""A large CSV is read, checked and written a part at a time (`sources.csv_parts`): what lands,
what is refused and what the report says are the same as when the file is read whole."""

from __future__ import annotations

import csv
import io

import pytest

from haowu_cli.config import packaged_path
from haowu_cli.ingest import sources
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from haowu_cli.store import Store
from tests.conftest import HEADER, product_row


def _sheet(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _products_sheet() -> bytes:
    """Blank and repeated header rows, duplicates far apart (the later wins; one winner
    rejected), a cell with a line break and quotes, an invisible character in an ID, a row
    shifted by an unquoted comma, a totals row at the bottom."""
    rows = [["商品清单"], HEADER + ["备注"]]
    for i in range(60):
        rows.append(product_row(f"P{i}", price=f"{10 + i}") + [f'第{i}行\n"多行"'])
    rows[5] = product_row("P3\u200b", price="99") + [""]
    rows[10] = [""] * 7
    rows[20] = HEADER + ["备注"]
    rows.append(product_row("P7", price="77") + ["later P7 wins"])
    rows.append(product_row("P9", price="abc") + ["a rejected winner"])
    rows.append(["合计", "", "", "", "1234", "", ""])
    text = _sheet(rows)
    shifted = ",".join(product_row("P70")) + ",1,299\r\n"
    cut = text.index(b"P40,")
    return text[:cut] + shifted.encode() + text[cut:]


def _orders_sheet() -> bytes:
    header = ["订单编号", "商品ID", "达人ID", "实付金额", "支付时间", "订单状态", "退款金额"]
    rows = [header]
    for i in range(50):
        refund = "5.00" if i % 7 == 0 else ""
        status = "已失效" if i % 11 == 0 else "已收货"
        rows.append([f"O{i}", f"P{i % 5}", "B1", f"{20 + i}.50", "2026-10-02", status, refund])
    rows.append(["O3", "P1", "B1", "88.00", "2026-10-03", "已收货", ""])  # supersedes row 5
    return _sheet(rows)


def _imported(tmp_path, name: str, kind_name: str, path, monkeypatch, *, parts: bool):
    monkeypatch.setattr(sources, "STREAM_BYTES", 1 if parts else 1 << 40)
    monkeypatch.setattr(sources, "PART_BYTES", 300)
    config = packaged_path("configs")
    store = Store(tmp_path / name, lock_timeout=10)
    if kind_name == "orders":
        products = tmp_path / "p.csv"
        products.write_bytes(_sheet([HEADER] + [product_row(f"P{i}") for i in range(5)]))
        import_file(store, products, load_kind("products", config), ImportOptions())
    report = import_file(store, path, load_kind(kind_name, config), ImportOptions())
    table = "products" if kind_name == "products" else "orders"
    with store.read() as con:
        rows = con.execute(
            f"SELECT * EXCLUDE (created_import_id, updated_import_id) FROM {table} ORDER BY 1"
        ).fetchall()
        ledger = con.execute(
            "SELECT order_id, account, item, amount_fen FROM ledger ORDER BY ALL"
        ).fetchall()
    return report, rows, ledger


@pytest.mark.parametrize("kind_name", ["products", "orders"])
def test_a_large_csv_read_in_parts_lands_as_read_whole(tmp_path, monkeypatch, kind_name):
    path = tmp_path / "sheet.csv"
    path.write_bytes(_products_sheet() if kind_name == "products" else _orders_sheet())
    known = load_kind(kind_name, packaged_path("configs")).aliases.__contains__
    stream = sources.csv_parts(path, known, min_bytes=1, part_bytes=300)
    assert stream is not None and len(list(stream.parts())) > 3  # it does come in parts
    whole, whole_rows, whole_ledger = _imported(
        tmp_path, "whole.duckdb", kind_name, path, monkeypatch, parts=False
    )
    (tmp_path / "sheet.rejects.csv").unlink(missing_ok=True)
    parts, part_rows, part_ledger = _imported(
        tmp_path, "parts.duckdb", kind_name, path, monkeypatch, parts=True
    )
    assert part_rows == whole_rows and part_ledger == whole_ledger
    assert parts.counts() == whole.counts() and parts.ledger == whole.ledger
    assert parts.rejections.to_dicts() == whole.rejections.to_dicts()
    assert parts.totals == whole.totals and parts.unknown_columns == whole.unknown_columns
    assert sorted(parts.info) == sorted(whole.info) and parts.notes == whole.notes
    assert whole.rejected  # the sheet has its share of problems


def test_the_parts_are_the_file_cut_at_line_ends_outside_quotes(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _products_sheet())
    known = load_kind("products", packaged_path("configs")).aliases.__contains__
    whole = sources.read_table(path, known)
    stream = sources.csv_parts(path, known, min_bytes=1, part_bytes=64)
    assert stream is not None and stream.encoding == "utf-8-sig"
    frames = [raw.frame.drop("_row") for raw, _last in stream.parts()]
    assert sum(f.height for f in frames) == whole.frame.height
    import polars as pl

    assert pl.concat(frames).equals(whole.frame)


@pytest.mark.parametrize(
    "content",
    [
        "商品ID,商家ID\r\nP1,M1\r\n".encode("gb18030") + "商品".encode("gb18030"),  # not UTF-8
        b"\xe5\x95\x86\xe5\x93\x81ID,M\rP1,M1\rP2,M2\r",  # lines ended by CR alone
        b"\xe5\x95\x86\xe5\x93\x81ID,M\nP1\x00,M1\n",  # NUL bytes
    ],
)
def test_files_the_parts_cannot_cut_are_read_whole(tmp_path, content):
    path = tmp_path / "sheet.csv"
    path.write_bytes(content)
    assert sources.csv_parts(path, lambda h: h == "商品ID", min_bytes=1) is None
