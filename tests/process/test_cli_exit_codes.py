"""The documented exit codes (README, "Exit codes"), as the shell sees them: 0, 1, 2, 3 and 130
for representative commands, and never a Python traceback on stderr."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path

from .conftest import ON_LAKE, clean_env, interrupt_when, run_haowu, shared_haowu

SAMPLES = packaged_path("sample_data")
BRIEF = SAMPLES / "brief_a005.yaml"


def no_traceback(ran) -> None:
    assert "Traceback" not in ran.err and "this is a bug" not in ran.err, ran


# (exit code, arguments after `--db DB`, text stderr must hold); DB is a copy of the demo's
CASES = [
    (0, ["products", "-f", "csv"], ""),
    (0, ["plan-session", "--brief", BRIEF, "--dry-run"], "optimal"),
    (1, ["sessions", "show", "999"], "no plan 999"),
    (1, ["plan-session", "--brief", BRIEF, "--min-commission-rate", "0.9"], "no plan meets"),
    (1, ["import", "@missing.csv"], "file not found"),
    (2, ["products", "--no-such-option"], "No such option"),
    (2, ["grade", "--as-of", "2026-13-01"], "--as-of"),
    (2, ["--config", "@missing", "products"], "no such folder"),
    (2, ["plan-session", "--brief", "@bad-brief.yaml"], "is not a real date"),
    (3, ["import", "--dry-run", SAMPLES / "m1004_m1005_messy.csv"], "rows rejected"),
]


@pytest.mark.parametrize(
    ("code", "args", "said"), CASES, ids=[f"{c}: {' '.join(map(str, a))}" for c, a, _ in CASES]
)
def test_exit_code(haowu, demo_copy, tmp_path, code, args, said):
    (tmp_path / "bad-brief.yaml").write_text("anchor: A005\ndate: 2026-13-01\n")
    args = [str(tmp_path / a[1:]) if str(a).startswith("@") else a for a in args]
    ran = haowu("--db", demo_copy, *args)
    assert ran.code == code, ran
    assert said in ran.err, ran
    no_traceback(ran)


# --- 130: Ctrl-C in the middle of a long plan ----------------------------------------------

HEAVY_BRIEF = """\
objective: team_income
allow_repeat: true
min_level: L0
min_commission_rate: 0
max_per_merchant: 2
products: {min: 30, max: 40}
minutes: 240
categories: {美妆: {min: 6, max: 12}, 食品: {min: 5, max: 10}, 日百: {min: 3, max: 8}}
roles: {引流款: {min: 6}, 主推款: {min: 4, max: 14}}
sessions:
  - {anchor: B001, date: "2026-11-23"}
  - {anchor: B001, date: "2026-11-24"}
  - {anchor: B001, date: "2026-11-25"}
  - {anchor: B001, date: "2026-11-26"}
  - {anchor: B001, date: "2026-11-27"}
  - {anchor: B001, date: "2026-11-28"}
"""
ANCHORS = (
    "达人ID,达人昵称,粉丝数,女粉占比,主要年龄段,客单价,主营类目,场均时GMV,机构,机构分成比例\n"
    "B001,基准主播,120万,75%,25-34,¥299,美妆、食品、日百,8万,,\n"
)


@pytest.fixture(scope="module")
def big_db(request, tmp_path_factory) -> Path:
    """100,000 generated products, graded, and one anchor, on the test's engine: six sessions
    with `allow_repeat` take haowu several seconds of CPU to plan (reading, candidates,
    pruning, solving), of which start-up is under half a second on a file (STARTUP_CPU)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from generate import write_sheet

    folder = tmp_path_factory.mktemp("big")
    home = folder / "home"
    home.mkdir()
    haowu = shared_haowu(request, folder, home)
    write_sheet(100_000, folder / "products.csv")
    (folder / "anchors.csv").write_text(ANCHORS, encoding="utf-8")
    (folder / "heavy.yaml").write_text(HEAVY_BRIEF, encoding="utf-8")
    for args in (
        ["import", "products.csv"],
        ["import", "--kind", "anchors", "anchors.csv"],
        ["grade", "--as-of", "2026-11-22"],
    ):
        ran = haowu("--db", "big.duckdb", *args, timeout=600)
        assert ran.code in (0, 3), ran
    return folder / "big.duckdb"


# CPU seconds after which a plan-session is past start-up and at work on the plan. On a
# lake, start-up also loads the team extensions and reads the catalog from PostgreSQL:
# `sessions -f json` took 0.81-1.02 CPU s there against 0.42-0.45 on a file (3 December 2026).
STARTUP_CPU = 2.0 if ON_LAKE else 1.2


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_ctrl_c_in_the_middle_of_a_plan_exits_130_and_saves_nothing(
    big_db, tmp_path, home, on_engine
):
    """Ctrl-C once haowu has worked for STARTUP_CPU seconds of CPU (past start-up, while it
    reads, works out the candidates, prunes or solves): exit 130 at once, not at the 300 s
    time limit; no traceback, no plan saved, nothing on stdout."""
    brief = big_db.parent / "heavy.yaml"
    args, on_lake = on_engine(
        ["--db", big_db, "plan-session", "--brief", brief, "--time-limit", "300", "-f", "json"]
    )
    env = clean_env(home, **on_lake)
    started = time.monotonic()

    found: list[int] = []  # the plan's process, once seen (not every process, every 10 ms)

    def working_for_a_while() -> bool:
        if not found:
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if str(brief).encode() in command and b"plan-session" in command:
                    found.append(int(entry.name))
                    break
            else:
                return False
        try:
            return _cpu_seconds(found[0]) > STARTUP_CPU
        except OSError:  # it has ended: Ctrl-C now finds it gone, and the test says so
            return True

    ran = interrupt_when(args, cwd=tmp_path, env=env, ready=working_for_a_while, timeout=280)
    assert ran.code == 130, ran
    assert time.monotonic() - started < 200, ran
    assert "interrupted" in ran.err, ran
    assert ran.out == "", ran
    no_traceback(ran)
    listed_args, _ = on_engine(["--db", big_db, "sessions", "-f", "json"])
    listed = run_haowu(listed_args, cwd=tmp_path, env=env)
    assert listed.code == 0 and json.loads(listed.out) == [], listed
