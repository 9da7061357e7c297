"""Reading sheet files: every encoding Excel writes, XLSX, titles above the header, bad files."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest

from haowu_cli.errors import InputFileError
from haowu_cli.ingest.sources import OVERFLOW, read_table
from tests.conftest import HEADER, product_row, write_csv, write_xlsx

ROWS = [HEADER, product_row("P1"), product_row("P2", price="￥12.50")]


def read(path, kind, **kw):
    return read_table(path, kind.aliases.__contains__, **kw)


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
        ("utf-16", "utf-16"),
    ],
)
def test_encodings_are_detected_and_named(tmp_path, products_kind, encoding, detected):
    table = read(write_csv(tmp_path / "s.csv", ROWS, encoding), products_kind)
    assert table.encoding == detected
    assert table.headers == HEADER
    assert table.frame.row(1)[4] == "￥12.50"


def test_gbk_after_a_long_ascii_head_is_still_read_as_gbk(tmp_path, products_kind):
    rows = (
        [HEADER]
        + [product_row(f"P{i}") for i in range(20_000)]
        + [product_row("X", 商品名称="面霜")]
    )
    table = read(write_csv(tmp_path / "s.csv", rows, "gbk"), products_kind)
    assert table.encoding == "gb18030"
    assert table.frame.row(-1)[2] == "面霜"


def test_encoding_override(tmp_path, products_kind):
    path = write_csv(tmp_path / "s.csv", ROWS, "gbk")
    assert read(path, products_kind, encoding="gb18030").encoding == "gb18030"
    with pytest.raises(
        InputFileError, match=r"line 1: byte 0x.. cannot be read as UTF-8 \(--encoding\)"
    ):
        read(path, products_kind, encoding="utf-8")
    with pytest.raises(InputFileError, match="unknown encoding"):
        read(path, products_kind, encoding="klingon")


def test_header_is_found_below_a_title_row_and_rows_are_numbered_as_in_excel(
    tmp_path, products_kind
):
    rows = [["XX公司商品报名表"], ["请勿修改表头"], *ROWS]
    table = read(write_csv(tmp_path / "s.csv", rows), products_kind)
    assert table.headers == HEADER
    assert table.first_row == 4  # title, note, header: the first product is on row 4


def test_semicolon_and_tab_separated_sheets(tmp_path, products_kind):
    for sep in (";", "\t"):
        path = tmp_path / "s.csv"
        path.write_text("\n".join(sep.join(r) for r in ROWS), encoding="utf-8")
        assert read(path, products_kind).headers == HEADER


def test_cells_past_the_header_are_set_aside_and_trailing_commas_ignored(tmp_path, products_kind):
    path = tmp_path / "s.csv"
    lines = [",".join(HEADER) + ",,", ",".join(product_row("P1")) + ",,", "P2,M1,t,美妆,1,299,20%"]
    path.write_text("\n".join(lines))
    table = read(path, products_kind)
    assert table.headers == HEADER
    assert table.frame.columns == [f"c{i}" for i in range(6)] + [OVERFLOW]
    assert table.frame[OVERFLOW].to_list() == [None, "20%"]


def test_a_row_far_wider_than_the_header_fails_the_file_naming_the_row(tmp_path, products_kind):
    path = tmp_path / "s.csv"
    path.write_text("\n".join([",".join(HEADER), ",".join(product_row("P1")), "x," * 40]))
    with pytest.raises(InputFileError, match="row 3 has 41 cells, far more than its header"):
        read(path, products_kind)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b"a,b\x00c\n", "NUL"),
        (b"a,b\n\x80\x80\x80\n", "cannot be read as gb18030"),
    ],
)
def test_unreadable_csv_files(tmp_path, products_kind, content, message):
    path = tmp_path / "s.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        read(path, products_kind)


def test_missing_file_and_folder(tmp_path, products_kind):
    with pytest.raises(InputFileError, match="not found"):
        read(tmp_path / "nope.csv", products_kind)
    with pytest.raises(InputFileError, match="folder"):
        read(tmp_path, products_kind)


def test_xlsx_cells_read_as_excel_shows_them(tmp_path, products_kind):
    rows = [
        ["报名表"],
        HEADER + ["上架日期", "库存"],
        [1234567890123456789, "M1", "面霜", "美妆", 59.9, 0.2, dt.date(2026, 10, 1), 100.0],
        ["1234567890123456789", "M1", "面霜", "美妆", 0.1 + 0.2, "20%", 46296, 1.5],
    ]
    table = read(write_xlsx(tmp_path / "s.xlsx", rows), products_kind)
    assert table.encoding == "xlsx"
    assert table.first_row == 3
    first, second = table.frame.row(0), table.frame.row(1)
    assert first[0] == "1.23456789012346e+18"  # a number that lost digits: the ID check refuses it
    assert second[0] == "1234567890123456789"  # typed as text: kept exactly
    assert first[4] == "59.9" and second[4] == "0.3"  # Excel's 15 significant digits
    assert first[6] == "2026-10-01" and second[6] == "46296"
    assert first[7] == "100"


def test_xlsx_numbers_beyond_excels_15_digits_are_not_taken_as_ids(tmp_path, products_kind):
    rows = [
        HEADER,
        [1234567890123456, "M1", "t", "美妆", 1, "20%"],
        [123456789012345, "M1", "t", "美妆", 1, "20%"],
    ]
    table = read(write_xlsx(tmp_path / "s.xlsx", rows), products_kind)
    assert table.frame["c0"].to_list() == ["1.23456789012346e+15", "123456789012345"]


def test_xlsx_columns_without_a_header_keep_their_data(tmp_path, products_kind):
    rows = [HEADER + [None, None], product_row("P1") + [None, "看这里"]]
    table = read(write_xlsx(tmp_path / "s.xlsx", rows), products_kind)
    assert table.headers == HEADER + ["", ""]
    assert table.frame.row(0)[-1] == "看这里"


def test_xlsx_sheet_choice(tmp_path, products_kind):
    path = write_xlsx(tmp_path / "s.xlsx", ROWS, sheet="商品", extra_sheets=["说明"])
    assert read(path, products_kind, sheet="商品").headers == HEADER
    with pytest.raises(InputFileError, match="has no sheet '价格'; its sheets: 说明, 商品"):
        read(path, products_kind, sheet="价格")


def test_a_zip_that_is_not_a_workbook(tmp_path, products_kind):
    path = tmp_path / "s.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not excel")
    with pytest.raises(InputFileError, match="not a readable Excel workbook"):
        read(path, products_kind)


def test_options_that_do_not_fit_the_format(tmp_path, products_kind):
    with pytest.raises(InputFileError, match="--sheet applies to Excel"):
        read(write_csv(tmp_path / "s.csv", ROWS), products_kind, sheet="x")
    with pytest.raises(InputFileError, match="--encoding applies to CSV"):
        read(write_xlsx(tmp_path / "s.xlsx", ROWS), products_kind, encoding="gbk")
