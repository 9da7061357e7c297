"""What the benchmarks share: timing a whole command, with its peak memory."""

from __future__ import annotations

import os
import subprocess
import time


def timed(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Wall seconds and peak resident memory (MiB) of a command run to its end.

    Start it from a small parent: a child inherits its parent's resident pages until it
    replaces itself, and would report them as its own peak.
    """
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in ok_codes:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_maxrss // 1024


def measured(command: list[str], ok_codes: tuple[int, ...] = (0,)) -> tuple[float, float, int]:
    """`timed`, with the CPU seconds (user + system) the command used between them: on a
    shared machine the wall time grows with everyone else's load, the CPU time much less."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in ok_codes:
        raise SystemExit(f"failed: {' '.join(command)}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024
