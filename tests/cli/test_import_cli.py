"""`haowu import` as a user runs it: exit codes, messages on stderr, data on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import HEADER, product_row, write_csv

REPO = Path(__file__).resolve().parents[2]


def test_clean_import_exits_0_and_summarises_on_stderr(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2")], "gbk")
    result = cli("--db", "h.duckdb", "import", sheet)
    assert result.code == 0
    assert result.out == ""
    assert "s.csv (gb18030): 2 rows: 2 new, 0 updated, 0 unchanged, 0 rejected" in result.err


def test_rejected_rows_exit_3_and_show_where(cli, tmp_path):
    sheet = write_csv(
        tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", price="abc")]
    )
    result = cli("--db", "h.duckdb", "import", sheet)
    assert result.code == 3
    assert "1 rows rejected; all of them in" in result.err
    assert "row 3, 直播价 'abc': not an amount in yuan" in result.err
    assert (tmp_path / "s.rejects.csv").exists()


def test_reimport_says_nothing_changed(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    cli("--db", "h.duckdb", "import", sheet)
    result = cli("--db", "h.duckdb", "import", sheet)
    assert result.code == 0 and "no changes" in result.err


def test_a_failed_file_exits_1_with_a_hint_and_no_traceback(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [["名称", "价格"], ["a", "1"]])
    result = cli("--db", "h.duckdb", "import", sheet)
    assert result.code == 1
    assert "error:" in result.err and "missing required columns" in result.err
    assert "hint:" in result.err and "Traceback" not in result.err
    assert not (tmp_path / "h.duckdb").exists()


def test_several_files_one_failing(cli, tmp_path):
    good = write_csv(tmp_path / "good.csv", [HEADER, product_row("P1")])
    bad = tmp_path / "missing.csv"
    result = cli("--db", "h.duckdb", "import", good, bad)
    assert result.code == 1
    assert "1 of 2 files failed" in result.err
    assert cli("--db", "h.duckdb", "products", "--format", "csv").out.count("\n") == 2


def test_usage_and_configuration_errors_exit_2(cli, tmp_path):
    assert cli("import").code == 2  # no file
    assert cli("--db", "h.duckdb", "import", "x.csv", "--kind", "cars").code == 2
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "columns.yaml").write_text("products:\n  nonsense: [x]\n")
    result = cli("--config", tmp_path / "cfg", "--db", "h.duckdb", "import", "x.csv")
    assert result.code == 2 and "columns.yaml:2 products.nonsense" in result.err


def test_json_summary_on_stdout(cli, tmp_path):
    sheet = write_csv(
        tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", rate="99%")]
    )
    result = cli("--db", "h.duckdb", "import", sheet, "--format", "json")
    assert result.code == 3
    [report] = json.loads(result.out)
    assert report["inserted"] == 1 and report["rejected"] == 1 and report["encoding"] == "utf-8"
    assert report["rejects_file"].endswith("s.rejects.csv") and report["status"] == "imported"


def test_quiet_prints_only_warnings(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    assert cli("--quiet", "--db", "h.duckdb", "import", sheet).err == ""
    bad = write_csv(tmp_path / "b.csv", [HEADER, product_row("P2", price="0")])
    result = cli("--quiet", "--db", "h.duckdb", "import", bad)
    assert result.code == 3 and "warning" in result.err and "imported" not in result.err


def test_dry_run_and_rejects_folder(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1", price="x")])
    out = tmp_path / "out"
    out.mkdir()
    result = cli("--db", "h.duckdb", "import", sheet, "--dry-run", "--rejects", out)
    assert result.code == 3 and "dry run, nothing written" in result.err
    assert (out / "s.rejects.csv").exists() and not (tmp_path / "h.duckdb").exists()


def test_db_from_environment(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("HAOWU_DB", str(tmp_path / "env.duckdb"))
    cli("import", write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")]))
    assert (tmp_path / "env.duckdb").exists()


def test_help_does_not_load_the_heavy_libraries():
    code = (
        "import sys; from haowu_cli.cli import app; "
        "heavy = {'polars', 'duckdb', 'pyarrow', 'python_calamine', 'yaml'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_the_console_script_runs(tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "haowu_cli",
            "--db",
            str(tmp_path / "h.duckdb"),
            "import",
            str(sheet),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "1 new" in done.stderr


def test_ctrl_c_mid_file_exits_130_and_keeps_the_database_as_it_was(cli, tmp_path, monkeypatch):
    from haowu_cli import store as db

    first = write_csv(tmp_path / "a.csv", [HEADER, product_row("P1")])
    cli("--db", "h.duckdb", "import", first)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    second = write_csv(
        tmp_path / "b.csv", [HEADER, product_row("P1", price="1"), product_row("P2")]
    )
    with monkeypatch.context() as patch:
        patch.setattr(db, "record_import", interrupted)  # products already written by then
        result = cli("--db", "h.duckdb", "import", second)
    assert result.code == 130 and "interrupted" in result.err
    listed = cli("--db", "h.duckdb", "products", "--format", "csv").out.splitlines()
    assert len(listed) == 2 and ",59.90," in listed[1]


def test_rejects_whose_place_cannot_be_written_stop_the_command_and_go_nowhere_else(cli, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1"), product_row("P2", price="x")])
    result = cli("--db", "h.duckdb", "import", sheet, "--rejects", tmp_path / "gone" / "r.csv")
    assert result.code == 2  # refused before anything was imported
    assert "does not exist" in result.err
    assert not (tmp_path / "r.csv").exists() and not (tmp_path / "h.duckdb").exists()
