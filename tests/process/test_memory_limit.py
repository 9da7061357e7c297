"""DuckDB's memory cap and spill folder, as a user sets them (HAOWU_MEMORY_LIMIT,
HAOWU_TEMP_DIR), through the installed command: on a file and on a lake alike."""

from __future__ import annotations

import os

from tests.conftest import HEADER, product_row, write_csv
from tests.process.conftest import file_only


def test_a_memory_limit_that_is_no_size_exits_2_naming_the_variable(haowu, tmp_path, databases):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    ran = haowu("--db", "h.duckdb", "import", sheet, env={"HAOWU_MEMORY_LIMIT": "lots"})
    assert ran.code == 2, ran
    assert "HAOWU_MEMORY_LIMIT='lots' is not a size" in ran.err, ran
    assert "Traceback" not in ran.err
    # No product was stored: no file, or no products table, or an empty one.
    if (tmp_path / "h.duckdb").exists() or databases.spec("h.duckdb")[1] is not None:
        table = (
            "SELECT count(*) FROM duckdb_tables() "
            "WHERE database_name = current_database() AND table_name = 'products'"
        )
        if databases.rows("h.duckdb", table) != [(0,)]:
            assert databases.rows("h.duckdb", "SELECT count(*) FROM products") == [(0,)]


def settings(store, env: dict[str, str]) -> tuple[str, str]:
    """DuckDB's memory limit and spill folder on a connection `store` opens (in this process)
    under `env`."""
    saved = {k: os.environ.get(k) for k in ("HAOWU_MEMORY_LIMIT", "HAOWU_TEMP_DIR")}
    for key in saved:
        os.environ.pop(key, None)
    os.environ.update(env)
    try:
        with store().read() as con:
            return con.execute(
                "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
            ).fetchone()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_the_limit_and_folder_given_are_the_ones_used(haowu, tmp_path, databases):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    spill = tmp_path / "spill"
    env = {"HAOWU_MEMORY_LIMIT": "300MB", "HAOWU_TEMP_DIR": str(spill)}
    ran = haowu("--db", "h.duckdb", "import", sheet, env=env)
    assert ran.code == 0, ran
    assert databases.rows("h.duckdb", "SELECT count(*) FROM products") == [(1,)]
    # The same settings, read back from a connection haowu opens (in this process).
    limit, folder = settings(lambda: databases.store("h.duckdb"), env)
    assert limit.startswith("286") and folder == str(spill)  # 300 MB is 286.1 MiB
    # Without them, 512 MB.
    limit, _folder = settings(lambda: databases.store("h.duckdb"), {})
    assert limit.startswith("488")  # 512 MB is 488.2 MiB


@file_only(
    "the spill folder beside the file (a lake has none: it spills where HAOWU_TEMP_DIR says)"
)
def test_the_spill_folder_is_beside_the_file_by_default(haowu, tmp_path, databases):
    sheet = write_csv(tmp_path / "s.csv", [HEADER, product_row("P1")])
    assert haowu("--db", "h.duckdb", "import", sheet).code == 0
    _limit, folder = settings(lambda: databases.store("h.duckdb"), {})
    assert folder == str(tmp_path / "h.duckdb.tmp")
