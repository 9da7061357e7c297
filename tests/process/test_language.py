"""Both languages through the real process: Chinese by default, English with `--lang en` or
`HAOWU_LANG=en`; messages, `--help`, tables, the HTML page and the headers of files for people
follow the language (or `--headers`), while `--format json|csv` stays byte for byte the same."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.process.conftest import clean_env, run_haowu

BAD_SHEET = (
    "商品ID,商家ID,商品名称,一级类目,直播价,佣金率\n"
    "P1,M1,面霜,美妆,59.90,20%\n"
    "P2,M1,口红,美妆,abc,20%\n"
)


@pytest.fixture
def speak(tmp_path: Path, home: Path, demo_copy: Path, on_engine):
    """`speak(lang, *args)`: run haowu on a copy of the demo database; lang None: no
    language given at all (the default), "env:xx": HAOWU_LANG=xx, else `--lang xx`."""

    def run(lang: str | None, *args: str):
        given: list[str] = []
        if lang and not lang.startswith("env:"):
            given = ["--lang", lang]
        args_, on_lake = on_engine([*given, "--db", demo_copy, *args])
        env = clean_env(home, **on_lake)
        env.pop("HAOWU_LANG")
        if lang and lang.startswith("env:"):
            env["HAOWU_LANG"] = lang.removeprefix("env:")
        return run_haowu(args_, cwd=tmp_path, env=env)

    return run


def test_chinese_is_the_default_and_english_is_asked_for(speak):
    zh, en, env_en = speak(None, "--help"), speak("en", "--help"), speak("env:en", "--help")
    assert zh.code == en.code == env_en.code == 0
    assert "给快分销团长和商家的工具" in zh.out and "导入商品表" in zh.out
    assert "Tools for 快分销 team leaders" in en.out and en.out == env_en.out
    assert "界面语言" in zh.out and "Language of what people read" in en.out
    # a command's own help, options included
    zh, en = speak(None, "import", "--help"), speak("en", "import", "--help")
    assert "把商家表格" in zh.out and "被拒绝的行写到哪里" in zh.out
    assert "Import merchant sheets" in en.out and "Where to write rejected rows" in en.out


def test_a_language_haowu_does_not_speak_is_a_usage_error(speak):
    for lang in ("fr", "env:fr"):
        ran = speak(lang, "products")
        assert ran.code == 2 and "'fr' is not one of 'zh', 'en'" in ran.err, ran


@pytest.mark.parametrize(
    ("args", "zh_says", "en_says"),
    [
        (
            ["products", "--nosuch"],
            "错误：没有这个选项：--nosuch",
            "Error: No such option: --nosuch",
        ),
        (
            ["grade", "explain"],
            "错误：缺少参数 'product_id'。",
            "Error: Missing argument 'product_id'.",
        ),
        (
            ["products", "--limit", "abc"],
            "错误：'--limit' 的值无效：应为整数",
            "Error: Invalid value for '--limit': Input should be a valid integer",
        ),
    ],
)
def test_usage_errors_in_both_languages(speak, args, zh_says, en_says):
    """Typer's own copy of Click writes its usage errors in English only: haowu writes them
    itself, the English exactly as Click words it."""
    zh, en = speak(None, *args), speak("en", *args)
    assert zh.code == en.code == 2
    assert zh.err.startswith("用法：haowu ") and "查看帮助" in zh.err and zh_says in zh.err
    assert en.err.startswith("Usage: haowu ") and "for help." in en.err and en_says in en.err
    assert "Usage" not in zh.err and "Error" not in zh.err and zh.out == en.out == ""


def test_the_help_option_and_usage_line_in_chinese(speak):
    zh = speak(None, "products", "--help")
    assert zh.out.startswith("用法：haowu products") and "显示本帮助并退出" in zh.out
    assert "Show this message" not in zh.out and "Usage:" not in zh.out


def test_messages_on_stderr_in_both_languages(speak, tmp_path):
    (tmp_path / "s.csv").write_text(BAD_SHEET, encoding="utf-8")
    zh = speak(None, "import", "s.csv", "--dry-run", "--rejects", "zh.csv")
    en = speak("en", "import", "s.csv", "--dry-run", "--rejects", "en.csv")
    assert zh.code == en.code == 3, (zh, en)  # rows rejected
    assert "警告：s.csv：拒绝了 1 行" in zh.err and "第 3 行" in zh.err, zh
    assert "warning: s.csv: 1 rows rejected" in en.err and "row 3" in en.err, en
    # the rejects file for people: headed in the language, or as --headers says
    assert _header(tmp_path / "zh.csv") == ["文件", "行号", "列", "值", "原因"]
    assert _header(tmp_path / "en.csv") == ["file", "row", "column", "value", "reason"]
    speak("en", "import", "s.csv", "--dry-run", "--rejects", "x.csv", "--headers", "zh")
    assert _header(tmp_path / "x.csv")[4] == "原因"
    # an error and its hint
    zh, en = speak(None, "sessions", "show", "999"), speak("en", "sessions", "show", "999")
    assert zh.code == en.code == 1
    assert "错误：没有计划 999" in zh.err and "提示：" in zh.err, zh
    assert "error: no plan 999" in en.err and "hint: " in en.err, en


def test_tables_in_both_languages_with_one_money_form(speak):
    zh, en = speak(None, "products", "--limit", "3"), speak("en", "products", "--limit", "3")
    assert zh.code == en.code == 0
    for heading in ("商品ID", "商品名称", "直播价", "佣金比例", "服务费率"):
        assert heading in zh.out, zh
    for heading in ("product", "title", "live price", "commission rate"):
        assert heading in en.out, en
    assert "显示了 3 个商品" in zh.err and "3 products shown" in en.err
    ran = speak(None, "sessions", "show", "1")
    assert ran.code == 0 and "预计GMV ¥214,773.50" in ran.out, ran
    assert "¥6,692.40" in ran.out and "¥6692.40" not in ran.out  # grouped, as the totals


@pytest.mark.parametrize(
    "args",
    [
        ("products", "--format", "json"),
        ("products", "--format", "csv"),
        ("commission", "--format", "json", "--as-of", "2026-12-05"),
        ("report", "session", "1", "--format", "json", "--as-of", "2026-12-05"),
        ("report", "grades", "--format", "csv"),
        ("sessions", "show", "1", "--format", "json"),
    ],
)
def test_machine_output_is_the_same_in_both_languages(speak, args):
    zh, en = speak(None, *args), speak("en", *args)
    assert zh.code == en.code == 0, (zh, en)
    if "json" in args:
        zh_value, en_value = json.loads(zh.out), json.loads(en.out)
        assert _keys(zh_value) == _keys(en_value)
        if args[0] != "report":  # a report's title and notes are words for people
            assert zh_value == en_value
    else:
        assert zh.out == en.out


def test_the_page_in_both_languages(speak, tmp_path):
    args = ("report", "session", "1", "--as-of", "2026-12-05", "--html")
    assert speak(None, *args, "zh.html").code == 0
    assert speak("en", *args, "en.html").code == 0
    assert speak(None, *args, "en2.html", "--headers", "en").code == 0
    zh, en = (tmp_path / "zh.html").read_text(), (tmp_path / "en.html").read_text()
    assert '<html lang="zh-CN">' in zh and "数据复盘：计划 1" in zh and "超出 / 达成 / 未达成" in zh
    assert '<html lang="en">' in en and "Session review" in en and "beat / to plan / missed" in en
    assert "Session review" not in zh
    # --headers en: the page in English, the terminal still in Chinese
    en2 = (tmp_path / "en2.html").read_text()
    assert '<html lang="en">' in en2 and "Session review" in en2


def test_the_run_sheet_for_people_is_headed_in_the_language(speak, tmp_path):
    for lang, headers, name in [
        (None, None, "zh.csv"),
        ("en", None, "en.csv"),
        ("en", "zh", "en-zh.csv"),
        (None, "en", "zh-en.csv"),
    ]:
        more = ["--headers", headers] if headers else []
        ran = speak(lang, "export", "run-sheet", "1", "--out", name, *more)
        assert ran.code == 0, ran
    zh_header = _header(tmp_path / "zh.csv")
    assert zh_header[:8] == [
        "场次",
        "达人ID",
        "日期",
        "序号",
        "开始时间",
        "开始分钟",
        "商品ID",
        "商家ID",
    ]
    assert "直播价" in zh_header and "佣金比例" in zh_header and "预计GMV" in zh_header
    en_header = _header(tmp_path / "en.csv")
    assert en_header[:3] == ["session", "anchor_id", "date"] and "live_price" in en_header
    assert _header(tmp_path / "en-zh.csv") == zh_header
    assert _header(tmp_path / "zh-en.csv") == en_header
    # the rows are the same whatever the headers
    assert _rows(tmp_path / "zh.csv") == _rows(tmp_path / "en.csv")


def test_a_brief_in_chinese(speak, tmp_path):
    (tmp_path / "brief.yaml").write_text(
        "达人: A005\n日期: 2026/12/12\n开始时间: '20:00'\n时长: 90\n"
        "商品数: {最少: 5, 最多: 10}\n最低等级: L2\n目标: 团长收入\n",
        encoding="utf-8",
    )
    ran = speak(None, "plan-session", "--brief", "brief.yaml", "--dry-run", "--format", "json")
    assert ran.code == 0, ran
    brief = json.loads(ran.out)["brief"]
    assert brief["objective"] == "team_income"
    session = brief["sessions"][0]
    assert session["anchor"] == "A005" and session["date"] == "2026-12-12"
    assert session["minutes"] == 90 and session["products"] == {"min": 5, "max": 10}
    (tmp_path / "bad.yaml").write_text("达人: A005\n日期: 12月32日\n", encoding="utf-8")
    ran = speak(None, "plan-session", "--brief", "bad.yaml", "--dry-run")
    assert ran.code == 2 and "bad.yaml:2 日期" in ran.err and "不是有效日期" in ran.err, ran


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return next(csv.reader(stream))


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))[1:]


def _keys(value):
    if isinstance(value, dict):
        return {k: _keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keys(v) for v in value[:1]]
    return None


def test_a_report_in_chinese_shows_no_catalog_header(speak):
    """The headline table's value column has a blank heading: gettext would give the
    catalog's header for it."""
    ran = speak(None, "report", "grades")
    assert ran.code == 0, ran
    assert "要点" in ran.out and "Project-Id-Version" not in ran.out
