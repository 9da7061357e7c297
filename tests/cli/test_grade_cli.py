"""`haowu grade` as cron and people run it: silence outside a terminal, the run log, JSON,
`grade explain`, `grade changes`, and errors with exit codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import HEADER, product_row, write_csv

EXTRA = ["近30天销量", "近30天GMV", "退货率", "上架日期"]


@pytest.fixture
def imported(cli, tmp_path):
    rows = [HEADER + EXTRA] + [
        product_row(f"P{i}", 商品名称=f"商品{i}")
        + [str(100 * i), str(5990 * i), f"{i}%", "2026-01-01"]
        for i in range(1, 7)
    ]
    assert cli("--db", "h.duckdb", "import", write_csv(tmp_path / "s.csv", rows)).code == 0
    return cli


def test_cron_run_prints_nothing_and_logs_one_line(imported, tmp_path):
    result = imported(
        "--db", "h.duckdb", "grade", "--as-of", "2026-11-22", "--log", tmp_path / "g.log"
    )
    assert (result.code, result.out, result.err) == (0, "", "")
    [line] = (tmp_path / "g.log").read_text(encoding="utf-8").splitlines()
    assert "INFO grade as of 2026-11-22: 6 products" in line


def test_json_summary(imported, tmp_path):
    result = imported(
        "--db",
        "h.duckdb",
        "grade",
        "--as-of",
        "2026-11-22",
        "--format",
        "json",
        "--log",
        tmp_path / "g.log",
    )
    summary = json.loads(result.out)
    assert summary["products"] == 6 and sum(summary["levels"].values()) == 6
    assert list(summary["levels"]) == ["L0", "L1", "L2", "L3", "L4", "L5"]
    assert summary["previous_as_of"] is None and summary["dry_run"] is False


def test_listing_and_export_carry_the_latest_grade(imported, tmp_path):
    imported("--db", "h.duckdb", "grade", "--as-of", "2026-11-22", "--log", tmp_path / "g.log")
    rows = json.loads(imported("--db", "h.duckdb", "products", "--format", "json").out)
    assert all(r["level"] in {"L0", "L1", "L2", "L3", "L4", "L5"} for r in rows)
    assert all(float(r["total_score"]) >= 0 for r in rows)
    header = imported("--db", "h.duckdb", "export", "products").out.splitlines()[0]
    assert header.endswith(",extra,level,total_score")


def test_explain_in_words_and_as_json(imported, tmp_path):
    imported("--db", "h.duckdb", "grade", "--as-of", "2026-11-22", "--log", tmp_path / "g.log")
    result = imported("--db", "h.duckdb", "grade", "explain", "P1")
    assert result.code == 0
    assert "level rule: L" in result.out and "to reach L" in result.out
    [advice] = [line for line in result.out.splitlines() if line.startswith("to reach L")]
    assert "has the most room" in advice
    rows = json.loads(
        imported("--db", "h.duckdb", "grade", "explain", "P1", "--format", "json").out
    )
    assert {r["dimension"] for r in rows} == {"brand", "price", "distribution", "service", "sales"}
    assert imported("--db", "h.duckdb", "grade", "explain", "NOPE").code == 1


def test_changes_between_dates(imported, tmp_path):
    log = tmp_path / "g.log"
    imported("--db", "h.duckdb", "grade", "--as-of", "2026-11-21", "--log", log)
    better = [
        HEADER + EXTRA,
        product_row("P1", 商品名称="商品1") + ["99999", "5990000", "1%", "2026-01-01"],
    ]
    imported("--db", "h.duckdb", "import", write_csv(tmp_path / "b.csv", better))
    imported("--db", "h.duckdb", "grade", "--as-of", "2026-11-22", "--log", log)
    out = imported("--db", "h.duckdb", "grade", "changes", "--format", "csv").out.splitlines()
    assert (
        out[0] == "product_id,merchant_id,title,previous_as_of,previous_level,as_of,level,direction"
    )
    assert any(line.startswith("P1,") and line.endswith(",up") for line in out[1:])
    assert (
        imported(
            "--db", "h.duckdb", "grade", "changes", "--since", "2026-11-23", "--format", "csv"
        ).out.count("\n")
        == 1
    )


def test_a_broken_model_is_refused_before_grading(imported, tmp_path):
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "grading.yaml").write_text("new_product_days: -1\nlevels: {}\n")
    result = imported(
        "--config", tmp_path / "cfg", "--db", "h.duckdb", "grade", "--log", tmp_path / "g.log"
    )
    assert result.code == 2
    assert "grading.yaml:1 new_product_days" in result.err and "dimensions" in result.err
    assert "ERROR" in (tmp_path / "g.log").read_text(encoding="utf-8")


def test_grading_an_empty_database_fails_clearly(cli, tmp_path):
    write = cli("--db", "h.duckdb", "import", write_csv(tmp_path / "s.csv", [HEADER]))
    assert write.code == 0
    result = cli("--db", "h.duckdb", "grade", "--log", tmp_path / "g.log")
    assert result.code == 1 and "nothing to grade" in result.err


def test_merchant_and_quiet_on_a_terminal_like_run(imported, tmp_path):
    result = imported(
        "--quiet",
        "--db",
        "h.duckdb",
        "grade",
        "--merchant",
        "M1",
        "--format",
        "json",
        "--log",
        tmp_path / "g.log",
    )
    assert result.code == 0 and result.err == ""
    summary = json.loads(result.out)  # asked for: printed even with --quiet
    assert summary["merchant_id"] == "M1" and summary["products"] == 6
    none = imported("--db", "h.duckdb", "grade", "--merchant", "M9", "--log", tmp_path / "g.log")
    assert none.code == 1 and "merchant M9 has no products" in none.err
