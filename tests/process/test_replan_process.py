"""`haowu live replan` and plan versions through the real process: the JSON, versions listed
and reviewed by the version in force, orders on stdin counted once, and the refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def replan(haowu, db, *args: str, stdin=None):
    return haowu("--db", db, "live", "replan", "1", *args, stdin=stdin)


def test_a_replan_saves_a_version_and_says_what_changed(haowu, demo_copy: Path, tmp_path):
    ran = replan(haowu, demo_copy, "--at", "21:10", "-f", "json", "--out", tmp_path / "rest.xlsx")
    assert ran.code == 0, ran
    result = json.loads(ran.out)
    assert result["status"] == "optimal" and result["gap"] == 0
    assert result["plan_id"] == 2 and result["version"] == 2 and result["root_plan_id"] == 1
    assert result["minute"] == 70 and result["rest_from_minute"] >= 70
    assert result["expected_gain_fen"] == (
        result["new_rest_objective_fen"] - result["old_rest_objective_fen"]
    )
    assert result["expected_gain_fen"] >= 0 or result["dropped"]  # only a product gone loses
    assert {"room", "categories", "roles"} <= set(result["pace"])
    kept = result["kept"]
    assert kept and not set(kept) & {r["product_id"] for r in result["rest"]}
    assert [r["start_minute"] for r in result["rest"]][0] == result["rest_from_minute"]
    assert (tmp_path / "rest.xlsx").stat().st_size > 0
    # the version is listed, and the first plan's products presented stay in it
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    assert [(v["plan_id"], v["version"]) for v in shown["versions"]] == [(1, 1), (2, 2)]
    assert shown["versions"][1]["applies_from"] == "2026-12-01T21:10:00"
    version = json.loads(haowu("--db", demo_copy, "sessions", "show", "2", "-f", "json").out)
    first = [i["product_id"] for i in shown["items"]][: len(kept)]
    assert [i["product_id"] for i in version["items"]][: len(kept)] == first == kept
    table = haowu("--db", demo_copy, "sessions", "show", "1")
    assert "21:10" in table.out and "minute 70" in table.out
    # a second replan is version 3 of plan 1, from the version in force at 21:40
    again = replan(haowu, demo_copy, "--at", "21:40", "-f", "json")
    assert again.code == 0, again
    third = json.loads(again.out)
    assert (third["version"], third["replanned_plan_id"], third["root_plan_id"]) == (3, 2, 1)


def test_the_review_compares_each_product_with_the_version_in_force(haowu, demo_copy: Path):
    assert replan(haowu, demo_copy, "--at", "21:10").code == 0
    ran = haowu("--db", demo_copy, "report", "session", "1", "-f", "json")
    assert ran.code == 0, ran
    report = json.loads(ran.out)
    products = report["tables"]["products"]
    planned = [p for p in products if p["position"] is not None]
    replanned = json.loads(haowu("--db", demo_copy, "sessions", "show", "2", "-f", "json").out)
    assert [p["product_id"] for p in planned] == [i["product_id"] for i in replanned["items"]]
    starts = {i["product_id"]: i["start"] for i in replanned["items"]}
    for product in planned:
        expected = 2 if starts[product["product_id"]] >= "21:10" else 1
        assert product["plan_version"] == expected, product
    assert any("version in force" in n for n in report["notes"])


def test_a_dry_run_saves_nothing_and_the_table_speaks(haowu, demo_copy: Path):
    ran = replan(haowu, demo_copy, "--at", "21:10", "--dry-run")
    assert ran.code == 0, ran
    assert "expected gain" in ran.out and "the run sheet for the rest of the night" in ran.out
    assert "not saved (--dry-run)" in ran.err
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    assert len(shown["versions"]) == 1


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["live", "replan", "99", "--at", "21:10"], 1, "no plan 99"),
        (["live", "replan", "1", "--at", "9:5"], 2, "HH:MM"),
        (["live", "replan", "1", "--at", "21:10", "--session", "2"], 2, "has no session 2"),
        (["live", "replan", "1", "--at", "23:30"], 2, "no minutes left"),
        (["live", "replan", "1", "--at", "22:45"], 1, "no plan for the rest of the night"),
        (["live", "replan", "1", "--at", "21:10", "-f", "csv"], 2, "table or JSON"),
        (["live", "replan", "1", "--at", "21:10", "--orders", "nope.csv"], 2, "no such file"),
    ],
)
def test_replan_refusals(haowu, demo_copy, args, code, message):
    ran = haowu("--db", demo_copy, *args)
    assert ran.code == code, ran
    assert message in ran.err, ran
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    assert len(shown["versions"]) == 1  # nothing saved


def order_line(order_id: str, product: str, at: str, units: int, amount: str) -> str:
    return json.dumps(
        {
            "order_id": order_id,
            "product_id": product,
            "anchor_id": "A005",
            "quantity": units,
            "paid_amount": amount,
            "paid_at": f"2026-12-01 {at}",
            "status": "已付款",
            "commission_rate": "40%",
        },
        ensure_ascii=False,
    )


def test_orders_on_stdin_go_through_the_import_once(haowu, demo_copy: Path):
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    first = shown["items"][0]["product_id"]
    lines = "\n".join(
        [
            order_line("S1", first, "20:00:30", 2, "19.80"),
            order_line("S2", first, "20:01:00", 1, "9.90"),
        ]
    )
    args = [
        "--db",
        demo_copy,
        "live",
        "1",
        "--orders",
        "-",
        "--once",
        "--at",
        "20:02",
        "-f",
        "json",
    ]
    before = json.loads(haowu(*args, stdin="").out)
    once = haowu(*args, stdin=lines)
    assert once.code == 0, once
    again = haowu(*args, stdin=lines)  # the poller printed them again: counted once
    figures, repeat = json.loads(once.out), json.loads(again.out)

    def units(snapshot: dict) -> int:
        return next(p["units"] for p in snapshot["products"] if p["product_id"] == first)

    assert units(figures) == units(before) + 3 == units(repeat)
    assert figures["untimed_orders"] == before["untimed_orders"]  # paid_at gave the time
    assert figures["clock"]["selling"] == first
    assert figures["imports"][0]["inserted"] == 2 and repeat["imports"][0]["unchanged"] == 2
    bad = haowu(*args, stdin=lines + "\n{not json")
    assert bad.code == 1 and "stdin line 3" in bad.err, bad
    assert units(json.loads(haowu(*args, stdin="").out)) == units(figures)  # nothing half-read


def test_the_old_form_of_live_still_works_beside_replan(haowu, demo_copy: Path, tmp_path):
    ran = haowu("--db", demo_copy, "live", "1", "--orders", tmp_path, "--once", "--at", "20:30")
    assert ran.code == 0, ran
    same = haowu(
        "--db", demo_copy, "live", "follow", "1", "--orders", tmp_path, "--once", "--at", "20:30"
    )
    assert same.code == 0 and same.out == ran.out
    assert "replan" in haowu("live", "--help").out


def test_the_live_views_replan_saves_a_version_the_view_then_follows(demo_copy: Path):
    """The `r` key's work as a plain function: the rest re-planned from the minute shown and
    saved, what changed returned for the view, and the figures then of the new version; a
    replan that cannot be made is a line on the view, not an error."""
    from datetime import datetime

    from haowu_cli.commands.common import AppContext
    from haowu_cli.commands.live import figures_at, replan_from_view
    from haowu_cli.config import packaged_path
    from haowu_cli.live import session_sheet
    from haowu_cli.planner.rules import load_rules
    from haowu_cli.render import Output
    from haowu_cli.store import plan_items, plan_versions

    configs = packaged_path("configs")
    app = AppContext(
        db=demo_copy,
        config_dir=configs,
        quiet=True,
        traceback=False,
        lock_timeout=5.0,
        out=Output(),
    )
    at = datetime(2026, 12, 1, 21, 10, 37)
    with app.store().read() as con:
        sheet = session_sheet(1, plan_items(con, 1), 1)
    rules = load_rules(configs)
    assert figures_at(app.store(), sheet, rules, at, follow_versions=True)["plan_id"] == 1
    lines, tables = replan_from_view(app, 1, 1, at)
    text = "\n".join(lines)
    assert "re-planned at 21:10 (minute 70)" in text, text
    assert "expected gain" in text
    assert "saved as plan 2, version 2 of plan 1; the view follows it" in text
    assert all(title == "changes" for _frame, _columns, title in tables)
    assert figures_at(app.store(), sheet, rules, at, follow_versions=True)["plan_id"] == 2
    with app.store().read() as con:
        assert plan_versions(con, 1)["version"].to_list() == [1, 2]
    lines, tables = replan_from_view(app, 99, 1, at)
    assert lines == ["re-plan at 21:10 not made: no plan 99"] and tables == []


def test_r_in_the_live_view_replans_and_the_terminal_comes_back(
    haowu, demo_copy, tmp_path, home, on_engine
):
    """On a terminal (stdin and stdout a pty) the view shows the key, `r` re-plans and saves
    a version, and after Ctrl-C (exit 130) the terminal has its settings back."""
    import os
    import termios

    from tests.process.conftest import OnTerminal

    args = ["--db", demo_copy, "live", "1", "--orders", tmp_path, "--at", "21:10"]
    args, env = on_engine([*args, "--interval", "0.2"])
    view = OnTerminal(args, cwd=tmp_path, home=home, stdin="terminal", env=env)
    settings = termios.tcgetattr(view.follower)

    def read_until(text: bytes) -> None:
        assert view.read_until(text), view.seen.decode(errors="replace")

    read_until(b"press r to re-plan")
    os.write(view.leader, b"r")
    read_until(b"saved as plan 2, version 2 of plan 1")
    read_until(b"plan 2, session 1, anchor")  # the view follows the new version
    code = view.interrupt()
    assert code == 130, view.stderr()
    assert termios.tcgetattr(view.follower) == settings  # cbreak undone on the way out
    view.close()
    shown = json.loads(haowu("--db", demo_copy, "sessions", "show", "1", "-f", "json").out)
    assert [v["version"] for v in shown["versions"]] == [1, 2]


def test_with_orders_on_stdin_the_view_says_the_key_is_unavailable(
    haowu, demo_copy, tmp_path, home, on_engine
):
    """`--orders -`: stdin carries the orders, so the view says `r` is unavailable."""
    from tests.process.conftest import OnTerminal

    args = ["--db", demo_copy, "live", "1", "--orders", "-", "--at", "21:10"]
    args, env = on_engine([*args, "--interval", "0.2"])
    view = OnTerminal(args, cwd=tmp_path, home=home, stdin="pipe", env=env)
    view.read_until(b"unavailable")
    code = view.interrupt()
    view.close()
    seen = view.seen
    assert b"the r key (re-plan) is unavailable: stdin carries the orders" in seen, seen
    assert code == 130
