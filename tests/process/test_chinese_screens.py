"""What a Chinese team leader reads: the screens for people show Chinese words, not English,
raw keys or two columns headed alike; `--lang en` shows English; machine output keeps its
stable English keys and values in both languages."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.process.conftest import HAOWU, clean_env, file_only, run_haowu

EXPLAINED = "1006020111246"  # 翡翠葫芦耳钉: brand named, sample given


@pytest.fixture
def speak(tmp_path: Path, home: Path, demo_copy: Path, on_engine):
    """`speak(lang, *args)`: haowu on a copy of the demo database, in Chinese (lang None, the
    default) or `--lang lang`."""

    def run(lang: str | None, *args: str):
        given = ["--lang", lang] if lang else []
        args_, on_lake = on_engine([*given, "--db", demo_copy, *args])
        env = clean_env(home, COLUMNS="220", **on_lake)
        env.pop("HAOWU_LANG")
        return run_haowu(args_, cwd=tmp_path, env=env)

    return run


# `haowu demo` always makes and fills a new file of its own, whatever $HAOWU_DB says: what
# it prints is the same in a lake run, so the tests of its screens run on files only.
demo_only = file_only("`haowu demo` makes its own new file on any engine")


@pytest.fixture(scope="module")
def demo_zh(tmp_path_factory) -> str:
    """What `haowu demo` prints in Chinese (the default), on a wide terminal (its own file,
    on any engine: `demo_only`)."""
    folder = tmp_path_factory.mktemp("demo_zh")
    home = folder / "home"
    home.mkdir()
    env = clean_env(home, COLUMNS="220")
    env.pop("HAOWU_LANG")
    # stdout (the tables) and stderr (the steps' headings and notes) in one stream, in order
    done = subprocess.run(
        [str(HAOWU), "demo", "--db", "demo.duckdb"],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=400,
        check=False,
    )
    said = done.stdout.decode("utf-8", errors="replace")
    assert done.returncode == 0, said
    return said


def _step(out: str, number: int) -> str:
    """Step `number` of the demo's output, up to the next step."""
    start = out.index(f"\n{number}. ")
    end = out.find(f"\n{number + 1}. ", start)
    return out[start : end if end != -1 else None]


def _header(out: str) -> list[str]:
    """The headings of the first table in `out`."""
    line = next(row for row in out.splitlines() if row.startswith("┃"))
    return [cell.strip() for cell in line.strip("┃").split("┃")]


def test_grade_explain_reads_chinese_with_two_distinct_weights(speak):
    zh = speak(None, "grade", "explain", EXPLAINED)
    assert zh.code == 0, zh
    headings = _header(zh.out)
    assert "维度权重" in headings and "维度内权重" in headings, headings
    assert len(set(headings)) == len(headings), headings
    for english in ("brand GMV", "brand named", "shop score", "refund rate", " yes ", " h "):
        assert english not in zh.out, (english, zh)
    assert "有品牌" in zh.out and "店铺评分" in zh.out and "24 小时" in zh.out
    en = speak("en", "grade", "explain", EXPLAINED)
    assert en.code == 0 and "weight in dimension" in _header(en.out), en
    assert "brand named" in en.out and "店铺评分" not in en.out


def test_grade_explain_json_is_the_same_in_both_languages(speak):
    zh = speak(None, "grade", "explain", EXPLAINED, "--format", "json")
    en = speak("en", "grade", "explain", EXPLAINED, "--format", "json")
    assert zh.code == en.code == 0, (zh, en)
    assert json.loads(zh.out) == json.loads(en.out)


RAW_PLATFORM_KEYS = ("commission_cut", "service_fee_cut", "technical_fee")


def test_commission_tables_name_the_platform_items_in_chinese(speak, tmp_path):
    by_party = speak(None, "commission", "--as-of", "2026-12-31")
    assert by_party.code == 0, by_party
    for key in RAW_PLATFORM_KEYS:
        assert key not in by_party.out, by_party
    assert "平台：佣金抽成" in by_party.out and "平台：技术服务费" in by_party.out
    by_merchant = speak(None, "commission", "--by", "merchant", "--as-of", "2026-12-31")
    headings = _header(by_merchant.out)
    assert headings[0] == "商家ID" and "计佣基数" in headings and "二级团长" in headings, headings
    assert len(set(headings)) == len(headings), headings
    assert not any(h.isascii() for h in headings), headings
    page = tmp_path / "review.html"
    ran = speak(None, "report", "session", "1", "--as-of", "2026-12-31", "--html", str(page))
    assert ran.code == 0, ran
    html = page.read_text(encoding="utf-8")
    assert "佣金抽成" in html and not any(key in html for key in RAW_PLATFORM_KEYS)


def test_commission_machine_output_keeps_the_keys(speak):
    ran = speak(None, "commission", "--as-of", "2026-12-31", "--format", "json")
    assert ran.code == 0, ran
    items = {row["item"] for row in json.loads(ran.out) if row["party"] == "platform"}
    assert items == set(RAW_PLATFORM_KEYS)


def test_the_commission_benchmark_finds_the_reports_check_line(
    demo_copy, home, monkeypatch, databases
):
    """The benchmark prints the report's "check:" line whatever language the machine speaks
    (the report is Chinese by default: 核对：…)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from bench_commission import report_check

    for name, value in clean_env(home).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("HAOWU_LANG")
    db, data_path = databases.spec(demo_copy)  # the file, or its lake
    given = ["--data-path", data_path] if data_path else []
    line, balanced = report_check([str(HAOWU), *given], Path(db))
    assert line.startswith("check: estimated: parts ¥") and "add up to the base" in line, line
    assert balanced


def _benefits_by_product(table: str) -> dict[str, str]:
    """The 权益 cell of each product row of a products table."""
    rows = [line.strip("│").split("│") for line in table.splitlines() if line.startswith("│ 10")]
    return {cells[0].strip(): cells[-1].strip() for cells in rows}


@demo_only
def test_the_demos_product_list_shows_each_levels_benefits(demo_zh):
    listed = _benefits_by_product(_step(demo_zh, 4))
    # L4 and L3 products of the sample (configs/grading.yaml: benefits)
    assert listed["1001020000493"] == "流量加持、专属标识", listed
    assert listed["1001020037470"] == "流量加持", listed
    assert listed["1001020111513"] == "—", listed  # L2: none


def test_the_product_list_shows_each_levels_benefits(speak):
    ran = speak(None, "products", "--limit", "4")
    assert ran.code == 0 and _benefits_by_product(ran.out)["1001020000493"] == "流量加持、专属标识"


@demo_only
def test_a_plan_is_called_jihua_throughout_the_demo(demo_zh):
    assert "方案" not in demo_zh
    live = _step(demo_zh, 12)
    assert "计划 2" in live and "live.duckdb" in live, live
    assert "副本" in live  # it says the live step works in a copy of the demo database


CHINESE_ROLES = ("引流款", "主推款", "利润款", "形象款")


def test_roles_and_notes_are_words_of_the_language_and_keys_for_machines(speak):
    zh, en = speak(None, "sessions", "show", "1"), speak("en", "sessions", "show", "1")
    assert zh.code == en.code == 0, (zh, en)
    assert all(role in zh.out for role in CHINESE_ROLES) and "开场" in zh.out, zh
    assert not any(role in en.out for role in CHINESE_ROLES), en
    assert "deal item" in en.out and "hero item" in en.out and "opening" in en.out, en
    for note in ("开场", "高峰", "收尾"):
        assert note not in en.out, en
    machine = [speak(lang, "sessions", "show", "1", "--format", "json") for lang in (None, "en")]
    assert machine[0].out == machine[1].out
    assert "引流款" in {item["role"] for item in json.loads(machine[1].out)["items"]}


def test_match_anchors_says_which_gmv_is_which(speak):
    ran = speak(
        None, "match", "anchors", "--merchant", "M1001", "--date", "2026-12-05", "--goal", "20万"
    )
    assert ran.code == 0, ran
    assert "单场预计GMV" in _header(ran.out), ran
    goal = next(line for line in ran.out.splitlines() if line.startswith("目标 ¥20万"))
    # the goal's sessions share the stock: their GMV is not the table's one-session figure
    assert "合计预计" in goal and "剩下的商家库存" in goal, goal


@demo_only
def test_the_demos_anchor_matches_say_which_gmv_is_which(demo_zh):
    assert "单场预计GMV" in _step(demo_zh, 11)
    assert "剩下的商家库存" in _step(demo_zh, 11)


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--pin", "1001020111513", "--min-level", "L3"], "等级 L2 低于 min_level L3"),
        (
            ["--pin", "1001020222265", "--min-commission-rate", "20%"],
            "佣金 15% 低于 min_commission_rate 20%",
        ),
    ],
)
def test_why_a_product_is_not_eligible_reads_chinese(speak, options, reason):
    brief = Path(__file__).resolve().parents[2] / "sample_data" / "brief_a005.yaml"
    ran = speak(None, "plan-session", "--brief", str(brief), *options, "--dry-run")
    assert ran.code != 0 and reason in ran.err, ran
    assert "is below" not in ran.err


@demo_only
def test_a_replan_worth_nothing_more_keeps_the_plan_and_names_its_figures(demo_zh):
    live = _step(demo_zh, 12)
    # the demo's re-plan at 21:10 finds the same products worth the same: no swap shown
    assert "无变化" in live and "调整时间" not in live, live
    gain = next(line for line in live.splitlines() if line.startswith("预计"))
    assert gain.startswith("预计团长收入增益 ¥0.00：剩下时间的团长收入按原计划 ¥"), gain


@demo_only
def test_refused_applications_name_the_sheets_own_columns(demo_zh):
    activity = _step(demo_zh, 9)
    assert "第 6 行，一级类目 '服饰'" in activity and "第 7 行，活动价 '139.00'" in activity, (
        activity
    )
    assert "category_l1" not in activity and "activity_price" not in activity


def test_plans_merchants_and_activity_reviews_read_chinese(speak):
    plans = speak(None, "sessions")
    assert plans.code == 0 and "最优" in plans.out and "团长收入" in plans.out, plans
    assert "optimal" not in plans.out and "team_income" not in plans.out
    merchants = speak(None, "report", "merchants", "--month", "2026-12")
    assert merchants.code == 0 and "（按实付）" in merchants.out and "上月为0" in merchants.out
    assert "（paid）" not in merchants.out and " new " not in merchants.out, merchants
    review = speak(None, "report", "activity", "A1212")
    assert review.code == 0 and "要求寄样（sample_required）" in review.out, review
    machine = speak(None, "report", "activity", "A1212", "--format", "json")
    assert '"sample_required"' in machine.out
