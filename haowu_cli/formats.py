"""Exact text forms of stored numbers, as Polars expressions: fen to yuan, rates to text.

Money is never turned into a float on its way out: fen are split into yuan and fen with
integer arithmetic, and DECIMAL rates are printed from their exact digits.
"""

from __future__ import annotations

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


def excel_safe(column: str) -> pl.Expr:
    """Neutralise a text cell Excel would run as a formula (leading `=`, `+`, `-`, `@`, tab,
    CR) by prefixing `'`, which Excel shows as text."""
    text = pl.col(column)
    risky = text.str.contains(r"^[=+\-@\t\r]")
    return pl.when(risky).then(pl.lit("'") + text).otherwise(text).alias(column)
