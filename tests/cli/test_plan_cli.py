"""`haowu plan-session`, `haowu sessions`, `haowu export run-sheet` on the bundled samples:
the run sheet, the JSON contract, saved plans, infeasible and broken briefs."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from haowu_cli.commands.demo import SAMPLE_DATE
from haowu_cli.config import packaged_path
from haowu_cli.grading import grade_products, load_model
from haowu_cli.ingest.columns import load_kind
from haowu_cli.ingest.pipeline import ImportOptions, import_files
from haowu_cli.store import Store

BRIEF = """\
anchor: A005
date: 2026-12-01
start: "20:00"
minutes: 180
products: {min: 16, max: 24}
min_level: L2
min_commission_rate: 15%
max_per_merchant: 4
categories: {食品: {max: 6}, 家居: {min: 2}}
roles: {引流款: {min: 3}}
objective: team_income
"""


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The bundled sample sheets and anchors, imported and graded once."""
    folder = tmp_path_factory.mktemp("samples")
    store = Store(folder / "samples.duckdb", lock_timeout=10)
    configs = packaged_path("configs")
    sheets = sorted(packaged_path("sample_data").glob("m*.*"))
    options = ImportOptions(rejects_path=folder)
    import_files(store, sheets, load_kind("products", configs), options)
    anchors = [packaged_path("sample_data") / "anchors.csv"]
    import_files(store, anchors, load_kind("anchors", configs), options)
    grade_products(store, load_model(configs), SAMPLE_DATE)
    return store.path


@pytest.fixture
def planner(cli, tmp_path, sample_db):
    shutil.copy(sample_db, tmp_path / "h.duckdb")
    (tmp_path / "brief.yaml").write_text(BRIEF, encoding="utf-8")

    def invoke(*args):
        return cli("--db", "h.duckdb", *args)

    return invoke


def plan_json(planner, *args):
    result = planner("plan-session", "--brief", "brief.yaml", "--format", "json", *args)
    return result, json.loads(result.out)


def test_plan_session_shows_the_run_sheet_and_saves_the_plan(planner):
    result = planner("plan-session", "--brief", "brief.yaml")
    assert result.code == 0, result.err
    assert "plan 1, session 1: anchor A005 on 2026-12-01 from 20:00, 180 minutes" in result.out
    assert "objective team income: ¥" in result.out and "(optimal)" in result.out
    assert "opening" in result.out and "closing" in result.out  # 开场, 收尾 in English
    assert "optimal:" in result.err and "saved as plan 1" in result.err
    listed = planner("sessions", "--format", "json")
    [saved] = json.loads(listed.out)
    assert (saved["plan_id"], saved["status"], saved["anchors"]) == (1, "optimal", "A005")


def test_json_holds_the_plan_the_brief_and_every_candidate(planner, tmp_path):
    result, plan = plan_json(planner)
    assert result.code == 0
    assert plan["status"] == "optimal" and plan["plan_id"] == 1
    assert plan["objective"]["name"] == "team_income"
    assert plan["objective"]["value"] == plan["bound"]
    assert plan["brief"]["sessions"][0]["min_commission_rate"] == "0.15"
    items, candidates = plan["items"], plan["candidates"]
    assert len(candidates) == 49  # every product considered
    assert {c["product_id"] for c in candidates if c["chosen"]} == {i["product_id"] for i in items}
    for candidate in candidates:
        assert candidate["eligible"] == (candidate["reason"] is None)
    # The plan keeps the brief.
    assert 16 <= len(items) <= 24
    assert sum(i["minutes"] for i in items) <= 180
    assert sum(i["category_l1"] == "食品" for i in items) <= 6
    assert sum(i["category_l1"] == "家居" for i in items) >= 2
    assert sum(i["role"] == "引流款" for i in items) >= 3
    merchants = [i["merchant_id"] for i in items]
    assert max(merchants.count(m) for m in merchants) <= 4
    assert all(c["eligible"] for c in candidates if c["chosen"])
    # Times add up, and the objective is the sum of the items' values, to the fen.
    for before, after in zip(items, items[1:], strict=False):
        assert after["start_minute"] == before["start_minute"] + before["minutes"]
    total = sum(int(i["objective_value"].replace(".", "")) for i in items)
    assert f"{total // 100}.{total % 100:02d}" == plan["objective"]["value"]
    assert items[0]["role"] == "引流款" and items[-1]["role"] == "引流款"
    # The saved plan shows the same run sheet.
    shown = json.loads(planner("sessions", "show", "1", "--format", "json").out)
    assert shown["items"] == items and shown["objective"] == plan["objective"]


def test_export_run_sheet_for_excel(planner, tmp_path):
    assert planner("plan-session", "--brief", "brief.yaml").code == 0
    result = planner("export", "run-sheet", "1", "--excel", "--out", "rs.csv")
    assert result.code == 0 and "wrote the run sheet of plan 1" in result.err
    data = (tmp_path / "rs.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("session,anchor_id,date,position,start,start_minute,product_id")
    assert lines[1].startswith("1,A005,2026-12-01,1,20:00,0,")


def test_command_line_options_override_the_brief(planner):
    result, plan = plan_json(planner, "--max-products", "18", "--objective", "gmv", "--dry-run")
    assert result.code == 0 and plan["plan_id"] is None
    assert len(plan["items"]) <= 18 and plan["objective"]["name"] == "gmv"
    assert plan["brief"]["sessions"][0]["products"] == {"min": 16, "max": 18}
    assert json.loads(planner("sessions", "--format", "json").out) == []  # dry run: not saved


def test_pinned_and_excluded_products(planner):
    _, free = plan_json(planner, "--dry-run")
    chosen = [i["product_id"] for i in free["items"]]
    left_out = next(c for c in free["candidates"] if c["eligible"] and not c["chosen"])
    _, plan = plan_json(
        planner, "--dry-run", "--pin", left_out["product_id"], "--exclude-product", chosen[0]
    )
    ids = [i["product_id"] for i in plan["items"]]
    assert left_out["product_id"] in ids and chosen[0] not in ids
    reasons = {c["product_id"]: c["reason"] for c in plan["candidates"]}
    assert reasons[chosen[0]] == "excluded by exclude_products"


def test_an_infeasible_brief_says_why_and_saves_nothing(planner, tmp_path):
    result = planner("plan-session", "--brief", "brief.yaml", "--min-commission-rate", "0.38")
    assert result.code == 1
    assert (
        "products.min = 16, but only 2 products pass min_level L2, "
        "min_commission_rate 38% and stock above zero" in result.err
    )
    assert json.loads(planner("sessions", "--format", "json").out) == []
    result, plan = plan_json(planner, "--min-commission-rate", "0.38")
    assert result.code == 1 and plan["status"] == "infeasible" and plan["items"] == []
    assert plan["problems"] and len(plan["candidates"]) == 49


def test_a_broken_brief_is_a_usage_error_with_its_line(planner, tmp_path):
    (tmp_path / "brief.yaml").write_text(BRIEF + "max_per_merchnt: 2\n", encoding="utf-8")
    result = planner("plan-session", "--brief", "brief.yaml")
    assert result.code == 2
    assert "brief.yaml:12 max_per_merchnt: unknown key" in result.err


def test_an_unknown_anchor_or_plan_is_a_clear_error(planner):
    result = planner("plan-session", "--brief", "brief.yaml", "--anchor", "A999")
    assert result.code == 1 and "anchor A999 is not in the database" in result.err
    result = planner("sessions", "show", "7")
    assert result.code == 1 and "no plan 7" in result.err


def test_two_sessions_share_the_products(planner, tmp_path):
    (tmp_path / "two.yaml").write_text(
        "products: {min: 8, max: 10}\nmax_per_merchant: 3\nminutes: 100\n"
        "sessions:\n"
        "  - {anchor: A005, date: 2026-12-01, start: '20:00'}\n"
        "  - {anchor: A001, date: 2026-12-02, start: '19:30'}\n",
        encoding="utf-8",
    )
    result = planner("plan-session", "--brief", "two.yaml", "--format", "json")
    assert result.code == 0, result.err
    plan = json.loads(result.out)
    assert [s["anchor_id"] for s in plan["sessions"]] == ["A005", "A001"]
    ids = [i["product_id"] for i in plan["items"]]
    assert len(ids) == len(set(ids))  # no product in both
    con = duckdb.connect(str(tmp_path / "h.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*), count(DISTINCT session) FROM plan_items").fetchone()
    con.close()
    assert rows == (len(ids), 2)


def test_the_same_brief_gives_the_same_plan(planner):
    _, first = plan_json(planner)
    _, again = plan_json(planner)
    assert (first["plan_id"], again["plan_id"]) == (1, 2)
    assert again["items"] == first["items"] and again["objective"] == first["objective"]


def test_a_product_without_service_fee_still_plans(planner, tmp_path):
    # A merchant's sheet with the 团长服务费率 column left blank: no team income from it.
    sheet = tmp_path / "nofee.csv"
    sheet.write_text(
        "商品ID,商家ID,商品名称,一级类目,直播价,佣金率,团长服务费率\n"
        "1007020037265,M1007,泰国乳胶枕一对,家居,129,40%,\n",
        encoding="utf-8",
    )
    assert planner("import", sheet).code == 0
    result, plan = plan_json(planner, "--dry-run")
    assert result.code == 0 and plan["status"] == "optimal", result.err
    [pillow] = [c for c in plan["candidates"] if c["product_id"] == "1007020037265"]
    assert pillow["objective_value"] == "0.00"
