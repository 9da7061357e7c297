"""The planner's preference for a 权益 (session.yaml `prefer_benefit`) through the real
process: the solver sees the weighted values, the plan reports the real money."""

from __future__ import annotations

import json
from decimal import Decimal

from haowu_cli.config import packaged_path

BRIEF = """\
anchor: A005
date: 2026-12-05
minutes: 30
products: {min: 1, max: 2}
merchants: [M1002, M1007]
min_level: L0
min_commission_rate: 0
sequence: {open_with_deal: false, close_with_deal: false}
"""


def _plan(haowu, db, tmp_path, weight: str) -> dict:
    config = tmp_path / f"configs-{weight}"
    config.mkdir()
    text = (packaged_path("configs") / "session.yaml").read_text(encoding="utf-8")
    preferred = text.replace(
        "  benefit: 达人优选\n  weight: 0\n", f"  benefit: 流量加持\n  weight: {weight}\n"
    )
    assert preferred != text
    (config / "session.yaml").write_text(preferred, encoding="utf-8")
    brief = tmp_path / "brief.yaml"
    brief.write_text(BRIEF, encoding="utf-8")
    ran = haowu(
        "--config", config, "--db", db, "plan-session", "--brief", brief, "--dry-run", "-f", "json"
    )
    assert ran.code == 0, ran
    return json.loads(ran.out)


def test_a_preferred_plan_reports_its_real_objective(haowu, demo_db, tmp_path):
    plain = _plan(haowu, demo_db, tmp_path, "0")
    weighted = _plan(haowu, demo_db, tmp_path, "1")  # L3–L5 grant 流量加持: worth double
    for plan in (plain, weighted):
        items = sum(Decimal(i["objective_value"]) for i in plan["items"])
        assert Decimal(plan["objective"]["value"]) == items  # the money, not the weights
    # No plan is worth more than the optimum without a preference; the bound is the solver's
    # (of the weighted values).
    assert Decimal(weighted["objective"]["value"]) <= Decimal(plain["objective"]["value"])
    assert Decimal(weighted["bound"]) > Decimal(weighted["objective"]["value"])
