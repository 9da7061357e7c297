"""Cell values as merchants type them: each form, each rejection, fast path = full path."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haowu_cli.ingest import values


def parse(parser_factory, cells, **kw) -> list[tuple]:
    """(value, error) per cell, through `run_parsers` as the pipeline runs them."""
    frame = pl.DataFrame(
        {"_row": range(len(cells)), "raw": cells}, schema={"_row": pl.Int64, "raw": pl.String}
    )
    out = values.run_parsers(frame, [parser_factory("raw", "v", **kw)]).sort("_row")
    return list(zip(out["v"].to_list(), out["_err_v"].to_list(), strict=True))


def full_path(parser_factory, cells, **kw) -> list[tuple]:
    """The same cells read by the full stages only (no fast path)."""
    parser = parser_factory("raw", "v", **kw)
    frame = pl.DataFrame({"raw": cells}, schema={"raw": pl.String})
    out = values._run_stages(frame, [parser.full])
    return list(zip(out["v"].to_list(), out["_err_v"].to_list(), strict=True))


@pytest.mark.parametrize(
    ("cell", "fen"),
    [
        ("59.9", 5990),
        ("¥59.9", 5990),
        ("￥59.90", 5990),
        ("59.90元", 5990),
        ("1,299", 129900),
        ("1.2万", 1200000),
        ("1.2万元", 1200000),
        ("３９．９", 3990),
        ("  12  ", 1200),
        ("0.10", 10),
        ("0", 0),
        ("RMB 8", 800),
    ],
)
def test_money_forms_become_exact_fen(cell, fen):
    assert parse(values.money, [cell]) == [(fen, None)]


@pytest.mark.parametrize("cell", [None, "", "—", "-", "无", "N/A"])
def test_missing_money_is_null_without_error(cell):
    assert parse(values.money, [cell]) == [(None, None)]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("abc", "not an amount"),
        ("59.999", "too many decimal places"),
        ("1.2.3", "not an amount"),
        ("99999999999999999999", "too large"),
    ],
)
def test_bad_money_is_reported_not_guessed(cell, reason):
    [(value, error)] = parse(values.money, [cell])
    assert value is None
    assert reason in error


@pytest.mark.parametrize(
    ("cells", "ppm"),
    [
        (["20%", "15.5%"], [200_000, 155_000]),
        (["0.2", "0.155"], [200_000, 155_000]),
        (["20", "15.5"], [200_000, 155_000]),  # a column of bare percents
        (["２０％"], [200_000]),
        (["0.2", "20%"], [200_000, 200_000]),  # % cells never depend on the column
    ],
)
def test_rates_read_consistently_per_column(cells, ppm):
    frame = pl.DataFrame({"raw": cells})
    style = values.rate_style(frame, "raw")
    assert [v for v, _ in parse(values.rate, cells, style=style)] == ppm


def test_a_column_mixing_fractions_and_percents_refuses_only_the_ambiguous_cells():
    # Above 1 a bare number can only be a percent (as a fraction it would be over 100%); from
    # 0 to 1 it could be either (0.2: 0.2% or 20%?). `%` cells say what they are; 0 is 0.
    cells = ["0.2", "20", "15%", "30", "25", "1", "1.5", "0", "0.5%"]
    style = values.rate_style(pl.DataFrame({"raw": cells}), "raw")
    assert style == "ambiguous"
    result = parse(values.rate, cells, style=style)
    assert result[0][0] is None and "ambiguous rate" in result[0][1]
    assert result[5][0] is None and "ambiguous rate" in result[5][1]
    assert [result[i] for i in (1, 2, 3, 4, 6, 7, 8)] == [
        (200_000, None),
        (150_000, None),
        (300_000, None),
        (250_000, None),
        (15_000, None),
        (0, None),
        (5_000, None),
    ]


def test_rate_with_too_many_decimals_is_refused():
    [(value, error)] = parse(values.rate, ["12.34567%"])
    assert value is None and "decimal places" in error


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("2026-10-01", dt.date(2026, 10, 1)),
        ("2026/10/1", dt.date(2026, 10, 1)),
        ("2026年10月1日", dt.date(2026, 10, 1)),
        ("20261001", dt.date(2026, 10, 1)),
        ("2026-10-01 12:30:00", dt.date(2026, 10, 1)),
        ("46296", dt.date(2026, 10, 1)),  # Excel serial day
        ("2026.10.1", dt.date(2026, 10, 1)),
    ],
)
def test_date_forms(cell, day):
    assert parse(values.date, [cell]) == [(day, None)]


# 1900-01-01 is a real date: the import refuses it as too far in the past (configs/imports.yaml).
@pytest.mark.parametrize("cell", ["2026-02-30", "2026-13-01", "soon", "0000-01-01"])
def test_unreal_dates_are_rejected(cell):
    [(value, error)] = parse(values.date, [cell])
    assert value is None and "not a real date" in error


@pytest.mark.parametrize(
    ("cell", "flag"),
    [
        ("是", True),
        ("否", False),
        ("有", True),
        ("无", False),
        ("Y", True),
        ("no", False),
        ("1", True),
        ("√", True),
        ("×", False),
        ("", None),
        ("—", None),
    ],
)
def test_yes_no_forms(cell, flag):
    assert parse(values.boolean, [cell]) == [(flag, None)]


def test_unknown_yes_no_is_rejected():
    [(value, error)] = parse(values.boolean, ["maybe"])
    assert value is None and "yes/no" in error


@pytest.mark.parametrize(
    ("cell", "number"),
    [("1,299", 1299), ("1.2万", 12000), ("１２３", 123), ("0", 0), ("-5", -5)],
)
def test_counts(cell, number):
    assert parse(values.count, [cell]) == [(number, None)]


def test_fractional_count_is_rejected():
    [(value, error)] = parse(values.count, ["1.5"])
    assert value is None and "whole number" in error


@pytest.mark.parametrize(("cell", "hours"), [("48", 48), ("48小时", 48), ("24h", 24), ("2天", 48)])
def test_hours(cell, hours):
    assert parse(values.hours, [cell]) == [(hours, None)]


def test_ids_stay_text_and_scientific_ids_are_rejected():
    result = parse(values.identifier, ["000123", " 42 ", "1.23457E+18", "ＡＢ１"])
    assert result[0] == ("000123", None)
    assert result[1] == ("42", None)
    assert result[2][0] is None and "lost its digits" in result[2][1]
    assert result[3] == ("AB1", None)


def test_text_is_trimmed_and_missing_tokens_are_null():
    assert parse(values.text, ["  面霜 ", "—", None]) == [
        ("面霜", None),
        (None, None),
        (None, None),
    ]


decimal_cells = st.one_of(
    st.from_regex(r"\A[0-9]{1,6}(\.[0-9]{0,3})?\Z", fullmatch=True),
    st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,5})?%\Z", fullmatch=True),
    st.sampled_from(["", "—", "¥5", "1.2万", "abc", "5.", ".5", "007"]),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(decimal_cells, min_size=1, max_size=20))
def test_fast_path_gives_the_same_result_as_the_full_path(cells):
    for factory in (values.money, values.count, values.score, values.hours):
        assert parse(factory, cells) == full_path(factory, cells)
    assert parse(values.rate, cells, style="fraction") == full_path(
        values.rate, cells, style="fraction"
    )


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**12))
def test_money_round_trips_exactly(fen):
    text = f"{fen // 100}.{fen % 100:02d}"
    assert parse(values.money, [text]) == [(fen, None)]


@pytest.mark.parametrize("cell", ["59,90", "1,29", "59 90", "1,2345"])
def test_a_comma_or_space_inside_a_number_is_refused_not_glued(cell):
    [(value, error)] = parse(values.money, [cell])
    assert value is None and error.startswith("not an amount")


@pytest.mark.parametrize(
    ("cell", "fen"), [("¥ 59.9", 5990), ("1,299.50", 129950), ("12,345,678", 1234567800)]
)
def test_thousands_separators_and_spaced_currency_are_fine(cell, fen):
    assert parse(values.money, [cell]) == [(fen, None)]


def test_a_decimal_comma_rate_is_refused():
    [(value, error)] = parse(values.rate, ["0,2"], style="fraction")
    assert value is None and "comma" in error


@pytest.mark.parametrize(
    ("cells", "style"),
    [
        (["1", "0"], "ambiguous"),
        (["1", "0.5"], "fraction"),
        (["1", "20"], "percent"),
        (["0", "0"], "fraction"),
    ],
)
def test_a_rate_column_of_ones_and_zeros_is_not_guessed(cells, style):
    assert values.rate_style(pl.DataFrame({"raw": cells}), "raw") == style


@pytest.mark.parametrize("cell", ["-", "NA", "null", "N/A", "—"])
def test_missing_tokens_are_never_ids(cell):
    assert parse(values.identifier, [cell]) == [(None, None)]


def test_na_is_missing_for_yes_no_too():
    assert parse(values.boolean, ["NA", "n/a"]) == [(None, None), (None, None)]


@pytest.mark.parametrize(("cell", "hours"), [("1.5天", 36), ("0.5天", 12), ("1.25天", 30)])
def test_fractional_days_that_make_whole_hours(cell, hours):
    assert parse(values.hours, [cell]) == [(hours, None)]


id_cells = st.one_of(
    st.from_regex(r"\A[0-9A-Za-z_\-]{1,10}\Z", fullmatch=True),
    st.sampled_from(["-", "NA", "null", " x ", "ＡＢ１", "1.2E+18", ""]),
)
date_cells = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z", fullmatch=True),
    st.sampled_from(["2026/1/2", "46000", "", "x"]),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(id_cells, min_size=1, max_size=10), st.lists(date_cells, min_size=1, max_size=10))
def test_fast_path_equals_full_path_for_ids_dates_and_percent_columns(ids, dates):
    assert parse(values.identifier, ids) == full_path(values.identifier, ids)
    assert parse(values.date, dates) == full_path(values.date, dates)


@settings(max_examples=100, deadline=None)
@given(st.lists(decimal_cells, min_size=1, max_size=10))
def test_fast_path_equals_full_path_for_percent_columns(cells):
    assert parse(values.rate, cells, style="percent") == full_path(
        values.rate, cells, style="percent"
    )
