"""Single key presses read from a terminal without blocking, for views that refresh in place
(the live view's `r` to re-plan).

`key_reader(stream)` puts the terminal in cbreak mode (keys arrive as typed, not after
Enter; Ctrl-C still interrupts) and yields `wait(seconds)`, which waits up to that long for
keys and returns those pressed. The terminal's settings come back when the block ends, by
Ctrl-C (KeyboardInterrupt) or any other way out.

A view started in the background (`haowu live 1 --orders drop/ &`) or sent there (Ctrl-Z,
then `bg`) must not stop on the terminal's job control: `in_background` says when the
process is not in the terminal's foreground, and `job_control_ignored` keeps a write, or a
change of the terminal's settings, from stopping it there (SIGTTOU) and a read from it
(SIGTTIN: the read fails instead)."""

from __future__ import annotations

import os
import select
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO


def keys_available(stream: IO[str] | None) -> bool:
    """Whether `stream` is a terminal keys can be read from (not a file, pipe or closed)."""
    if stream is None:
        return False
    try:
        return stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def in_background(stream: IO[str] | None) -> bool:
    """Whether `stream` is this process's controlling terminal and the process is not in its
    foreground process group (a job run with `&`, or sent on with `bg`)."""
    if stream is None:
        return False
    try:
        fd = stream.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) != os.getpgrp()
    except (ValueError, OSError):  # closed, detached, or not the controlling terminal
        return False


@contextmanager
def job_control_ignored() -> Iterator[None]:
    """SIGTTOU and SIGTTIN ignored for the block (their handlers restored after): in the
    background, writing to the terminal and setting its modes go on, and reading it fails
    (EIO) rather than stopping the process."""
    import signal

    saved = [(s, signal.signal(s, signal.SIG_IGN)) for s in (signal.SIGTTOU, signal.SIGTTIN)]
    try:
        yield
    finally:
        for number, handler in saved:
            signal.signal(number, handler)


@contextmanager
def key_reader(stream: IO[str]) -> Iterator[Callable[[float], str]]:
    """`wait(seconds) -> keys` on the terminal `stream`, in cbreak mode until the block ends
    (the terminal's settings restored however it ends)."""
    import termios
    import tty

    fd = stream.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd, termios.TCSANOW)
    try:

        def wait(seconds: float) -> str:
            deadline = time.monotonic() + seconds
            pressed = b""
            while True:
                left = max(0.0, deadline - time.monotonic())
                ready, _, _ = select.select([fd], [], [], 0 if pressed else left)
                if not ready:
                    return pressed.decode("utf-8", errors="replace")
                try:
                    chunk = os.read(fd, 64)
                except OSError:  # in the background (`job_control_ignored`): no keys now
                    chunk = b""
                if not chunk:  # the terminal is gone: wait out the time, no keys
                    time.sleep(left)
                    return pressed.decode("utf-8", errors="replace")
                pressed += chunk

        yield wait
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
