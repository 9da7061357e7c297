"""Reading values the way merchants type them, one whole column at a time.

A parser turns a column of raw text cells into two columns: the clean value (`name`) and,
per row, the reason the cell could not be read (`_err_name`, null when fine or empty). It is
a short list of *stages*; each stage is a few small Polars expressions over columns the
earlier stages made, so nothing is computed twice and every sheet column is parsed in
parallel (`run_parsers`). Nothing here loops over rows in Python.

Money becomes integer fen, rates integer parts per million (200000 = 20%), scores integer
hundredths: exact numbers, never floats.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from haowu_cli.i18n import _

Stage = list[pl.Expr]


@dataclass(frozen=True)
class Parser:
    """How to read one column into `name` and `_err_name`.

    `full` stages read any cell. Where `clean` holds, the cheaper `fast` stages give the
    same result: most cells of a real sheet are clean (`59.90`, `20%`, `2026-10-01`), so
    only the few others go through the full stages.
    """

    name: str
    full: list[Stage]
    clean: pl.Expr | None = None
    fast: list[Stage] | None = None


MISSING_TOKENS = [
    "",
    "-",
    "--",
    "—",
    "——",
    "－",
    "无",
    "暂无",
    "n/a",
    "N/A",
    "NA",
    "null",
    "NULL",
    "/",
]
TRUE_TOKENS = ["是", "有", "y", "yes", "true", "1", "√", "✓", "✔"]
FALSE_TOKENS = ["否", "无", "没有", "n", "no", "false", "0", "×", "✗", "✘"]

# The full-width forms that matter in numbers and dates, folded as Unicode NFKC would fold
# them; a direct replacement is three times cheaper than NFKC on every cell.
_FULL_WIDTH = {chr(0xFF10 + i): str(i) for i in range(10)} | {
    "％": "%",
    "．": ".",
    "，": ",",
    "￥": "¥",
    "－": "-",
    "＋": "+",
    "／": "/",
    "：": ":",
    "\u3000": " ",
    "\u00a0": " ",
}
_CURRENCY = r"[¥$元]|(?i:rmb|cny)|人民币"
_THOUSANDS = r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?[^0-9.,]*$"  # 1,299 and 1,299.50万
_SCIENTIFIC = r"(?i)^[+-]?[0-9]+(\.[0-9]+)?e[+-]?[0-9]+$"
_EXCEL_EPOCH_OFFSET = 25569  # Excel's serial day of 1970-01-01 (its day 0 is 1899-12-30)
_MAX_DIGITS = 18  # Int64 holds any 18-digit number


def error_column(name: str) -> str:
    return f"_err_{name}"


def _temp(name: str, part: str) -> str:
    return f"_t_{name}_{part}"


def is_temp(column: str) -> bool:
    return column.startswith("_t_")


def run_parsers(frame: pl.DataFrame, parsers: Sequence[Parser]) -> pl.DataFrame:
    """Run the parsers side by side and drop their working columns.

    Every column takes its fast stages (or its full ones where it has none) in one pass
    over the sheet; then the few cells that were not clean are read again by the full
    stages and put in place.
    """
    flags = {
        # A parser with fast stages always has the test of a clean cell they rely on.
        p.name: p.clean.alias(f"_clean_{p.name}")  # type: ignore[union-attr]
        for p in parsers
        if p.fast is not None
    }
    out = _run_stages(
        frame.with_columns(flags.values()),
        [p.fast if p.fast is not None else p.full for p in parsers],
    )
    for p in parsers:
        if p.name not in flags:
            continue
        messy = out.select(pl.arg_where(~pl.col(f"_clean_{p.name}"))).to_series()
        if messy.len() == 0:
            continue
        fixed = _run_stages(frame[messy], [p.full])
        out = out.with_columns(
            out[column].scatter(messy, fixed[column]) for column in (p.name, error_column(p.name))
        )
    return out.drop([f"_clean_{name}" for name in flags])


def _run_stages(frame: pl.DataFrame, plans: Sequence[list[Stage]]) -> pl.DataFrame:
    depth = max((len(p) for p in plans), default=0)
    for index in range(depth):
        frame = frame.with_columns(e for p in plans if index < len(p) for e in p[index])
    return frame.drop([c for c in frame.columns if is_temp(c)])


def tidy(raw: pl.Expr) -> pl.Expr:
    """Trim a cell: white space at either end (ASCII, no-break, ideographic) means nothing."""
    return raw.str.strip_chars()


def ascii_fold(raw: pl.Expr) -> pl.Expr:
    """Full-width digits, `％`, `￥`, `，` … as ASCII, trimmed: how numbers are read."""
    return tidy(raw.str.replace_many(list(_FULL_WIDTH), list(_FULL_WIDTH.values())))


INVISIBLE = r"[\p{Cf}\p{Cc}]"  # zero-width spaces, U+FEFF, tabs, other format and control


def id_text(raw: pl.Expr) -> pl.Expr:
    """An ID as stored: NFKC-folded (full-width `ＡＢ１` is `AB1`), without invisible or
    control characters (`P1\u200b` is `P1`), trimmed."""
    return tidy(raw.str.normalize("NFKC").str.replace_all(INVISIBLE, ""))


def _missing(cell: pl.Expr, tokens: Sequence[str] = MISSING_TOKENS) -> pl.Expr:
    return cell.is_null() | cell.is_in(list(tokens))


def _reason(condition: pl.Expr, reason: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(reason))


def first_error(*errors: pl.Expr) -> pl.Expr:
    """The first non-null reason among several checks."""
    return pl.coalesce([e.cast(pl.String) for e in errors])


# --- text and IDs ----------------------------------------------------------------------------


def _no_error(name: str) -> pl.Expr:
    return pl.lit(None, dtype=pl.String).alias(error_column(name))


def _clean_where(source: str, pattern: str) -> pl.Expr:
    """A cell is clean when it is empty or matches the fast path's strict pattern."""
    return pl.col(source).is_null() | pl.col(source).str.contains(pattern)


def text(source: str, name: str) -> Parser:
    cell = tidy(pl.col(source))
    value = pl.when(_missing(cell)).then(None).otherwise(cell)
    return Parser(name, [[value.alias(name), _no_error(name)]])


def text_list(source: str, name: str) -> Parser:
    """A list typed in one cell: `美妆、食品,日百` (commas, 、, slashes, semicolons)."""
    items = (
        tidy(pl.col(source))
        .str.replace_all(r"[、，,/;；|]", ",")
        .str.split(",")
        .list.eval(pl.element().str.strip_chars())
        .list.filter(pl.element() != "")
    )
    value = (
        pl.when(_missing(tidy(pl.col(source))) | (items.list.len() == 0))
        .then(None)
        .otherwise(items)
    )
    return Parser(name, [[value.alias(name), _no_error(name)]])


def identifier(source: str, name: str) -> Parser:
    """IDs stay text. An ID Excel turned into `1.23457E+18` has lost digits: reject it."""
    cell = _temp(name, "cell")
    scientific = pl.col(cell).str.contains(_SCIENTIFIC)
    full = [
        [id_text(pl.col(source)).alias(cell)],
        [
            pl.when(_missing(pl.col(cell)) | scientific)
            .then(None)
            .otherwise(pl.col(cell))
            .alias(name),
            _reason(
                scientific,
                _(
                    "Excel turned this ID into a number and lost its digits; "
                    "format the column as Text in Excel and export again"
                ),
            ).alias(error_column(name)),
        ],
    ]
    fast = [[pl.col(source).alias(name), _no_error(name)]]
    raw = pl.col(source)
    clean = (
        _clean_where(source, r"^[0-9A-Za-z_\-]{1,64}$")
        & ~raw.is_in(MISSING_TOKENS)
        & ~raw.str.contains(_SCIENTIFIC).fill_null(False)
    )
    return Parser(name, full, clean, fast)


# --- numbers ---------------------------------------------------------------------------------


def _number_stages(
    source: str,
    name: str,
    *,
    scale: int,
    what: str,
    units: dict[str, tuple[int, int]],
    bare_exponent: int,
    ambiguous_up_to: int | None = None,
    too_precise: str | None = None,
) -> list[Stage]:
    """Read any decimal as typed into an exact integer in units of 10^-scale.

    `units` maps a suffix to (power of ten, factor): `万` is (4, 1), `天` (0, 24), `%` for
    rates (4, 1). `bare_exponent` is the power of ten of a number with no unit. A number
    with no unit above 0 and up to `ambiguous_up_to` (in units of 10^-scale) is refused:
    in a rate column that mixes 0.2 and 20, 0.2 could mean 0.2% or 20%.
    `too_precise` is the reason given for digits beyond the scale. A comma is a thousands
    separator only where one belongs (`1,299`); `59,90` is refused, not read as 5990.
    """
    cell, bare, parts = _temp(name, "cell"), _temp(name, "bare"), _temp(name, "parts")
    sign, whole, fraction, unit = (_temp(name, p) for p in ("sign", "whole", "fraction", "unit"))
    shift, digits, commas = _temp(name, "shift"), _temp(name, "digits"), _temp(name, "commas")
    suffixes = "|".join(sorted(units, key=len, reverse=True))
    pattern = rf"(?i)^([+-]?)([0-9]*)(?:\.([0-9]*))?({suffixes})?$"
    exponent = pl.col(unit).replace_strict(
        {u: e for u, (e, _) in units.items()} | {"": bare_exponent},
        default=0,
        return_dtype=pl.Int64,
    )
    factor = pl.col(unit).replace_strict(
        {u: f for u, (_, f) in units.items()}, default=1, return_dtype=pl.Int64
    )
    ten = pl.lit(10, dtype=pl.Int64)
    # value = digits × factor × 10^shift, which must come out whole (1.5天 is 36 hours).
    scaled = pl.col(digits).cast(pl.Int64, strict=False) * factor * ten.pow(pl.col(shift).clip(0))
    divisor = ten.pow((-pl.col(shift)).clip(0, _MAX_DIGITS))
    missing = _missing(pl.col(cell))
    # A cell the pattern does not match has a null sign (an empty match when it does).
    well_formed = pl.col(sign).is_not_null() & pl.col(cell).str.contains(r"[0-9]")
    length = pl.col(digits).str.len_chars()
    too_fine = (pl.col(shift) < 0) & ((length > _MAX_DIGITS - 1) | (scaled % divisor != 0))
    too_large = ~too_fine & (length + pl.col(shift).clip(0) > _MAX_DIGITS - 1)
    magnitude = scaled // divisor
    unclear = pl.lit(False)
    if ambiguous_up_to is not None:
        unclear = (pl.col(unit) == "") & (magnitude > 0) & (magnitude <= ambiguous_up_to)
    error = first_error(
        _reason(
            ~missing & ~pl.col(commas),
            _(
                "not {what}: a comma that is not a thousands separator (write 59.90 or 1,299)"
            ).format(what=what),
        ),
        _reason(~missing & ~well_formed, _("not {what}").format(what=what)),
        _reason(
            ~missing & ~too_large & unclear,
            _(
                "ambiguous rate: this column's bare numbers are both fractions (0.2) and percents "
                "(20), and this one could be either; write it with a percent sign: 20%, or 0.2%"
            ),
        ),
        _reason(
            ~missing & too_fine,
            too_precise or _("too many decimal places for {what}").format(what=what),
        ),
        _reason(~missing & too_large, _("too large for {what}").format(what=what)),
    )
    return [
        [ascii_fold(pl.col(source)).alias(cell)],
        [pl.col(cell).str.replace_all(_CURRENCY, "").str.strip_chars().alias(bare)],
        [
            (~pl.col(bare).str.contains(",") | pl.col(bare).str.contains(_THOUSANDS)).alias(commas),
            pl.col(bare).str.replace_all(",", "").str.extract_groups(pattern).alias(parts),
        ],
        [
            pl.col(parts).struct.field("1").alias(sign),
            pl.col(parts).struct.field("2").fill_null("").str.strip_chars_start("0").alias(whole),
            pl.col(parts).struct.field("3").fill_null("").str.strip_chars_end("0").alias(fraction),
            pl.col(parts).struct.field("4").fill_null("").str.to_lowercase().alias(unit),
        ],
        [
            (exponent + scale - pl.col(fraction).str.len_chars().cast(pl.Int64)).alias(shift),
            (pl.col(whole) + pl.col(fraction)).str.replace(r"^$", "0").alias(digits),
        ],
        [error.alias(error_column(name))],
        [
            pl.when(missing | pl.col(error_column(name)).is_not_null())
            .then(None)
            .otherwise(pl.when(pl.col(sign) == "-").then(-magnitude).otherwise(magnitude))
            .alias(name)
        ],
    ]


def _fast_decimal(source: str, name: str, decimals: int, exponent: int, suffix: str = "") -> Stage:
    """For a cell known to be plain digits with at most `decimals` decimals (and `suffix`):
    the same exact integer as the full path, from Polars' exact decimal cast."""
    digits = pl.col(source).str.strip_suffix(suffix) if suffix else pl.col(source)
    # Run on every row; cells that are not clean come out null and are read again.
    if decimals == 0:
        value = digits.cast(pl.Int64, strict=False) * 10**exponent
    else:
        exact = digits.cast(pl.Decimal(18, decimals), strict=False)
        value = (exact * 10**exponent).cast(pl.Int64, strict=False)
    return [value.alias(name), _no_error(name)]


_BIG_UNITS = {"万": (4, 1), "w": (4, 1), "亿": (8, 1)}


def money(source: str, name: str) -> Parser:
    """Yuan as typed (`¥59.9`, `￥59.90`, `59.90元`, `1,299`, `1.2万`) to integer fen."""
    what = _("an amount in yuan (at most 2 decimals)")
    full = _number_stages(source, name, scale=2, what=what, units=_BIG_UNITS, bare_exponent=0)
    # An empty cell (`-`) is clean too: both paths read it as none, without a reason.
    clean = _clean_where(source, r"^[0-9]{1,13}(\.[0-9]{1,2})?$") | _missing(pl.col(source))
    return Parser(name, full, clean, [_fast_decimal(source, name, 2, 2)])


def count(source: str, name: str) -> Parser:
    """Whole numbers as typed (`1,299`, `1.2万`, `１２３`)."""
    full = _number_stages(
        source,
        name,
        scale=0,
        what=_("a whole number"),
        units=_BIG_UNITS,
        bare_exponent=0,
        too_precise=_("not a whole number"),
    )
    return Parser(
        name, full, _clean_where(source, r"^[0-9]{1,15}$"), [_fast_decimal(source, name, 0, 0)]
    )


def hours(source: str, name: str) -> Parser:
    """Hours as typed: `48`, `48小时`, `48h`, or days `2天`."""
    units = {"小时": (0, 1), "hours": (0, 1), "hrs": (0, 1), "h": (0, 1), "天": (0, 24)}
    what = _("a whole number of hours (48, 48小时, 2天)")
    full = _number_stages(
        source,
        name,
        scale=0,
        what=what,
        units=units,
        bare_exponent=0,
        too_precise=_("not {what}").format(what=what),
    )
    return Parser(
        name, full, _clean_where(source, r"^[0-9]{1,4}$"), [_fast_decimal(source, name, 0, 0)]
    )


def score(source: str, name: str) -> Parser:
    """A score with up to two decimals (`4.85`) in hundredths."""
    what = _("a score (at most 2 decimals)")
    full = _number_stages(source, name, scale=2, what=what, units={}, bare_exponent=0)
    clean = _clean_where(source, r"^[0-9]{1,3}(\.[0-9]{1,2})?$")
    return Parser(name, full, clean, [_fast_decimal(source, name, 2, 2)])


def rate_style(frame: pl.DataFrame, source: str) -> str:
    """How a rate column's bare numbers (no `%`) read: 'fraction' (0.2) or 'percent' (20).

    Bare numbers between 0 and 1 make a column of fractions, numbers above 1 a column of
    percents. A column with both, or whose only non-zero bare number is 1 (100%? 1%?), is
    'ambiguous': its bare numbers above 1 are percents all the same (as fractions they would
    be above 100%), those from 0 to 1 (0 excepted) are refused rather than guessed. Cells
    with `%` say what they are and never depend on the column.
    """
    bare_cells = frame.select(pl.col(source)).filter(~pl.col(source).str.ends_with("%"))
    if bare_cells.height == 0:
        return "fraction"  # every rate carries its `%`: the style does not matter
    cell = ascii_fold(pl.col(source))
    bare = pl.when(~cell.str.ends_with("%")).then(
        cell.str.replace_all(_CURRENCY, "").str.strip_chars().cast(pl.Float64, strict=False)
    )
    # Floats only classify the column here; its values are read exactly by `rate`.
    has_fraction, has_percent, has_one = bare_cells.select(
        ((bare > 0) & (bare < 1)).any().alias("fraction"),
        (bare > 1).any().alias("percent"),
        (bare == 1).any().alias("one"),
    ).row(0)
    if (has_fraction and has_percent) or (has_one and not has_fraction and not has_percent):
        return "ambiguous"
    return "percent" if has_percent else "fraction"


def rate(source: str, name: str, style: str = "fraction") -> Parser:
    """A rate as typed (`20%`, `0.2`, or `20` in a column of percents) in parts per million.

    The column decides how its bare numbers read (`rate_style`): in a column with both 0.2
    and 20, 20 is 20% and 0.2 is reported, never guessed.
    """
    percent, fraction = 4, 6  # 20% is 20 × 10^4 parts per million; 0.2 is 0.2 × 10^6
    full = _number_stages(
        source,
        name,
        scale=0,
        what=_("a rate (write 0.2 or 20%)"),
        units={"%": (percent, 1)},
        bare_exponent=fraction if style == "fraction" else percent,
        ambiguous_up_to=10**percent if style == "ambiguous" else None,  # 1, as a percent
    )
    clean = _clean_where(source, r"^[0-9]{1,3}(\.[0-9]{1,4})?%$")
    return Parser(name, full, clean, [_fast_decimal(source, name, 4, percent, suffix="%")])


# --- yes/no and dates ------------------------------------------------------------------------


def boolean(source: str, name: str) -> Parser:
    """`是/否`, `有/无`, `Y/N`, `true/false`, `1/0`, `√/×`."""
    cell = _temp(name, "cell")
    missing = _missing(pl.col(cell), [t.lower() for t in MISSING_TOKENS if t not in FALSE_TOKENS])
    value = (
        pl.when(pl.col(cell).is_in(TRUE_TOKENS))
        .then(True)
        .when(pl.col(cell).is_in(FALSE_TOKENS))
        .then(False)
    )
    return Parser(
        name,
        [
            [ascii_fold(pl.col(source)).str.to_lowercase().alias(cell)],
            [
                value.alias(name),
                _reason(~missing & value.is_null(), _("not yes/no (是/否, 有/无)")).alias(
                    error_column(name)
                ),
            ],
        ],
    )


# Order states as the platform's exports write them (订单状态), and their English forms.
ORDER_STATUSES = {
    "paid": ["已付款", "已支付", "待发货", "paid"],
    "shipped": ["已发货", "待收货", "shipped"],
    "received": ["已收货", "交易成功", "已完成", "received", "completed"],
    "settled": ["已结算", "settled"],
    "invalid": [
        "已失效",
        "已退款",
        "已取消",
        "已关闭",
        "退款成功",
        "invalid",
        "refunded",
        "cancelled",
    ],
}


def order_status(source: str, name: str) -> Parser:
    """`已付款` paid, `已发货` shipped, `已收货` received, `已结算` settled, `已失效` invalid
    (refunded or cancelled), in Chinese or English."""
    cell = _temp(name, "cell")
    words = {word.lower(): status for status, forms in ORDER_STATUSES.items() for word in forms}
    value = pl.col(cell).replace_strict(words, default=None, return_dtype=pl.String)
    return Parser(
        name,
        [
            [ascii_fold(pl.col(source)).str.to_lowercase().alias(cell)],
            [
                value.alias(name),
                _reason(
                    ~_missing(pl.col(cell)) & value.is_null(),
                    _("not an order status (已付款, 已发货, 已收货, 已结算, 已失效)"),
                ).alias(error_column(name)),
            ],
        ],
    )


def date(source: str, name: str) -> Parser:
    """`2026-10-01`, `2026/10/1`, `2026年10月1日`, `20261001`, a time after the date, or an
    Excel serial day number (`45931`)."""
    cell, day = _temp(name, "cell"), _temp(name, "day")
    serial = pl.col(cell).str.contains(r"^[0-9]{1,5}(\.[0-9]+)?$")
    from_serial = (
        pl.col(cell).str.replace(r"\..*$", "").cast(pl.Int32, strict=False) - _EXCEL_EPOCH_OFFSET
    ).cast(pl.Date)
    day_text = (
        pl.col(cell)
        .str.replace(r"[ T].*$", "")
        .str.replace_all(r"[年月/.]", "-")
        .str.replace(r"日$", "")
        .str.replace(r"^([0-9]{4})([0-9]{2})([0-9]{2})$", "$1-$2-$3")
    )
    value = (
        pl.when(serial)
        .then(from_serial)
        .otherwise(pl.col(day).str.to_date("%Y-%m-%d", strict=False))
    )
    full = [
        [ascii_fold(pl.col(source)).alias(cell)],
        [day_text.alias(day), _missing(pl.col(cell)).alias(_temp(name, "missing"))],
        [pl.when(pl.col(_temp(name, "missing"))).then(None).otherwise(value).alias(name)],
        *_date_checks(name, ~pl.col(_temp(name, "missing"))),
    ]
    fast = [
        [pl.col(source).str.to_date("%Y-%m-%d", strict=False).alias(name)],
        *_date_checks(name, pl.col(source).is_not_null()),
    ]
    return Parser(name, full, _clean_where(source, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), fast)


def _date_checks(name: str, present: pl.Expr) -> list[Stage]:
    """A date that cannot be read, or with a year of other than four digits, is not a real
    date; how early or late a date may be is the import's rule (`configs/imports.yaml`)."""
    value = pl.col(name)
    bad = present & (value.is_null() | ~value.dt.year().is_between(1000, 9999))
    return [
        [_reason(bad, _("not a real date (write 2026-10-01)")).alias(error_column(name))],
        [pl.when(pl.col(error_column(name)).is_null()).then(value).alias(name)],
    ]


def timestamp(source: str, name: str) -> Parser:
    """A date with its time of day, as the platform's exports write it (Beijing time, kept
    as the wall-clock time): `2025-03-08 20:15:42`, `2025/03/08 20:15`, or a date alone
    (`2025/03/08`, midnight)."""
    cell = _temp(name, "cell")
    text = pl.col(cell).str.replace_all("/", "-").str.replace("T", " ")
    value = pl.coalesce(
        text.str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us"),
        text.str.to_datetime("%Y-%m-%d %H:%M", strict=False, time_unit="us"),
        text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
    )
    missing = _missing(pl.col(cell))
    full = [
        [ascii_fold(pl.col(source)).alias(cell)],
        [
            pl.when(missing).then(None).otherwise(value).alias(name),
            missing.alias(_temp(name, "missing")),
        ],
        [
            _reason(
                ~pl.col(_temp(name, "missing"))
                & (pl.col(name).is_null() | ~pl.col(name).dt.year().is_between(1000, 9999)),
                "not a real date and time (write 2026-10-01 20:15:42)",
            ).alias(error_column(name))
        ],
    ]
    fast = [
        [
            pl.col(source)
            .str.replace_all("/", "-")
            .str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False, time_unit="us")
            .alias(name),
            _no_error(name),
        ]
    ]
    # `2025-03-08 20:15:42` or `2025/03/08 20:15:42` (the 结算明细 writes slashes); an empty
    # cell (`-`) too: both paths read it as none, without a reason.
    clean = _clean_where(
        source, r"^[0-9]{4}[-/][0-9]{2}[-/][0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}$"
    ) | _missing(pl.col(source))
    return Parser(name, full, clean, fast)
