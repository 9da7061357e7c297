"""Benchmark haowu's start-up: read commands on a tiny database against importing DuckDB and
Polars.

    python benchmarks/bench_startup.py [--repeat 9] [--before DIR]

Fills a fresh database with `haowu demo` (the bundled sample sheets: 49 products, 5 anchors,
3,306 orders, a plan), then times, in the same run and in turns, each a whole process from
start to exit:
  baseline                  `python -c "import duckdb, polars"`: the least a command that
                            reads the database into a frame can cost
  --help                    `haowu --help`
  anchors --format csv      the cheapest read command
  products --limit 1        a table drawn with Rich
  commission                the ledger summed by party
  sessions                  the saved plans
and prints each median with its ratio to the baseline, the median CPU seconds (user + system,
which grow far less than the wall time with other people's load) with theirs, and its peak
memory (the largest of the runs). The goal (issue 18) is a read command within 1.5 × the baseline.

With `--before DIR` (a folder holding another version's `haowu_cli`, e.g. from `git archive
COMMIT haowu_cli | tar -x -C DIR`) each haowu command is also timed from that code, in the
same turns, as `python -m haowu_cli` with DIR first on PYTHONPATH; and from this checkout the
same way, so that the two compare like for like.

Python may keep its compiled bytecode (`__pycache__`), as it does in every installed package:
`pip install` compiles it. A first, untimed round writes it for haowu when haowu is installed
from a checkout (`pip install -e`), so that an environment with PYTHONDONTWRITEBYTECODE set
does not time the compiling of haowu's own modules on every run (about 0.03–0.06 s here).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import measured  # noqa: E402


def haowu_command() -> list[str]:
    """The installed `haowu` script next to this Python, as a user runs it; else the module."""
    script = Path(sys.executable).parent / "haowu"
    return [str(script)] if script.exists() else [sys.executable, "-m", "haowu_cli"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--before", type=Path, help="a folder with another haowu_cli to compare")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    haowu = haowu_command()
    with tempfile.TemporaryDirectory(prefix="haowu-bench-") as tmp:
        db = Path(tmp) / "tiny.duckdb"
        subprocess.run(
            [*haowu, "--quiet", "demo", "--db", str(db)],
            check=True,
            cwd=tmp,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        on = [*haowu, "--quiet", "--db", str(db)]
        commands = {
            "baseline: python -c 'import duckdb, polars'": [
                sys.executable,
                "-c",
                "import duckdb, polars",
            ],
            "haowu --help": [*haowu, "--help"],
            "haowu anchors --format csv": [*on, "anchors", "--format", "csv"],
            "haowu products --limit 1": [*on, "products", "--limit", "1"],
            "haowu commission": [*on, "commission"],
            "haowu sessions": [*on, "sessions"],
        }
        if args.before is not None:
            reads = {name: command[len(on) :] for name, command in commands.items()}
            for label, tree in (("before", args.before.resolve()), ("now", HERE.parent)):
                module = ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "haowu_cli"]
                commands[f"{label}: haowu --help"] = [*module, "--help"]
                for name, rest in reads.items():
                    if name.startswith("haowu ") and name != "haowu --help":
                        commands[f"{label}: {name}"] = [*module, "--quiet", "--db", str(db), *rest]
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
        cwd = os.getcwd()
        os.chdir(tmp)  # no ./configs here: the packaged settings, as on a fresh install
        try:
            for command in commands.values():  # untimed: bytecode written, files cached
                measured(command)
            for _ in range(args.repeat):
                for name, command in commands.items():
                    runs[name].append(measured(command))
        finally:
            os.chdir(cwd)

    print(
        f"tiny database (haowu demo); median of {args.repeat} runs, {os.cpu_count()} cores; "
        "each a whole process"
    )
    print(
        "| run | seconds | ÷ baseline | spread (min–max s) | CPU s | CPU ÷ baseline | peak memory |"
    )
    print("|---|---|---|---|---|---|---|")
    first = next(iter(runs.values()))
    base = statistics.median(s for s, _, _ in first)
    base_cpu = statistics.median(c for _, c, _ in first)
    for name, samples in runs.items():
        seconds = [s for s, _, _ in samples]
        median = statistics.median(seconds)
        cpu = statistics.median(c for _, c, _ in samples)
        memory = max(m for _, _, m in samples)
        print(
            f"| {name} | {median:.3f} | {median / base:.2f} "
            f"| {min(seconds):.3f}–{max(seconds):.3f} | {cpu:.3f} | {cpu / base_cpu:.2f} "
            f"| {memory} MiB |"
        )
    print(f"whole benchmark {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
