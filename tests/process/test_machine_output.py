"""The machine-output contract, through the real process: for every command that takes
`--format`, `json` prints exactly one JSON document on stdout and `csv` prints CSV whose header
is the documented one (README, "Output for machines"). Nothing else reaches stdout: not a
banner from a C library, not a message."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from haowu_cli.config import packaged_path

BRIEF = packaged_path("sample_data") / "brief_a005.yaml"

PRODUCT_COLUMNS = (
    "product_id,merchant_id,merchant_name,title,brand,category_l1,category_l2,category_l3,"
    "list_price,live_price,commission_rate,service_fee_rate,stock,sales_30d,gmv_30d,good_rate,"
    "refund_rate,shop_score,ship_hours,listed_at,joined_at,sample,mechanism,extra,level,"
    "total_score,benefits"
)
RUN_SHEET_COLUMNS = (
    "session,anchor_id,date,position,start,start_minute,product_id,merchant_id,title,"
    "category_l1,role,live_price,mechanism,commission_rate,service_fee_rate,stock,minutes,"
    "expected_units,expected_gmv,expected_commission,expected_team_income,objective_value,note"
)
PLAN_KEYS = {
    "plan_id",
    "status",
    "objective",
    "bound",
    "gap",
    "brief",
    "problems",
    "warnings",
    "solver",
    "sessions",
    "items",
    "candidates",
}
REPORT_KEYS = {"report", "title", "subtitle", "figures", "tables", "notes"}

# command path -> (arguments after it, documented CSV header or None when the command has no
# CSV, what its JSON is: "rows" (an array of objects with the CSV's keys) or a set of keys)
CASES: dict[str, tuple[list[str], str | None, object]] = {
    "products": ([], PRODUCT_COLUMNS, "rows"),
    "live follow": (
        ["1", "--orders", "@folder", "--once", "--at", "20:30"],
        None,
        {
            "plan_id",
            "session",
            "anchor_id",
            "at",
            "start",
            "minute",
            "minutes",
            "state",
            "clock",
            "gmv_fen",
            "expected_gmv_by_now_fen",
            "pace",
            "planned_gmv_fen",
            "orders",
            "untimed_orders",
            "orders_per_minute",
            "recent_orders_per_minute",
            "refunds",
            "refund_fen",
            "team_income_fen",
            "planned_team_income_fen",
            "stock_warnings",
            "products",
            "off_sheet",
            "imports",
        },
    ),
    "live replan": (
        ["1", "--at", "21:10", "--dry-run"],
        None,
        {
            "plan_id",
            "version",
            "root_plan_id",
            "replanned_plan_id",
            "session",
            "at",
            "minute",
            "rest_from_minute",
            "status",
            "objective_fen",
            "bound_fen",
            "gap",
            "pace",
            "old_rest_objective_fen",
            "new_rest_objective_fen",
            "expected_gain_fen",
            "kept",
            "dropped",
            "added",
            "moved",
            "rest",
            "problems",
            "warnings",
            "solver",
            "imports",
        },
    ),
    "anchors": (
        [],
        "anchor_id,name,fans,female_share,age_band,avg_ticket,categories,gmv_per_hour,mcn,"
        "mcn_share",
        "rows",
    ),
    "grade": (
        ["--dry-run", "--as-of", "2026-11-22"],
        None,
        {
            "run_id",
            "as_of",
            "merchant_id",
            "products",
            "levels",
            "moved_up",
            "moved_down",
            "previous_as_of",
            "config_fingerprint",
            "seconds",
            "dry_run",
            "l0_basis",
            "undated_products",
        },
    ),
    "grade explain": (
        ["@product"],
        "product_id,as_of,level,total,dimension,dimension_label,dimension_score,"
        "dimension_weight,input,input_label,value,input_score,input_weight,benefits,l0_basis",
        "rows",
    ),
    "match products": (
        ["--anchor", "A001", "--date", "2026-12-05"],
        "rank,product_id,merchant_id,title,category_l1,level,role,live_price,commission_rate,"
        "expected_units,expected_gmv,expected_commission,expected_team_income,potential",
        "rows",
    ),
    "match anchors": (
        ["--merchant", "M1001", "--date", "2026-12-05", "--goal", "20万"],
        "rank,anchor_id,anchor_name,score,fit,expected_gmv,expected_commission,"
        "expected_team_income,session_products,session_minutes,gmv_per_hour,"
        "gmv_per_hour_default,avg_ticket,median_price,price_to_ticket,categories_matched,"
        "category_score,price_score,female_share,audience_female_share,female_share_score,"
        "age_band,audience_age_bands,age_band_score,history_sessions,history_orders,"
        "merchant_orders,history_score,goal_session",
        {
            "merchant_id",
            "date",
            "products",
            "eligible",
            "not_eligible",
            "session_minutes",
            "session_max_products",
            "anchors",
            "goal",
        },
    ),
    "grade changes": (
        [],
        "product_id,merchant_id,title,previous_as_of,previous_level,as_of,level,direction",
        "rows",
    ),
    "plan-session": (["--brief", str(BRIEF), "--dry-run"], RUN_SHEET_COLUMNS, PLAN_KEYS),
    "sessions": (
        [],
        "plan_id,created_at,status,objective,objective_value,anchors,date,sessions,products",
        "rows",
    ),
    "sessions show": (["1"], RUN_SHEET_COLUMNS, PLAN_KEYS | {"created_at", "versions"}),
    "commission": (["--as-of", "2026-12-31"], "party,item,estimated,settled", "rows"),
    "report session": (
        ["1", "--as-of", "2026-12-31"],
        "position,start,product_id,merchant_id,title,category_l1,role,minutes,expected_units,"
        "plan_version,expected_gmv,orders,units,gmv,refund,refund_rate,achievement,verdict,"
        "regular",
        REPORT_KEYS,
    ),
    "report merchants": (
        [],
        "merchant_id,merchant_name,orders,gmv,previous_gmv,growth,reached,next,gap,activities,"
        "discount_eligible",
        REPORT_KEYS,
    ),
    "report grades": ([], "level,products,share,benefits", REPORT_KEYS),
    "reconcile": (
        ["@settlement"],
        "platform_order_id,product_id,party,state,platform,haowu,difference,settled_at,"
        "haowu_settles_on",
        REPORT_KEYS,
    ),
    "import": (
        ["--dry-run", "@sheet"],
        None,
        "import",
    ),
    "activity list": (
        [],
        "activity_id,name,activity_type,apply_until,starts_at,ends_at,applications,passed,"
        "rejected,manual,pending",
        "rows",
    ),
    "activity show": (
        ["A1212"],
        "merchant_id,product_id,title,category_l1,activity_price,commission_rate,stock,result,"
        "reasons,decided_at,decided_by",
        {
            "activity_id",
            "name",
            "type",
            "apply_until",
            "windows",
            "categories",
            "anchors",
            "merchants",
            "rules",
            "rules_fingerprint",
            "applications",
        },
    ),
    "activity history": (
        ["A1212"],
        "decision_id,product_id,decided_at,status,reasons,decided_by,manual,rules_fingerprint,"
        "level",
        "rows",
    ),
    "activity review": (
        ["A1212", "--dry-run"],
        None,
        {
            "activity_id",
            "dry_run",
            "rules_fingerprint",
            "applications",
            "passed",
            "rejected",
            "manual",
            "kept_manual",
            "decisions_recorded",
        },
    ),
    "activity export": (["A1212"], None, "audit"),
    "merchants": (
        ["--month", "2026-12"],
        "merchant_id,name,joined_on,joined_from,new_until,new_merchant,new_window_gmv,"
        "new_cap_left,shop_score,month,activities_this_month,gmv_this_month,discount_eligible",
        "rows",
    ),
    "report activity": (["A1212"], "status,result,applications", REPORT_KEYS),
}

IMPORT_KEYS = {
    "file",
    "status",
    "encoding",
    "rows_read",
    "inserted",
    "updated",
    "unchanged",
    "rejected",
    "skipped",
    "unknown_columns",
    "rejects_file",
    "import_id",
    "seconds",
    "error",
    "ledger_posted",
    "ledger_reversed",
    "source",
    "personal_columns_dropped",
    "self_operated_rows",
}


def commands_with_format() -> set[str]:
    """Every command path of the real app that takes `--format`."""
    import typer.main

    from haowu_cli.cli import app

    found: set[str] = set()

    def walk(command, path: list[str]) -> None:
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, sub_name])
        if any("--format" in getattr(p, "opts", []) for p in command.params):
            found.add(" ".join(path))

    walk(typer.main.get_command(app), [])
    return found


def test_every_command_with_format_is_covered():
    assert commands_with_format() == set(CASES)


def _args(command: str, extra: list[str], db: Path, tmp_path: Path) -> list[str]:
    args = ["--db", str(db), *command.split()]
    for item in extra:
        if item == "@product":
            args.append("1001020000493")
        elif item == "@sheet":
            sheet = tmp_path / "sheet.csv"
            shutil.copyfile(packaged_path("sample_data") / "m1001_beauty_gbk.csv", sheet)
            args.append(str(sheet))
        elif item == "@folder":  # a folder of no export file (haowu live)
            args.append(str(tmp_path))
        elif item == "@settlement":  # a 结算明细 with its header and no line: all matched
            sheet = tmp_path / "settlement.csv"
            with (packaged_path("sample_data") / "platform" / "settlement.csv").open(
                encoding="utf-8-sig"
            ) as source:
                sheet.write_text(source.readline(), encoding="utf-8-sig")
            args.append(str(sheet))
        else:
            args.append(item)
    return args


@pytest.mark.parametrize("command", sorted(CASES))
def test_json_is_one_document(haowu, demo_copy, tmp_path, command):
    extra, header, shape = CASES[command]
    ran = haowu(*_args(command, extra, demo_copy, tmp_path), "--format", "json")
    assert ran.code in (0, 3), ran
    document = json.loads(ran.out)  # one document, nothing before or after it
    if shape == "rows":
        assert isinstance(document, list), ran
        for row in document:
            assert list(row) == header.split(","), ran
    elif shape == "import":
        assert isinstance(document, list) and document, ran
        assert set(document[0]) == IMPORT_KEYS, ran
    elif shape == "audit":  # the platform's audit items (haowu activity export)
        assert isinstance(document, list) and document, ran
        assert all(set(item) == {"itemId", "itemAuditStatus", "reason"} for item in document)
    else:
        assert isinstance(document, dict) and set(document) == shape, ran


@pytest.mark.parametrize("command", sorted(c for c, case in CASES.items() if case[1]))
def test_csv_has_the_documented_header(haowu, demo_copy, tmp_path, command):
    extra, header, _shape = CASES[command]
    ran = haowu(*_args(command, extra, demo_copy, tmp_path), "--format", "csv")
    assert ran.code == 0, ran
    rows = list(csv.reader(io.StringIO(ran.out)))
    assert rows, ran
    assert ",".join(rows[0]) == header, ran
    assert all(len(row) == len(rows[0]) for row in rows), ran
