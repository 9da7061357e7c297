"""What reaches stdout, through the real process: only documented data (no banner from the
solver's C library, in any format, nor from `haowu demo`), one timestamp form in every JSON
and CSV output, `--version`, a plan without a plan's numbers, and a reader that goes away
(`haowu … | head`) as a normal end."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from importlib.metadata import version

import pytest

from haowu_cli.config import packaged_path

from .conftest import HAOWU, clean_env, file_only
from .test_machine_output import CASES, _args

BRIEF = packaged_path("sample_data") / "brief_a005.yaml"
BANNER = re.compile(r"Running HiGHS|Copyright \(c\)|THIRD_PARTY_NOTICES")


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_plan_session_prints_no_solver_banner(haowu, demo_copy, fmt):
    ran = haowu("--db", demo_copy, "plan-session", "--brief", BRIEF, "--dry-run", "-f", fmt)
    assert ran.code == 0, ran
    assert not BANNER.search(ran.out), ran
    if fmt == "table":
        assert ran.out.lstrip().startswith("plan (not saved), session 1"), ran


@file_only("`haowu demo` makes its own new file on any engine")
def test_demo_prints_no_solver_banner_and_leaves_the_environments_database_alone(haowu, tmp_path):
    real = tmp_path / "real.duckdb"  # $HAOWU_DB: someone's real database
    ran = haowu("demo", env={"HAOWU_DB": str(real)}, timeout=300)
    assert ran.code == 0, ran
    assert not BANNER.search(ran.out + ran.err), ran
    assert not real.exists(), ran  # the demo never fills $HAOWU_DB's database


def test_version(haowu):
    ran = haowu("--version")
    assert (ran.code, ran.out, ran.err) == (0, f"haowu {version('haowu')}\n", ""), ran


def test_no_plan_has_no_bound_and_no_gap(haowu, demo_copy):
    ran = haowu(
        "--db", demo_copy, "plan-session", "--brief", BRIEF, "--min-commission-rate", "0.9",
        "--dry-run", "-f", "json",
    )  # fmt: skip
    assert ran.code == 1, ran
    plan = json.loads(ran.out)
    assert plan["status"] == "infeasible", ran
    assert (plan["objective"]["value"], plan["bound"], plan["gap"]) == (None, None, None), ran
    assert plan["problems"], ran


# --- one timestamp form ------------------------------------------------------------------

ISO_SECONDS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
LOOKS_LIKE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}|\d{1,2}:\d{2}:\d{2}")


def _strings(value, path="$"):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def _bad_timestamps(document) -> list[str]:
    """Every string that holds a date with a time, and is not exactly ISO 8601 to the second
    (`2026-12-02T13:11:21`)."""
    return [
        f"{path}: {text!r}"
        for path, text in _strings(document)
        if LOOKS_LIKE_TIME.search(text) and not ISO_SECONDS.fullmatch(text)
    ]


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_json_timestamp_is_iso_8601(haowu, demo_copy, tmp_path, command):
    extra, _header, _shape = CASES[command]
    ran = haowu(*_args(command, extra, demo_copy, tmp_path), "--format", "json")
    assert ran.code in (0, 3), ran
    document = json.loads(ran.out)
    assert _bad_timestamps(document) == [], ran


def test_timestamps_are_there_to_check(haowu, demo_copy):
    """The check above sees the timestamps it is about (sessions, sessions show)."""
    listed = json.loads(haowu("--db", demo_copy, "sessions", "-f", "json").out)
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    assert ISO_SECONDS.fullmatch(listed[0]["created_at"])
    assert shown["created_at"] == listed[0]["created_at"]


def test_sessions_csv_timestamp_is_iso_8601(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "sessions", "-f", "csv")
    assert ran.code == 0, ran
    created = ran.out.splitlines()[1].split(",")[1]
    assert ISO_SECONDS.fullmatch(created), ran


def test_ledger_export_timestamp_is_iso_8601(haowu, demo_copy):
    ran = haowu("--db", demo_copy, "export", "ledger")
    assert ran.code == 0, ran
    header, first = ran.out.lstrip("\ufeff").splitlines()[:2]
    posted_at = first.split(",")[header.split(",").index("posted_at")]
    assert ISO_SECONDS.fullmatch(posted_at), ran


# --- a reader that goes away ---------------------------------------------------------------

CLOSED_PIPE_CASES = [
    ["report", "merchants"],  # a Rich table
    ["products", "-f", "csv"],  # CSV through Output
    ["sessions", "show", "1", "-f", "json"],  # JSON through Output
    ["export", "ledger"],  # an export to stdout
    ["grade", "explain", "1001020000493"],  # a table and lines after it
]


@pytest.mark.parametrize("args", CLOSED_PIPE_CASES, ids=" ".join)
def test_a_closed_pipe_is_a_normal_end(demo_copy, tmp_path, home, args, on_engine):
    """stdout's reader has gone before haowu writes a byte: exit 0, nothing on stderr."""
    args, env = on_engine(["--db", demo_copy, *args])
    process = subprocess.Popen(
        [str(HAOWU), *args],
        cwd=tmp_path,
        env=clean_env(home, **env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    err = process.stderr.read().decode()
    assert (process.wait(timeout=120), err) == (0, ""), args


def test_head_reads_one_line(demo_copy, tmp_path, home, on_engine):
    """`haowu report merchants | head -1`: haowu's own exit status is 0, stderr empty."""
    args, env = on_engine(["--db", demo_copy, "report", "merchants"])
    command = f"set -o pipefail; {shlex.join([str(HAOWU), *args])} | head -1"
    ran = subprocess.run(
        ["bash", "-c", command],
        cwd=tmp_path,
        env=clean_env(home, **env),
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran
    assert ran.stdout.decode().startswith("Merchant growth"), ran
    assert ran.stderr == b"", ran
