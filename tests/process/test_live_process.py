"""`haowu live --once` through the real process: exports imported once however often they
are read, a snapshot at an injected moment, off-sheet orders, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import write_csv

HEADER = [
    "订单号",
    "订单支付时间",
    "订单状态",
    "商品ID",
    "预估推广者分佣比例",
    "成交数量",
    "实付款",
    "CPS达人ID",
]


@pytest.fixture
def plan(haowu, demo_copy: Path) -> dict:
    """The demo's saved plan 1 (anchor A005, 2026-12-01 from 20:00)."""
    shown = haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json")
    assert shown.code == 0, shown
    return json.loads(shown.out)


def export(path: Path, rows: list[tuple]) -> Path:
    """A 快手 back-office order export (platform file) of the given order lines."""
    return write_csv(
        path,
        [
            HEADER,
            *[
                [o, f"2026-12-01 {t}", "已付款", p, "40%", str(n), f"¥{y}", "A005"]
                for o, t, p, n, y in rows
            ],
        ],
        "utf-8-sig",
    )


def snap(haowu, db, source, at: str) -> tuple[int, dict]:
    ran = haowu("--db", db, "live", "1", "--orders", source, "--once", "--at", at, "-f", "json")
    assert ran.code in (0, 3), ran
    return ran.code, json.loads(ran.out)


def product(figures: dict, product_id: str) -> dict:
    return next(p for p in figures["products"] if p["product_id"] == product_id)


def test_a_folder_is_imported_once_however_often_it_is_read(haowu, demo_copy, plan, tmp_path):
    first = plan["items"][0]["product_id"]
    drop = tmp_path / "drop"
    drop.mkdir()
    _, before = snap(haowu, demo_copy, drop, "20:02")
    export(
        drop / "a.csv",
        [("L1", "20:00:30", first, 2, "19.80"), ("L2", "20:01:10", "NOPE1", 1, "50.00")],
    )
    _, once = snap(haowu, demo_copy, drop, "20:02")
    _, again = snap(haowu, demo_copy, drop, "20:02")
    assert once | {"imports": None} == again | {"imports": None}  # the second read adds nothing
    assert product(once, first)["units"] == product(before, first)["units"] + 2
    assert once["imports"][0]["inserted"] == 2 and again["imports"][0]["unchanged"] == 2
    off = {p["product_id"]: p for p in once["off_sheet"]}
    assert off["NOPE1"]["units"] == 1 and off["NOPE1"]["known"] is False  # shown, not dropped
    # the export saved again, grown: only the new line is new
    export(
        drop / "a.csv",
        [
            ("L1", "20:00:30", first, 2, "19.80"),
            ("L2", "20:01:10", "NOPE1", 1, "50.00"),
            ("L3", "20:01:40", first, 1, "9.90"),
        ],
    )
    _, grown = snap(haowu, demo_copy, drop, "20:02")
    assert product(grown, first)["units"] == product(once, first)["units"] + 1
    assert grown["imports"][0]["inserted"] == 1
    # an order paid after the injected moment is not counted yet
    _, earlier = snap(haowu, demo_copy, drop, "20:01")
    assert product(earlier, first)["units"] == product(before, first)["units"] + 2
    assert earlier["clock"]["now"] == first
    assert earlier["expected_gmv_by_now_fen"] < grown["expected_gmv_by_now_fen"]


def test_the_table_speaks_of_the_plan_and_untimed_orders(haowu, demo_copy, plan, tmp_path):
    ran = haowu("--db", demo_copy, "live", "1", "--orders", tmp_path, "--once", "--at", "20:30")
    assert ran.code == 0, ran
    assert "plan 1, session 1, anchor A005" in ran.out
    assert "expected by now" in ran.out
    assert "know only their day of payment" in ran.err  # the demo's orders have no time


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["live", "99", "--orders", ".", "--once"], 1, "no plan 99"),
        (["live", "1", "--orders", "missing.csv", "--once"], 2, "no such file or folder"),
        (["live", "1", "--orders", ".", "--once", "--at", "25:00"], 2, "HH:MM"),
        (["live", "1", "--orders", ".", "--once", "--session", "2"], 2, "has no session 2"),
        (["live", "1", "--orders", "."], 2, "--once"),
    ],
)
def test_refusals(haowu, demo_copy, args, code, message):
    ran = haowu("--db", demo_copy, *args)
    assert ran.code == code, ran
    assert message in ran.err, ran


def test_the_live_view_follows_a_folder_and_ctrl_c_keeps_what_was_read(
    haowu, demo_copy, plan, tmp_path, home, on_engine
):
    """On a terminal (a pty) the view reads an export once it has stopped changing, shows
    it, and Ctrl-C exits 130 with the file's orders in the database."""
    from tests.process.conftest import OnTerminal

    first = plan["items"][0]["product_id"]
    drop = tmp_path / "drop"
    drop.mkdir()
    _, before = snap(haowu, demo_copy, drop, "20:02")
    export(drop / "a.csv", [("L1", "20:00:30", first, 2, "19.80")])
    args = ["--db", demo_copy, "live", "1", "--orders", drop, "--at", "20:02", "--interval", "0.2"]
    args, env = on_engine(args)
    view = OnTerminal(args, cwd=tmp_path, home=home, env=env)
    view.read_until(b"a.csv: 1 new")
    seen = view.seen
    assert b"a.csv: 1 new" in seen, seen.decode(errors="replace")
    assert b"expected by now" in seen
    code = view.interrupt()
    view.close()
    assert code == 130, view.stderr()
    _, after = snap(haowu, demo_copy, drop, "20:02")
    assert product(after, first)["units"] == product(before, first)["units"] + 2
    assert after["imports"][0]["unchanged"] == 1  # read once by the view, not again here


def test_orders_on_stdin_in_the_open_platforms_shapes_and_haowus_columns(
    haowu, demo_copy, plan, tmp_path
):
    """`--orders -`: JSON lines as an API poller prints them — a response in its envelope,
    one 团长 order with its item list — and an order in haowu's own columns, each counted
    once however often the lines come again."""
    from datetime import datetime, timedelta, timezone

    first = plan["items"][0]["product_id"]
    beijing = timezone(timedelta(hours=8))
    paid = int(datetime(2026, 12, 1, 20, 0, 30, tzinfo=beijing).timestamp() * 1000)

    def order(oid: int, units: int) -> dict:
        return {
            "oid": oid,
            "promotionId": "A005",
            "cpsOrderStatus": 30,
            "payTime": paid,
            "payAmount": 990 * units,
            "regimentalPromotionRate": 50,
            "cpsOrderProductView": [
                {"itemId": first, "itemPrice": 990, "commissionRate": 200, "num": units}
            ],
        }

    own = {
        "order_id": "J1",
        "product_id": first,
        "paid_amount": "9.90",
        "paid_at": "2026-12-01 20:01:00",
        "anchor_id": "A005",
        "status": "已付款",
        "commission_rate": "20%",
    }
    lines = [
        json.dumps({"result": 1, "data": {"orderView": [order(9001, 2)]}}),
        json.dumps(order(9002, 1)),
        json.dumps(own),
    ]
    stdin = "\n".join(lines) + "\n"
    args = ["--db", demo_copy, "live", "1", "--once", "--at", "20:02", "-f", "json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    _, before = snap(haowu, demo_copy, empty, "20:02")
    ran = haowu(*args, "--orders", "-", stdin=stdin)
    assert ran.code == 0, ran
    shown = json.loads(ran.out)
    assert sorted((i["inserted"], i["rejected"]) for i in shown["imports"]) == [(1, 0), (2, 0)]
    assert product(shown, first)["units"] == product(before, first)["units"] + 4
    again = haowu(*args, "--orders", "-", stdin=stdin)
    assert again.code == 0, again
    assert product(json.loads(again.out), first)["units"] == product(shown, first)["units"]
    bad = haowu(*args, "--orders", "-", stdin=lines[0] + "\n{oops\n")
    assert bad.code != 0 and "stdin line 2" in bad.err


JOB_SHELL = """
import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR)  # a session leader's first terminal: its controlling one
job = subprocess.Popen(sys.argv[2:], stdin=fd, stdout=fd, stderr=fd, process_group=0)
_, status = os.waitpid(job.pid, os.WUNTRACED)  # a job stopped by job control shows here
if os.WIFSTOPPED(status):
    os.kill(job.pid, 9)
    os.waitpid(job.pid, 0)
    sys.exit(98)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_live_view_started_in_the_background_says_so_and_does_not_stop(
    demo_copy, tmp_path, home
):
    """`haowu live 1 --orders drop/ &` in an interactive shell: the job is not in the
    terminal's foreground (here with `stty tostop` too, so that even a write would stop
    it). It says so and exits 2; it is not stopped by SIGTTOU, waiting unseen."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import termios

    from tests.process.conftest import HAOWU, clean_env

    leader, follower = pty.openpty()
    modes = termios.tcgetattr(follower)
    modes[3] |= termios.TOSTOP
    termios.tcsetattr(follower, termios.TCSANOW, modes)
    args = ["--db", str(demo_copy), "live", "1", "--orders", str(tmp_path), "--at", "21:10"]
    shell = subprocess.run(
        [sys.executable, "-c", JOB_SHELL, os.ttyname(follower), str(HAOWU), *args],
        cwd=tmp_path,
        env=clean_env(home, COLUMNS="200", LINES="80"),
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    os.close(follower)
    seen = b""
    while select.select([leader], [], [], 0.2)[0]:
        try:
            seen += os.read(leader, 65536)
        except OSError:
            break
    os.close(leader)
    assert shell.returncode == 2, (shell.returncode, seen)  # 98: stopped by job control
    assert b"needs the terminal in the foreground" in seen, seen
    assert b"give --once" in seen, seen


JOB_SENT_BACK = """
import os, signal, subprocess, sys, time
tty = os.open(sys.argv[1], os.O_RDWR)  # the controlling terminal of this session
drop, args = sys.argv[2], sys.argv[3:]
job = subprocess.Popen(args, stdin=tty, stdout=tty, stderr=tty, process_group=0)
# The shell takes the terminal back from the background (after the job started: the job
# must not inherit the ignored signal).
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
os.tcsetpgrp(tty, job.pid)  # in the foreground, as a shell runs a job
time.sleep(float(os.environ["SETTLE"]))
os.tcsetpgrp(tty, os.getpgrp())  # Ctrl-Z then bg, without the stop: sent to the background
with open(os.path.join(drop, "late.csv"), "w", encoding="utf-8-sig") as f:
    f.write(os.environ["LATE_CSV"])
time.sleep(float(os.environ["SETTLE"]))
pid, status = os.waitpid(job.pid, os.WNOHANG | os.WUNTRACED)
if pid and os.WIFSTOPPED(status):
    os.kill(job.pid, 9)
    sys.exit(98)
os.tcsetpgrp(tty, job.pid)  # fg
time.sleep(1)
job.send_signal(signal.SIGINT)
sys.exit(job.wait(timeout=60))
"""


def test_the_live_view_sent_to_the_background_goes_on_importing(
    haowu, demo_copy, plan, tmp_path, home
):
    """Sent to the background while it runs (with `stty tostop`), the view is not stopped by
    job control: it goes on importing what lands, and Ctrl-C once back ends it (130)."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import termios

    from tests.process.conftest import HAOWU, clean_env

    leader, follower = pty.openpty()
    modes = termios.tcgetattr(follower)
    modes[3] |= termios.TOSTOP
    termios.tcsetattr(follower, termios.TCSANOW, modes)
    drop = tmp_path / "drop"
    drop.mkdir()
    first = plan["items"][0]["product_id"]
    late = export(tmp_path / "late.csv", [("B1", "20:00:30", first, 3, "29.70")])
    args = ["--db", str(demo_copy), "live", "1", "--orders", str(drop), "--at", "20:02"]
    env = clean_env(home, COLUMNS="200", LINES="80", SETTLE="8")
    env["LATE_CSV"] = late.read_text(encoding="utf-8-sig")
    shell = subprocess.Popen(
        [
            sys.executable,
            "-c",
            JOB_SENT_BACK,
            os.ttyname(follower),
            str(drop),
            str(HAOWU),
            *args,
            "--interval",
            "0.2",
        ],
        cwd=tmp_path,
        env=env,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
    )
    while shell.poll() is None:  # keep the terminal drained (the follower open: no EIO)
        if select.select([leader], [], [], 0.2)[0]:
            os.read(leader, 65536)
    shell.wait(timeout=120)
    os.close(follower)
    os.close(leader)
    assert shell.returncode == 130, shell.returncode  # 98: stopped by job control
    empty = tmp_path / "empty"
    empty.mkdir()
    _, shown = snap(haowu, demo_copy, empty, "20:02")
    assert product(shown, first)["units"] >= 3  # late.csv was imported in the background
