"""Three category levels and the 加入快分销 date: read from sheets (their own columns and
`A>B>C` category paths) and from the platform's activity JSON."""

from __future__ import annotations

import datetime as dt

import polars as pl

from haowu_cli.ingest.categories import split_category_paths
from haowu_cli.ingest.pipeline import ImportOptions, import_file
from tests.conftest import HEADER, product_row, write_csv


def stored(store) -> dict[str, tuple]:
    with store.read() as con:
        rows = con.execute(
            "SELECT product_id, category_l1, category_l2, category_l3, joined_at FROM products"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_a_path_fills_three_levels_and_own_columns_win():
    rows = pl.DataFrame(
        {
            "category_l1": [
                "美妆护肤>面部护理>洁面",
                "食品 ＞ 零食",
                "日百",
                "A>B>C>D",
                ">B>C",
                None,
            ],
            "category_l2": [None, "坚果", None, None, None, None],
        }
    )
    got = split_category_paths(rows).rows()
    assert got == [
        ("美妆护肤", "面部护理", "洁面"),
        ("食品", "坚果", None),  # the sheet's own 二级类目 wins; full-width ＞ separates
        ("日百", None, None),
        ("A", "B", "C>D"),  # nothing lost beyond the third level
        (None, "B", "C"),  # no first level: the import refuses the row (required)
        (None, None, None),
    ]


def test_slashes_and_dashes_are_parts_of_names_not_separators():
    rows = pl.DataFrame({"category_l1": ["服饰内衣", "T恤/POLO衫", "T-shirt"]})
    assert split_category_paths(rows).equals(rows)  # no path: nothing added


def test_sheets_give_the_third_level_and_the_join_date(store, products_kind, tmp_path):
    header = [*HEADER, "二级类目", "三级类目", "加入快分销时间"]
    sheet = write_csv(
        tmp_path / "p.csv",
        [
            header,
            [*product_row("P1"), "面部护理", "洁面", "2026-11-20 10:30:00"],
            [*product_row("P2"), "彩妆", "", ""],
        ],
    )
    report = import_file(store, sheet, products_kind, ImportOptions())
    assert (report.inserted, report.rejected) == (2, 0)
    assert stored(store) == {
        "P1": ("美妆", "面部护理", "洁面", dt.date(2026, 11, 20)),
        "P2": ("美妆", "彩妆", None, None),
    }


def test_a_category_path_column_is_split_and_a_bad_path_refused(store, products_kind, tmp_path):
    sheet = write_csv(
        tmp_path / "p.csv",
        [
            HEADER,
            product_row("P1", 一级类目="美妆护肤>面部护理>洁面"),
            product_row("P2", 一级类目=">面部护理"),
        ],
    )
    report = import_file(store, sheet, products_kind, ImportOptions())
    assert (report.inserted, report.rejected) == (1, 1)
    assert stored(store) == {"P1": ("美妆护肤", "面部护理", "洁面", None)}
    refused = report.rejections.row(0, named=True)
    assert (refused["column"], refused["value"]) == ("一级类目", ">面部护理")
    assert refused["reason"] == "required value is missing"
