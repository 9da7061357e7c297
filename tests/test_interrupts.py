"""Ctrl-C is recognised however it reaches haowu: as Python raises it, as DuckDB reports the
query it stopped, and behind an error raised while it was being handled (a ROLLBACK that
failed because the query was stopped): an import then stops every file, it does not count
the file as failed and go on to the next."""

from __future__ import annotations

import duckdb
import pytest

from haowu_cli.errors import HaowuError, is_interrupt


def raised_while_handling(first: BaseException, second: Exception) -> Exception:
    try:
        try:
            raise first
        except BaseException:
            raise second  # noqa: B904 (its context is the point)
    except Exception as exc:
        return exc


def test_ctrl_c_as_python_and_duckdb_raise_it():
    assert is_interrupt(KeyboardInterrupt())
    assert is_interrupt(duckdb.InterruptException("INTERRUPT Error: Interrupted!"))
    assert is_interrupt(RuntimeError("Query interrupted"))


def test_ctrl_c_behind_an_error_raised_while_handling_it():
    rollback = duckdb.TransactionException("cannot rollback - no transaction is active")
    assert is_interrupt(raised_while_handling(KeyboardInterrupt(), rollback))
    explained = HaowuError("could not write the database")
    explained.__cause__ = duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    assert is_interrupt(explained)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad cell"),
        HaowuError("row 2: not a date"),
        duckdb.ConversionException("Could not convert string 'x' to INT32"),
    ],
)
def test_other_errors_are_not_ctrl_c(error):
    assert not is_interrupt(error)
    assert not is_interrupt(raised_while_handling(ValueError("first"), error))
