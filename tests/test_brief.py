"""The brief: every key, its three layers (session.yaml defaults < brief file < command
line), several sessions, and every problem reported with file:line; session.yaml checked."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError
from haowu_cli.planner.brief import Bounds, resolve_brief
from haowu_cli.planner.rules import load_rules

RULES = load_rules(packaged_path("configs"))

FULL_BRIEF = """\
anchor: A001
date: 2026-12-01
start: "19:30"
minutes: 240
products: {min: 20, max: 40}
min_level: L3
min_commission_rate: 0.15
max_per_merchant: 3
require_sample: true
categories: {美妆: {min: 3, max: 10}, 食品: {max: 8}}
roles: {引流款: {min: 2}, 利润款: {min: 5}}
pinned: [P123]
exclude_products: ["P9"]
exclude_merchants: [M7]
objective: gmv
"""


def write(tmp_path, text: str, name: str = "brief.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_brief_key_is_read(tmp_path):
    brief = resolve_brief(RULES, write(tmp_path, FULL_BRIEF), {})
    [session] = brief.sessions
    assert session.anchor == "A001" and session.date == dt.date(2026, 12, 1)
    assert session.start == dt.time(19, 30) and session.minutes == 240
    assert session.products == Bounds(20, 40)
    assert session.min_level == "L3" and session.min_commission_rate == Decimal("0.15")
    assert session.max_per_merchant == 3 and session.require_sample is True
    assert session.categories == {"美妆": Bounds(3, 10), "食品": Bounds(None, 8)}
    assert session.roles == {"引流款": Bounds(2, None), "利润款": Bounds(5, None)}
    assert session.pinned == ("P123",)
    assert session.exclude_products == ("P9",) and session.exclude_merchants == ("M7",)
    assert brief.objective == "gmv" and brief.allow_repeat is False


def test_defaults_fill_in_and_the_command_line_wins(tmp_path):
    path = write(tmp_path, "anchor: A001\ndate: 2026-12-01\nproducts: {min: 5, max: 9}\n")
    brief = resolve_brief(
        RULES, path, {"min_level": "L4", "min_commission_rate": "20%", "products": {"min": 7}}
    )
    [session] = brief.sessions
    assert session.start == dt.time(19, 0) and session.minutes == 240  # session.yaml
    assert session.min_level == "L4" and session.min_commission_rate == Decimal("0.2")
    assert session.products == Bounds(7, 9)  # --min-products keeps the brief's max
    assert brief.objective == "team_income"


def test_every_problem_is_reported_with_its_line(tmp_path):
    path = write(
        tmp_path,
        "anchor: A001\n"
        "date: 1 December\n"
        "start: 19:00\n"
        "min_comission_rate: 0.2\n"
        "products: {min: 9, max: 3}\n"
        "roles: {爆品: {min: 1}}\n"
        "pinned: [1.0012e+12]\n"
        "objective: profit\n",
    )
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, path, {})
    problems = "\n".join(caught.value.problems)
    assert f"{path}:2 date: expected a date YYYY-MM-DD" in problems
    assert f'{path}:3 start: write the time in quotes, e.g. start: "19:00"' in problems
    assert f"{path}:4 min_comission_rate: unknown key" in problems
    assert f"{path}:5 products: min 9 is above max 3" in problems
    assert f"{path}:6 roles: '爆品' is not a role in session.yaml" in problems
    assert f"{path}:7 pinned: 1001200000000.0 is not an ID; write IDs in quotes" in problems
    assert f"{path}:8 objective: expected one of gmv, commission, team_income" in problems


def test_a_missing_anchor_names_the_option():
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, None, {"date": dt.date(2026, 12, 1)})
    assert caught.value.problems == [
        "the session has no anchor: give it in the brief or with --anchor"
    ]


def test_several_sessions_take_the_brief_keys_and_their_own(tmp_path):
    path = write(
        tmp_path,
        "max_per_merchant: 2\n"
        "pinned: [P1]\n"
        "allow_repeat: true\n"
        "sessions:\n"
        "  - {anchor: A001, date: 2026-12-01}\n"
        "  - {anchor: A002, date: 2026-12-02, max_per_merchant: 4, pinned: [P2]}\n",
    )
    brief = resolve_brief(RULES, path, {"minutes": 90, "pinned": ["P3"]})
    first, second = brief.sessions
    assert (first.anchor, second.anchor) == ("A001", "A002")
    assert (first.max_per_merchant, second.max_per_merchant) == (2, 4)
    assert (first.minutes, second.minutes) == (90, 90)
    # Top-level and --pin products go to whichever session is best; a session's own to it.
    assert brief.pinned == ("P1", "P3") and first.pinned == () and second.pinned == ("P2",)
    assert brief.allow_repeat is True
    with pytest.raises(ConfigError, match="--anchor: the brief lists sessions"):
        resolve_brief(RULES, path, {"anchor": "A003"})


def test_a_session_entry_with_an_unknown_key_is_refused(tmp_path):
    path = write(tmp_path, "sessions:\n  - {anchor: A1, date: 2026-12-01, objective: gmv}\n")
    with pytest.raises(ConfigError, match=r"brief.yaml:2 sessions.0.objective: unknown key"):
        resolve_brief(RULES, path, {})


def test_a_broken_session_yaml_lists_every_problem(tmp_path):
    folder = tmp_path / "configs"
    folder.mkdir()
    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - role: 利润款               # everything else is sold for its margin\n",
        "  - role: 利润款\n    when: {live_price: {min: 1}}\n",
    )
    text = text.replace("{sales_strength: {min: 0.7}}", "{margin: {min: 0.7}}")
    text = text.replace("deal_roles: [引流款]", "deal_roles: [福利款]")
    text = text.replace("default_gmv_per_hour: 10000", "default_gmv_per_hour: -5")
    (folder / "session.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules(folder)
    problems = "\n".join(caught.value.problems)
    assert "roles.2.when.margin: unknown condition 'margin'" in problems
    assert "roles.3: the last rule takes every product no rule above takes" in problems
    assert "sequence.deal_roles: '福利款' is not a role of the rules above" in problems
    assert "expected_sales.default_gmv_per_hour: -5 is not yuan ≥ 0" in problems
    assert all(str(folder / "session.yaml") in p for p in caught.value.problems)


def test_the_packaged_session_yaml_is_valid(tmp_path):
    shutil.copy(packaged_path("configs") / "session.yaml", tmp_path / "session.yaml")
    rules = load_rules(tmp_path)
    assert rules.role_names == ("引流款", "形象款", "主推款", "利润款")
    assert rules.sequence.deal_every == 4


def test_an_impossible_date_is_listed_with_every_other_problem(tmp_path):
    path = write(
        tmp_path, "anchor: A001\ndate: 2026-13-01\nminutes: 0\nmin_level: L9\nstart: '25:00'\n"
    )
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, path, {})
    assert sorted(caught.value.problems) == sorted(
        [
            f"{path}:2 date: '2026-13-01' is not a real date: month must be in 1..12",
            f"{path}:3 minutes: expected minutes 1–1440, got 0",
            f"{path}:4 min_level: expected a level L0–L5, got 'L9'",
            f"{path}:5 start: expected a time HH:MM, got '25:00'",
        ]
    )


@pytest.mark.parametrize(
    ("written", "problem"),
    [
        ("2026-02-30", "'2026-02-30' is not a real date: day is out of range for month"),
        ("2026-12-1x", "expected a date YYYY-MM-DD, got '2026-12-1x'"),
        ("tomorrow", "expected a date YYYY-MM-DD, got 'tomorrow'"),
        ("2026-12-01 25:00:00", "expected a date YYYY-MM-DD, got '2026-12-01 25:00:00'"),
    ],
)
def test_a_date_that_is_not_one_names_its_line_and_key(tmp_path, written, problem):
    path = write(tmp_path, f"anchor: A001\nsessions:\n  - date: {written}\n")
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, path, {})
    assert caught.value.problems == [f"{path}:3 sessions.0.date: {problem}"]


def test_a_date_with_a_time_counts_by_its_date(tmp_path):
    path = write(tmp_path, "anchor: A001\ndate: 2026-12-01 19:30:00\n")
    assert resolve_brief(RULES, path, {}).sessions[0].date == dt.date(2026, 12, 1)


def test_a_top_level_value_every_session_overrides_is_still_checked(tmp_path):
    path = write(
        tmp_path,
        "date: 2026-13-12\nsessions:\n  - {anchor: A1, date: 2026-12-01}\n"
        "  - {anchor: A2, date: 2026-12-02}\n",
    )
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, path, {})
    assert caught.value.problems == [
        f"{path}:1 date: '2026-13-12' is not a real date: month must be in 1..12"
    ]


def test_a_folder_given_as_the_brief_is_named_a_folder(tmp_path):
    with pytest.raises(ConfigError) as caught:
        resolve_brief(RULES, tmp_path, {})
    assert caught.value.problems == [f"{tmp_path}: is a folder, not a YAML file"]


def test_one_end_of_products_keeps_the_other_from_the_layer_below(tmp_path):
    path = write(
        tmp_path,
        "products: {min: 5}\nsessions:\n"
        "  - {anchor: A1, date: 2026-12-01}\n"
        "  - {anchor: A2, date: 2026-12-02, products: {max: 9}}\n",
    )
    first, second = resolve_brief(RULES, path, {}).sessions
    assert first.products == Bounds(5, 40)  # max from session.yaml
    assert second.products == Bounds(5, 9)
