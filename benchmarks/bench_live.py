"""Benchmark `haowu live --once` with a session of 200,000 orders, against the first plan's
solve and the cheapest command, in the same run.

    python benchmarks/bench_live.py [--orders 200000] [--landing 200] [--repeat 3]

Builds the demo database (`haowu demo`: plan 1 for anchor A005), writes the session's orders
as one back-office export (`simulate_live.py`, every minute of the session) and imports it
with `haowu live 1 --orders FILE --once` (timed once: the first read of a whole night). Then
it times, `--repeat` times each:
  baseline  the whole `haowu anchors --format csv`: process start and database open
  landing   `haowu live 1 --orders NEW.csv --once --at 23:00 --format json`: a new export
            file of `--landing` orders lands (import, one transaction, ledger) and the
            snapshot is worked out over the whole session's orders (the live view's work
            when a file lands)
  snapshot  the same with an empty folder: the snapshot alone
  plan      `haowu plan-session --brief sample_data/brief_a005.yaml --dry-run`: the first
            plan's solve, whole command
and, in one process that stays up as the live view does (`--refresh-child`):
  refresh   a new export file of `--landing` orders imported and the snapshot worked out
            again, each of `--repeat` files in turn (after one that warms the process up):
            what the live view does when a file lands, the process already running
  grown     the night's export saved again with `--landing` rows added at its end, each of
            `--repeat` times: only the added rows read, and the snapshot
and prints medians of wall and CPU seconds (on a shared machine the wall time grows with
everyone else's load, the CPU time much less), ratios to the baseline and to the plan's
solve, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import measured  # noqa: E402
from simulate_live import plan_session, simulate, write_export  # noqa: E402

HAOWU = str(Path(sys.executable).parent / "haowu")


def refresh_child(db: Path, files: list[Path], grown: tuple[Path, list[Path]] | None) -> None:
    """The live view's work when a file lands, timed in this process for each of `files`:
    the import (one transaction, the ledger) and the snapshot at 23:00; prints the wall
    and CPU seconds of each as JSON. With `grown` (an export already read and the rows to add
    to it, a part at a time), then the same for the export saved again with each part added
    (only the added rows read: `SourceWatcher.appended`), a second line of JSON."""
    import time

    from haowu_cli.commands.common import AppContext
    from haowu_cli.commands.live import figures_at, import_sources
    from haowu_cli.config import resolve_config_dir
    from haowu_cli.live import moment
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.render import Output

    app = AppContext(
        db=db,
        config_dir=resolve_config_dir(None, given_by="--config"),
        quiet=True,
        traceback=False,
        lock_timeout=10,
        out=Output(quiet=True),
    )
    rules = load_rules(app.config_dir)
    sheet = plan_session(db, 1)
    at = moment(sheet, "23:00")
    seconds = []
    for path in files:
        started, used = time.perf_counter(), _cpu()
        reports = import_sources(app, [path], quiet=True)
        figures_at(app.store(), sheet, rules, at, follow_versions=True)
        seconds.append((time.perf_counter() - started, _cpu() - used))
        assert reports[0].status == "imported", reports[0].error
    print(json.dumps(seconds))
    if grown is None:
        return
    # The night's export saved again with rows added (`--orders night.csv` in the view).
    import tempfile

    from haowu_cli.commands.live import _read_ready
    from haowu_cli.live import SourceWatcher

    night, parts = grown
    watcher = SourceWatcher([night])
    watcher.poll(), watcher.poll()
    watcher.done(night, read=True)  # as the view leaves it once it has read the night
    seconds = []
    with tempfile.TemporaryDirectory() as scratch:
        for number, part in enumerate(parts, start=1):
            with night.open("ab") as handle:
                handle.write(part.read_bytes())
            os.utime(night, ns=(number, number))
            watcher.poll(), watcher.poll()
            started, used = time.perf_counter(), _cpu()
            report = _read_ready(app, watcher, night, Path(scratch))
            figures_at(app.store(), sheet, rules, at, follow_versions=True)
            seconds.append((time.perf_counter() - started, _cpu() - used))
            assert report.status == "imported" and report.unchanged == 0, report.error
    print(json.dumps(seconds))


def _cpu() -> float:
    """CPU seconds (user + system) this process has used, its threads' (DuckDB's) too."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def refreshes(
    db: Path, files: list[Path], night: Path, parts: list[Path]
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], int]:
    """`refresh_child` in a process of its own: its wall and CPU seconds a file landing and
    a part added to `night`, and its peak memory."""
    import subprocess

    child = [sys.executable, __file__, "--refresh-child", str(db), str(night)]
    child += [f"+{p}" for p in parts] + [str(p) for p in files]
    process = subprocess.Popen(child, stdout=subprocess.PIPE, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(child)}")
    landed, added = (json.loads(line) for line in out.splitlines())
    return landed, added, usage.ru_maxrss // 1024


def main() -> None:
    if sys.argv[1:2] == ["--refresh-child"]:
        night, rest = Path(sys.argv[3]), sys.argv[4:]
        parts = [Path(a[1:]) for a in rest if a.startswith("+")]
        files = [Path(a) for a in rest if not a.startswith("+")]
        refresh_child(Path(sys.argv[2]), files, (night, parts))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--landing", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ["HAOWU_LANG"] = "en"
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        db = work / "live.duckdb"
        measured([HAOWU, "--quiet", "--db", str(db), "demo"])
        sheet = plan_session(db, 1)
        night = work / "night.csv"
        rows = simulate(sheet, args.orders, seed=1)
        write_export(night, [r for _, r in rows])
        live = [HAOWU, "--quiet", "--db", str(db), "live", "1", "--once", "--at", "23:00"]
        first, _cpu, first_mib = measured(
            [*live, "--orders", str(night), "--format", "json"], (0, 3)
        )
        print(
            f"first read of the night: {len(rows):,} order lines in {first:.2f} s, "
            f"peak {first_mib} MiB"
        )
        empty = work / "empty"
        empty.mkdir()
        runs: dict[str, list[tuple[float, float, int]]] = {
            k: [] for k in ("baseline", "landing", "snapshot", "plan", "refresh", "grown")
        }
        for attempt in range(args.repeat):
            landing = work / f"landing_{attempt}.csv"
            extra = simulate(sheet, args.landing, seed=100 + attempt)
            write_export(landing, [[f"L{attempt}{r[0]}", *r[1:]] for _, r in extra])
            runs["baseline"].append(
                measured([HAOWU, "--db", str(db), "anchors", "--format", "csv"])
            )
            runs["landing"].append(
                measured([*live, "--orders", str(landing), "--format", "json"], (0, 3))
            )
            runs["snapshot"].append(measured([*live, "--orders", str(empty), "--format", "json"]))
            brief = str(ROOT / "sample_data" / "brief_a005.yaml")
            runs["plan"].append(
                measured(
                    [
                        HAOWU,
                        "--quiet",
                        "--db",
                        str(db),
                        "plan-session",
                        "--brief",
                        brief,
                        "--dry-run",
                        "--format",
                        "json",
                    ]
                )
            )
        news = []
        for attempt in range(args.repeat + 1):  # the first warms the process up: not counted
            new = work / f"refresh_{attempt}.csv"
            extra = simulate(sheet, args.landing, seed=200 + attempt)
            write_export(new, [[f"R{attempt}{r[0]}", *r[1:]] for _, r in extra])
            news.append(new)
        parts = []
        for attempt in range(args.repeat):
            part = work / f"grown_{attempt}.csv"
            extra = simulate(sheet, args.landing, seed=300 + attempt)
            write_export(part, [[f"G{attempt}{r[0]}", *r[1:]] for _, r in extra])
            text = part.read_bytes()
            part.write_bytes(text[text.index(b"\n") + 1 :])  # its rows, no header
            parts.append(part)
        landed, added, mib = refreshes(db, news, night, parts)
        runs["refresh"] = [(wall, cpu, mib) for wall, cpu in landed[1:]]
        runs["grown"] = [(wall, cpu, mib) for wall, cpu in added]
    wall = {k: statistics.median(s for s, _, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c, _ in v) for k, v in runs.items()}
    peak = {k: max(m for _, _, m in v) for k, v in runs.items()}
    print("medians; wall and CPU (user + system) seconds, each as a ratio to the baseline's")
    for key in ("baseline", "landing", "snapshot", "plan", "refresh", "grown"):
        print(
            f"{key:9} wall {wall[key]:6.2f} s ×{wall[key] / wall['baseline']:5.2f}"
            f"  CPU {cpu[key]:6.2f} s ×{cpu[key] / cpu['baseline']:5.2f}"
            f"  ×{wall[key] / wall['plan']:5.2f} plan (wall)  peak {peak[key]} MiB"
        )


if __name__ == "__main__":
    main()
