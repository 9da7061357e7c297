"""DuckDB's memory cap and spill folder, as a user sets them (HAOWU_MEMORY_LIMIT,
HAOWU_TEMP_DIR), through the installed command."""

from __future__ import annotations

import duckdb

from tests.conftest import HEADER, product_row, write_csv
from tests.process.conftest import file_only

pytestmark = file_only("DuckDB's memory cap and spill folder for the file, read back from it")


def test_a_memory_limit_that_is_no_size_exits_2_naming_the_variable(haowu, tmp_path):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    ran = haowu("--db", "h.duckdb", "import", sheet, env={"HAOWU_MEMORY_LIMIT": "lots"})
    assert ran.code == 2, ran
    assert "HAOWU_MEMORY_LIMIT='lots' is not a size" in ran.err, ran
    assert "Traceback" not in ran.err
    assert not (tmp_path / "h.duckdb").exists() or _products(tmp_path / "h.duckdb") == 0


def test_the_limit_and_folder_given_are_the_ones_used(haowu, tmp_path):
    from haowu_cli.store import Store

    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    spill = tmp_path / "spill"
    env = {"HAOWU_MEMORY_LIMIT": "300MB", "HAOWU_TEMP_DIR": str(spill)}
    ran = haowu("--db", "h.duckdb", "import", sheet, env=env)
    assert ran.code == 0, ran
    assert _products(tmp_path / "h.duckdb") == 1
    # The same settings, read back from a connection haowu opens (in this process).
    import os

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with Store(tmp_path / "h.duckdb").read() as con:
            limit, folder = con.execute(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchone()
        os.environ.pop("HAOWU_TEMP_DIR")
        with Store(tmp_path / "h.duckdb").read() as con:
            [(default_folder,)] = con.execute("SELECT current_setting('temp_directory')").fetchall()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert limit.startswith("286") and folder == str(spill)  # 300 MB is 286.1 MiB
    assert default_folder == str(tmp_path / "h.duckdb.tmp")


def _products(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM products").fetchall()[0][0]
    finally:
        con.close()
