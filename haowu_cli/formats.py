"""Exact text forms of stored numbers, as Polars expressions: fen to yuan, rates to text.

Money is never turned into a float on its way out: fen are split into yuan and fen with
integer arithmetic, and DECIMAL rates are printed from their exact digits.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl


def yuan(fen: pl.Expr) -> pl.Expr:
    """Integer fen as yuan with two decimals: 5990 -> "59.90", -5 -> "-0.05"."""
    magnitude = fen.abs()
    text = pl.concat_str(
        [
            (magnitude // 100).cast(pl.String),
            pl.lit("."),
            (magnitude % 100).cast(pl.String).str.zfill(2),
        ]
    )
    return pl.when(fen < 0).then(pl.lit("-") + text).otherwise(text)


def fen_text(fen: int, *, grouped: bool = False) -> str:
    """Integer fen as yuan text, outside a frame: 123456 -> "1234.56" ("1,234.56" grouped),
    -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole = f"{abs(fen) // 100:,}" if grouped else str(abs(fen) // 100)
    return f"{sign}{whole}.{abs(fen) % 100:02d}"


def percent_ppm(ppm: pl.Expr) -> pl.Expr:
    """Whole millionths as a percentage: 150000 -> "15%", 125000 -> "12.5%"."""
    text = (ppm.cast(pl.Decimal(18, 6)) / 10_000).cast(pl.Decimal(18, 4)).cast(pl.String)
    return text.str.strip_chars_end("0").str.strip_chars_end(".") + pl.lit("%")


def decimal_text(value: pl.Expr) -> pl.Expr:
    """A DECIMAL without trailing zeros: 0.200000 -> "0.2", 5.00 -> "5"."""
    text = value.cast(pl.String)
    return text.str.strip_chars_end("0").str.strip_chars_end(".")


def percent(rate: pl.Expr) -> pl.Expr:
    """A DECIMAL fraction as a percentage for people: 0.205 -> "20.5%"."""
    scaled = (rate * 100).cast(pl.Decimal(12, 4))
    return decimal_text(scaled) + pl.lit("%")


def excel_safe(column: str, *, numbers: bool = False) -> pl.Expr:
    """Neutralise a text cell Excel would run as a formula (leading `=`, `+`, `-`, `@`, tab,
    CR) by prefixing `'`, which Excel shows as text. `numbers`: the column holds numbers
    haowu wrote (money, rates): a plain number such as `-12.50` is data and stays as it is;
    anything else in it that starts like a formula is neutralised all the same."""
    text = pl.col(column)
    risky = text.str.contains(r"^[=+\-@\t\r]")
    if numbers:
        risky = risky & ~text.str.contains(r"^-[0-9]+(\.[0-9]+)?$")
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text).alias(column)


def ratio(numerator: pl.Expr, denominator: pl.Expr, places: int = 4) -> pl.Expr:
    """Whole numbers' quotient as decimal text, rounded half up (away from zero) to `places`
    with integer arithmetic: 3, 4 -> "0.75"; 2, 3 -> "0.6667"; -1, 8 -> "-0.125". Null when
    the denominator is 0 or null."""
    scale = 10**places
    # In 128 bits, so that the scaled quotient of large sums cannot wrap around.
    num, den = numerator.cast(pl.Int128), denominator.cast(pl.Int128)
    scaled = (num.abs() * scale * 2 + den) // (den * 2)
    text = pl.concat_str(
        [
            (scaled // scale).cast(pl.String),
            pl.lit("."),
            (scaled % scale).cast(pl.String).str.zfill(places),
        ]
    )
    text = text.str.strip_chars_end("0").str.strip_chars_end(".")
    signed = pl.when((num < 0) & (scaled > 0)).then(pl.lit("-") + text).otherwise(text)
    return pl.when(den > 0).then(signed)


def share(numerator: pl.Expr, denominator: pl.Expr, places: int = 1) -> pl.Expr:
    """Whole numbers' quotient as a percentage for people: 1, 3 -> "33.3%"; 1, 2 -> "50%"."""
    return ratio(numerator.cast(pl.Int128) * 100, denominator, places) + pl.lit("%")


def money(fen: int) -> str:
    """Money for people, exact and grouped, as every table, message and file for people
    writes it: 129990 -> "¥1,299.90", -5 -> "-¥0.05". Headlines and charts, where a large sum
    is read at a glance, use `fen_label` (万); machines get `yuan` / `fen_text`."""
    return f"{'-' if fen < 0 else ''}¥{fen_text(abs(fen), grouped=True)}"


def fen_label(fen: int) -> str:
    """Money for a chart or a headline: exact below ¥10,000 ("¥6,692.40"), in 万 with two
    decimals from there, as Chinese sellers read amounts ("¥23.69万", "¥50万")."""
    if abs(fen) < 1_000_000:
        return f"¥{fen_text(fen, grouped=True)}"
    hundredths = (abs(fen) * 2 + 10_000) // 20_000  # hundredths of 万, rounded half up
    text = f"{hundredths // 100:,}.{hundredths % 100:02d}".rstrip("0").removesuffix(".")
    return f"{'-' if fen < 0 else ''}¥{text}万"


def yuan_label(fen: pl.Expr) -> pl.Expr:
    """Integer fen as money for people, grouped (`money`): 123456 -> "¥1,234.56"; null stays
    null."""
    return fen.map_elements(lambda v: money(int(v)), return_dtype=pl.String)


def ratio_of(numerator: int, denominator: int, places: int = 4) -> str | None:
    """`ratio` of two whole numbers outside a frame (the same rounding)."""
    return pl.select(ratio(pl.lit(numerator), pl.lit(denominator), places)).item()


def share_of(numerator: int, denominator: int, places: int = 1) -> str:
    """`share` of two whole numbers outside a frame; "—" when the denominator is 0."""
    return pl.select(share(pl.lit(numerator), pl.lit(denominator), places)).item() or "—"


# Every date and time haowu writes for machines (JSON, CSV): ISO 8601 to the second, without
# an offset, in the local time of the machine that recorded it (README, Output for machines).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"


def timestamp(value: pl.Expr) -> pl.Expr:
    """A stored TIMESTAMP as machine text: "2026-12-02T13:11:21"."""
    return value.dt.strftime(TIMESTAMP_FORMAT)


def timestamp_text(value: datetime | None) -> str | None:
    """A datetime outside a frame as machine text (`TIMESTAMP_FORMAT`); None stays None."""
    return None if value is None else value.strftime(TIMESTAMP_FORMAT)
