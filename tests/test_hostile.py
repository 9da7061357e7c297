"""Hostile and broken sheets: whatever a merchant sends, the import ends with a clear message
or a report, never a traceback, and a refused file leaves the database as it was."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haowu_cli.errors import HaowuError
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from tests.conftest import ON_LAKE

GOOD = (
    "商品ID,商家ID,商品名称,一级类目,直播价,佣金率\r\n"
    "P1,M1,面霜,美妆,59.9,20%\r\n"
    "P2,M1,口红,美妆,¥39,0.2\r\n"
    "P3,M2,辣条,食品,9.9元,15%\r\n"
)
NASTY = [
    b"\x00",
    b"\n",
    b"\r",
    b'"',
    b",",
    b"\t",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b'=HYPERLINK("http://x")',
    "＝１＋１".encode(),
    b"1.23457E+18",
    "面霜".encode("gbk"),
    "面霜".encode("utf-16"),
    b"x" * 200_000,
    b"," * 3000,
]


@st.composite
def sheets(draw) -> tuple[str, bytes]:
    """A CSV as Excel or a broken tool might write it, or something that only claims to be
    a sheet."""
    kind = draw(st.sampled_from(["mutated", "encoded", "random", "zip", "truncated"]))
    if kind == "random":
        return "x.csv", draw(st.binary(max_size=3000))
    if kind == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(draw(st.sampled_from(["a.txt", "xl/workbook.xml"])), draw(st.binary()))
        return "x.xlsx", buffer.getvalue()
    data = GOOD.encode("utf-8")
    if kind == "encoded":
        codec = draw(st.sampled_from(["gbk", "utf-16", "utf-8-sig", "utf-16-le", "latin-1"]))
        return "x.csv", GOOD.encode(codec, errors="replace")
    if kind == "truncated":
        return "x.csv", data[: draw(st.integers(0, len(data)))]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(NASTY)) + data[at:]
    return "x.csv", data


def snapshot(store) -> list:
    if not store.exists():
        return []
    with store.read() as con:
        return con.execute("SELECT * FROM products ORDER BY product_id").fetchall()


@settings(
    # On a lake every import and snapshot connects to PostgreSQL anew (about a second of a
    # busy machine's time each): fewer sheets there, the same invariant.
    max_examples=12 if ON_LAKE else 60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sheet=sheets())
def test_any_sheet_ends_in_a_report_or_a_clear_message(store, products_kind, tmp_path, sheet):
    name, data = sheet
    path = tmp_path / name
    path.write_bytes(data)
    before = snapshot(store)
    try:
        report = import_file(store, path, products_kind, ImportOptions(rejects_path=tmp_path))
    except HaowuError as exc:
        assert str(path) in exc.message  # the message names the file
        assert "\n" not in exc.message.splitlines()[0]
        assert snapshot(store) == before  # refused: nothing changed
        return
    after = snapshot(store)
    assert len(after) == len(before) + report.inserted
    assert (
        report.inserted + report.updated + report.unchanged + report.rejected
        <= max(report.rows_read, 0) + report.rejected
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("nul.csv", GOOD.encode().replace(b"P1", b"P\x001"), "contains NUL bytes"),
        ("zip.xlsx", b"PK\x03\x04" + bytes(40), "is not a readable Excel workbook"),
        ("huge.csv", GOOD.encode().replace("面霜".encode(), b"x" * 300_000), "cannot be read"),
        ("header.csv", GOOD.encode().split(b"\r\n")[0], None),
    ],
)
def test_broken_files_get_a_message_naming_them(
    store, products_kind, tmp_path, name, data, message
):
    path = tmp_path / name
    path.write_bytes(data)
    if message is None:  # a header and no rows: imported, nothing in it
        report = import_file(store, path, products_kind, ImportOptions())
        assert (report.rows_read, report.inserted) == (0, 0)
        return
    with pytest.raises(HaowuError, match=message) as caught:
        import_file(store, path, products_kind, ImportOptions())
    assert str(path) in caught.value.message
