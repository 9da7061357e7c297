"""The global options as cron and people write them, through the real process: before or
after the command name, for every command; an explicit config folder that must exist; the
README's cron lines run as written, silently; the run log names each database."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path

from .conftest import HAOWU, clean_env

README = Path(__file__).resolve().parents[2] / "README.md"


def command_paths() -> list[str]:
    """Every command and subcommand of the real app, as typed after `haowu`."""
    import typer.main

    from haowu_cli.cli import app

    found: list[str] = []

    def walk(command, path: list[str]) -> None:
        if path:
            found.append(" ".join(path))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return sorted(found)


def test_every_command_is_walked():
    assert {"import", "grade", "grade explain", "sessions show", "export ledger", "demo"} <= set(
        command_paths()
    )


@pytest.mark.parametrize("command", command_paths())
def test_every_command_takes_the_global_options_after_its_name(haowu, tmp_path, command):
    ran = haowu(
        *command.split(),
        "--quiet", "--traceback", "-q", "--config", tmp_path, "--lock-timeout", "5",
        "--db=x.duckdb", "--help",
    )  # fmt: skip
    assert ran.code == 0, ran
    assert ran.out.startswith("Usage: haowu"), ran
    assert ran.err == "", ran


def test_db_after_the_name_is_the_database_read(haowu, demo_copy):
    listed = haowu("products", "--db", demo_copy, "-f", "json")
    assert listed.code == 0 and len(json.loads(listed.out)) > 10, listed
    explained = haowu("grade", "explain", "1001020000493", "--db", demo_copy, "-f", "csv")
    assert explained.code == 0 and explained.out.startswith("product_id,"), explained


def test_the_later_of_two_global_options_wins(haowu, demo_copy, tmp_path):
    ran = haowu("--db", tmp_path / "none.duckdb", "products", "--db", demo_copy, "-f", "csv")
    assert ran.code == 0, ran


def test_quiet_after_the_name_silences(haowu, demo_copy, tmp_path):
    sheet = tmp_path / "sheet.csv"
    shutil.copyfile(packaged_path("sample_data") / "m1001_beauty_gbk.csv", sheet)
    loud = haowu("import", "--dry-run", "--db", demo_copy, sheet)
    assert loud.code == 0 and "rows" in loud.err, loud
    quiet = haowu("import", "-q", "--dry-run", sheet, "--db", demo_copy)
    assert (quiet.code, quiet.out, quiet.err) == (0, "", ""), quiet


def test_an_option_value_that_looks_like_a_global_option_stays_a_value(haowu, demo_copy):
    ran = haowu("products", "--search", "--quiet", "--db", demo_copy)
    assert ran.code == 0, ran
    assert "0 products" in ran.err, ran  # searched for the text "--quiet", and said so


def test_demo_db_after_the_name_is_the_demos_own(haowu, demo_db):
    ran = haowu("demo", "--db", demo_db)  # the demo refuses a database that exists
    assert ran.code == 2 and "exists" in ran.err, ran


def test_nothing_after_a_double_dash_is_a_global_option(haowu, demo_copy, tmp_path):
    ran = haowu("import", "--db", demo_copy, "--dry-run", "--", "--quiet")
    assert ran.code == 1, ran
    assert "--quiet: file not found" in ran.err, ran


# --- the config folder ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["option before", "option after", "environment"])
def test_a_config_folder_that_does_not_exist_is_refused(haowu, demo_copy, tmp_path, where):
    missing = tmp_path / "no" / "such"
    args = ["--db", demo_copy, "grade", "--dry-run"]
    env = {}
    if where == "option before":
        args = ["--config", missing, *args]
    elif where == "option after":
        args = [*args, "--config", missing]
    else:
        env = {"HAOWU_CONFIG": str(missing)}
    ran = haowu(*args, env=env)
    assert ran.code == 2, ran
    assert f"{missing}: no such folder" in ran.err, ran
    assert "Traceback" not in ran.err, ran


def test_a_config_path_that_is_a_file_is_refused(haowu, demo_copy, tmp_path):
    (tmp_path / "grading.yaml").write_text("")
    ran = haowu("--db", demo_copy, "--config", tmp_path / "grading.yaml", "products")
    assert ran.code == 2 and "is not a folder" in ran.err, ran


# --- cron, as the README writes it ---------------------------------------------------------

CRON_LINE = re.compile(r"^((?:\S+\s+){5})(cd /srv/haowu && .*)$")


def readme_cron_lines() -> list[str]:
    return [
        match[2]
        for line in README.read_text(encoding="utf-8").splitlines()
        if (match := CRON_LINE.match(line))
    ]


def test_the_readme_has_cron_lines():
    assert len(readme_cron_lines()) >= 2


def test_every_readme_cron_line_runs_silently_and_logs_its_database(demo_db, tmp_path, home):
    """Each line, run by `sh` as cron does (no terminal, a bare environment) in a copy of
    /srv/haowu holding the databases it names: exit 0, nothing printed (cron mails anything
    printed), one run-log line per run naming its database."""
    srv = tmp_path / "srv"
    (srv / ".venv" / "bin").mkdir(parents=True)
    (srv / ".venv" / "bin" / "haowu").symlink_to(HAOWU)
    databases = []
    for line in readme_cron_lines():
        for name in re.findall(r"--db[ =](\S+)", line):
            shutil.copyfile(demo_db, srv / name)
            databases.append((srv / name).resolve())
        command = line.replace("/srv/haowu", str(srv))
        ran = subprocess.run(
            ["sh", "-c", command],
            env=clean_env(home),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=180,
            check=False,
        )
        assert (ran.returncode, ran.stdout, ran.stderr) == (0, b"", b""), (line, ran)
    log = home / ".state" / "haowu" / "log" / "haowu.log"
    lines = log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(readme_cron_lines()), lines
    for line, database in zip(lines, databases, strict=True):
        assert " INFO grade as of " in line and line.endswith(f" db={database}"), line
