"""Team mode (`--db ducklake:postgres:… --data-path DIR`) on a real PostgreSQL: a throwaway
cluster started for the session (tests/pg_cluster.py). The same commands give the same
outputs as on a local file; several processes importing at once all land; `team push` and
`team pull` keep every row; a SIGKILL in the middle of an import leaves the lake consistent.

Skipped, with the reason, where PostgreSQL's server or the team extra is not installed.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import write_csv
from tests.pg_cluster import Cluster
from tests.process.conftest import (
    HAOWU,
    Ran,
    clean_env,
    interrupt_when,
    new_lake_name,
    run_haowu,
)

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture
def lake(postgres: Cluster, tmp_path: Path) -> dict[str, str]:
    """A new, empty lake: `--db` and `--data-path` as the environment gives them."""
    conninfo = postgres.create_database(new_lake_name())
    data = tmp_path / "shared"
    data.mkdir()
    return {"HAOWU_DB": f"ducklake:postgres:{conninfo}", "HAOWU_DATA_PATH": str(data)}


def _json(ran: Ran) -> object:
    assert ran.code == 0, ran
    return json.loads(ran.out)


def _scrub(value: object) -> object:
    """An output without what differs from run to run (timings, clocks, the database's name)."""
    if isinstance(value, dict):
        return {
            k: _scrub(v)
            for k, v in value.items()
            if k not in {"seconds", "started_at", "finished_at", "database", "db", "path"}
        }
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _session(run: Callable[..., Ran], sheets: Path) -> dict[str, object]:
    """Import, grade, commission and reports, as a day's work; the outputs for machines."""
    out: dict[str, object] = {}
    for kind, files in (
        ("products", ["m1001_beauty_gbk.csv", "m1002_food_utf8bom.csv", "m1004_m1005_messy.csv"]),
        ("anchors", ["anchors.csv"]),
        ("orders", ["orders_a005.csv"]),
    ):
        ran = run("import", "--kind", kind, "--format", "json", *[sheets / f for f in files])
        assert ran.code in (0, 3), ran  # 3: some rows rejected, the same on both
        out[f"import {kind}"] = _scrub(json.loads(ran.out))
    out["grade"] = _scrub(_json(run("grade", "--as-of", "2026-11-01", "--format", "json")))
    out["products"] = _json(run("products", "--format", "json"))
    for by in ("party", "merchant"):
        out[f"commission {by}"] = _json(run("commission", "--by", by, "--format", "json"))
    out["report grades"] = _json(run("report", "grades", "--as-of", "2026-11-01", "-f", "json"))
    return out


def test_the_same_outputs_as_on_a_local_file(haowu, lake, tmp_path):
    sheets = tmp_path / "sheets"  # the rejects files go next to them
    shutil.copytree(SAMPLES, sheets)
    local = _session(lambda *a: haowu("--db", tmp_path / "local.duckdb", *a), sheets)
    ran = haowu("team", "init", env=lake)
    assert ran.code == 0, ran
    assert "schema version" in ran.out + ran.err
    for rejects in sheets.glob("*.rejects.csv"):
        rejects.unlink()
    on_lake = _session(lambda *a: haowu(*a, env=lake), sheets)
    for key in local:
        assert on_lake[key] == local[key], key


def _products_sheet(folder: Path, merchant: str, rows: int) -> Path:
    header = ["商品ID", "商家ID", "商品名称", "一级类目", "直播价", "佣金率"]
    body = [
        [f"{merchant[1:]}{i:06d}", merchant, f"商品{i}", "美妆", f"{10 + i % 90}.90", "20%"]
        for i in range(rows)
    ]
    return write_csv(folder / f"{merchant}.csv", [header, *body])


def _orders_sheet(folder: Path, merchant: str, rows: int) -> Path:
    header = ["订单编号", "商品ID", "达人ID", "专场ID", "购买数量", "实付金额", "支付时间"]
    header += ["订单状态", "退款金额", "收货时间", "佣金率", "团长服务费率", "先用后付"]
    body = [
        [f"KS{merchant}{i:06d}", f"{merchant[1:]}{i:06d}", "A005", "ZC20261120A005", "1"]
        + [f"{10 + i % 90}.90", "2026-11-20 20:00:01", "已收货", "", "2026-11-23", "20%", "6%"]
        + ["否"]
        for i in range(rows)
    ]
    return write_csv(folder / f"{merchant}_orders.csv", [header, *body])


# A machine's patience with conflicts (`--lock-timeout`): room for a loaded, shared CI machine.
PATIENCE = ["--lock-timeout", "900"]


def _machine(merchant: str, folder: Path, env: dict[str, str], rows: int) -> list[Ran]:
    """One merchant at their own computer: its products, then its orders (ledger entries)."""
    products = _products_sheet(folder, merchant, rows)
    orders = _orders_sheet(folder, merchant, rows)
    return [
        run_haowu(
            [*PATIENCE, "import", "--merchant", merchant, "-f", "json", products.name],
            cwd=folder,
            env=env,
            timeout=900,
        ),
        run_haowu(
            [*PATIENCE, "import", "--kind", "orders", "-f", "json", orders.name],
            cwd=folder,
            env=env,
            timeout=900,
        ),
    ]


def _day(run: Callable[..., Ran]) -> dict[str, object]:
    """What the lake and the file are compared on: every product, order split and grade."""
    return {
        "products": _json(run("products", "-f", "json")),
        "commission party": _json(run("commission", "--by", "party", "-f", "json")),
        "commission merchant": _json(run("commission", "--by", "merchant", "-f", "json")),
        "grades": _json(run("report", "grades", "--as-of", "2026-11-25", "-f", "json")),
    }


def test_eight_merchants_import_at_once_with_grading_and_reports_alongside(lake, tmp_path, home):
    """Eight processes, each in its own working folder (a machine each), import products and
    then orders at the same time, while another grades and reads reports. DuckLake refuses
    all but one conflicting commit at a time; the others run their whole file again (the
    documented retries): every command succeeds, and the lake ends holding exactly what a
    local file holds after the same imports one after another."""
    from concurrent.futures import ThreadPoolExecutor

    env = clean_env(home, **lake)
    assert run_haowu(["team", "init"], cwd=tmp_path, env=env).code == 0
    seed = shutil.copy(SAMPLES / "m1001_beauty_gbk.csv", tmp_path)  # graders have products
    assert run_haowu(["import", seed], cwd=tmp_path, env=env).code == 0
    merchants = [f"M9{n}01" for n in range(8)]
    rows = 150
    stop = threading.Event()

    def alongside() -> list[Ran]:
        done: list[Ran] = []
        for _round in range(2):  # while the imports run (the second, if they still do)
            if done and stop.is_set():
                break
            for args in (
                [*PATIENCE, "grade", "--as-of", "2026-11-25", "-f", "json"],
                ["report", "grades", "--as-of", "2026-11-25", "-f", "json"],
                ["commission", "--by", "merchant", "-f", "json"],
            ):
                done.append(run_haowu(args, cwd=tmp_path, env=env, timeout=900))
        return done

    with ThreadPoolExecutor(len(merchants) + 1) as pool:
        reader = pool.submit(alongside)
        machines = []
        for merchant in merchants:
            folder = tmp_path / merchant
            folder.mkdir()
            machines.append(pool.submit(_machine, merchant, folder, env, rows))
        runs = [ran for machine in machines for ran in machine.result()]
        stop.set()
        read = reader.result()
    for ran in runs:
        assert ran.code == 0, ran
        assert json.loads(ran.out)[0]["rejected"] == 0, ran
    for ran in read:
        assert ran.code == 0, ran
    # grade once more after the last import, then compare with a file fed the same sheets
    assert run_haowu(["grade", "--as-of", "2026-11-25"], cwd=tmp_path, env=env).code == 0
    on_lake = _day(lambda *a: run_haowu(list(a), cwd=tmp_path, env=env))
    local = clean_env(home, HAOWU_DB=str(tmp_path / "local.duckdb"))
    assert run_haowu(["import", seed], cwd=tmp_path, env=local).code == 0
    sheets = [tmp_path / m / f"{m}.csv" for m in merchants]  # 商家ID in every row
    assert run_haowu(["import", *sheets], cwd=tmp_path, env=local).code == 0
    orders = [tmp_path / m / f"{m}_orders.csv" for m in merchants]
    assert run_haowu(["import", "--kind", "orders", *orders], cwd=tmp_path, env=local).code == 0
    assert run_haowu(["grade", "--as-of", "2026-11-25"], cwd=tmp_path, env=local).code == 0
    on_file = _day(lambda *a: run_haowu(list(a), cwd=tmp_path, env=local))
    products = on_lake["products"]
    assert isinstance(products, list)
    ids = [p["product_id"] for p in products]
    assert len(ids) == len(set(ids))  # no product stored twice
    for merchant in merchants:
        assert sum(p["merchant_id"] == merchant for p in products) == rows, merchant
    for key in on_file:
        assert on_lake[key] == on_file[key], key


def test_push_then_pull_keeps_every_row(haowu, lake, demo_copy, tmp_path):
    import duckdb

    ran = haowu("team", "push", "--from", demo_copy, env=lake)
    assert ran.code == 0, ran
    assert "every table checked" in ran.out + ran.err
    again = haowu("team", "push", "--from", demo_copy, env=lake)
    assert again.code == 1 and "already holds data" in again.err, again
    # the lake answers as the file did
    for args in (["commission", "--by", "party", "-f", "json"], ["products", "-f", "json"]):
        assert _json(haowu(*args, env=lake)) == _json(haowu("--db", demo_copy, *args))
    back = tmp_path / "back.duckdb"
    ran = haowu("team", "pull", "--to", back, env=lake)
    assert ran.code == 0, ran
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{demo_copy}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{back}' AS b (READ_ONLY)")
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = 'a' "
            "AND table_type = 'BASE TABLE'"
        ).fetchall()
    ]
    assert {"products", "orders", "ledger_postings", "grades", "plans"} <= set(tables)
    for table in [*tables, "ledger"]:  # and the ledger's entries (a view of its postings)
        for x, y in (("a", "b"), ("b", "a")):
            missing = con.execute(
                f"SELECT count(*) FROM (SELECT * FROM {x}.{table} EXCEPT ALL "
                f"SELECT * FROM {y}.{table})"
            ).fetchone()
            assert missing == (0,), (table, x, y)
    # the pulled file numbers new imports after the old ones
    top = con.execute("SELECT max(import_id) FROM a.imports").fetchone()
    con.close()
    sheet = shutil.copy(SAMPLES / "m1003_daily_m1007_home.csv", tmp_path)
    ran = haowu("--db", back, "import", "-f", "json", sheet)
    assert ran.code == 0, ran
    assert json.loads(ran.out)[0]["import_id"] > top[0]  # no id taken twice


def _kill_when(args: list[str], cwd: Path, env: dict[str, str], folder: Path) -> None:
    """Start haowu and SIGKILL it once a data file appears in `folder`: its data files are
    written before the catalog commits them, so the kill lands before or during the commit."""
    process = subprocess.Popen(
        [str(HAOWU), *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not any(folder.rglob("*.parquet")) and process.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert process.poll() is None, "haowu ended before its data files were seen"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def test_sigkill_mid_import_leaves_the_lake_consistent(lake, tmp_path, home):
    """Killed while writing products (the first data file), then while writing the ledger
    (the last data file an orders import writes before the catalog commits): all of each
    import or none of it, and the next run completes."""
    env = clean_env(home, **lake)
    assert run_haowu(["team", "init"], cwd=tmp_path, env=env).code == 0
    rows = 20_000
    sheet = _products_sheet(tmp_path, "M9999", rows)
    data = Path(lake["HAOWU_DATA_PATH"])
    _kill_when(["import", sheet.name], tmp_path, env, data)
    products = _json(run_haowu(["products", "-f", "json"], cwd=tmp_path, env=env))
    assert isinstance(products, list)
    assert len(products) in (0, rows)  # all or nothing
    ran = run_haowu(["import", "-f", "json", sheet.name], cwd=tmp_path, env=env)
    assert ran.code == 0, ran
    products = _json(run_haowu(["products", "-f", "json"], cwd=tmp_path, env=env))
    assert isinstance(products, list)
    ids = [p["product_id"] for p in products]
    assert len(ids) == rows and len(set(ids)) == rows

    orders = _orders_sheet(tmp_path, "M9999", 5_000)
    args = ["import", "--kind", "orders", "-f", "json", orders.name]
    _kill_when(args, tmp_path, env, data / "main" / "ledger_postings")
    ran = run_haowu(args, cwd=tmp_path, env=env)
    assert ran.code == 0, ran
    [report] = json.loads(ran.out)
    # the killed import left all its orders (the rerun changes none) or none (it adds all)
    assert (report["inserted"], report["unchanged"]) in ((5_000, 0), (0, 5_000)), report
    # every order split once: commission checks each split sums to its base (else exit 1)
    ran = run_haowu(["commission", "--by", "merchant", "-f", "json"], cwd=tmp_path, env=env)
    by_merchant = _json(ran)
    local = clean_env(home, HAOWU_DB=str(tmp_path / "local.duckdb"))
    for args in (["import", sheet.name], ["import", "--kind", "orders", orders.name]):
        assert run_haowu(args, cwd=tmp_path, env=local).code == 0
    ran = run_haowu(["commission", "--by", "merchant", "-f", "json"], cwd=tmp_path, env=local)
    assert by_merchant == _json(ran)


def test_ctrl_c_mid_import_rolls_back_the_file_in_progress(lake, tmp_path, home):
    """Ctrl-C once an import's first data file appears on the lake (the rows of its first
    sheet being written): exit 130, the sheet in progress rolled back or, if its commit came
    first, said to be in; the second not started; the lake holds what the message says."""
    env = clean_env(home, **lake)
    assert run_haowu(["team", "init"], cwd=tmp_path, env=env).code == 0
    rows = 20_000
    first, second = (_products_sheet(tmp_path, m, rows) for m in ("M9998", "M9999"))
    data = Path(lake["HAOWU_DATA_PATH"])
    ran = interrupt_when(
        ["import", first.name, second.name],
        cwd=tmp_path,
        env=env,
        ready=lambda: any(data.rglob("*.parquet")),
        timeout=300,
    )
    assert ran.code == 130, ran
    assert "Traceback" not in ran.err and "this is a bug" not in ran.err, ran
    assert "1 files after it were not started" in ran.err, ran
    products = _json(run_haowu(["products", "-f", "json"], cwd=tmp_path, env=env))
    assert isinstance(products, list)
    if f"{first.name}: it was rolled back, none of it is in" in ran.err:
        assert products == []
    else:
        assert f"Ctrl-C after {first.name} was imported" in ran.err, ran
        assert sorted(p["product_id"] for p in products) == [f"9998{i:06d}" for i in range(rows)]


def test_team_commands_refuse_a_file_and_a_missing_data_path(haowu, lake, tmp_path, home):
    # run as given: the `haowu` fixture would put a lake in the file's place on a lake run
    args = ["--db", str(tmp_path / "x.duckdb"), "team", "init"]
    ran = run_haowu(args, cwd=tmp_path, env=clean_env(home))
    assert ran.code == 2 and "team commands work on a lake" in ran.err, ran
    ran = haowu("products", env={"HAOWU_DB": lake["HAOWU_DB"]})
    assert ran.code == 2 and "--data-path" in ran.err, ran
    sheet = shutil.copy(SAMPLES / "m1001_beauty_gbk.csv", tmp_path)
    ran = haowu("import", "--dry-run", sheet, env=lake)  # creates no tables on the lake
    assert ran.code == 0, ran
    ran = haowu("products", env=lake)  # not initialised yet
    assert ran.code == 1 and "team init" in ran.err, ran


def test_no_output_is_written_into_the_lakes_data_folder(postgres, demo_lake, tmp_path, home):
    """Exports, workbooks, pages, the run log and rejects aimed at the lake's shared data
    folder (DuckLake's files, on every member's mount), by its name or another: exit 2 naming
    the target and the folder, nothing written there; beside it, the same export is written."""
    template, data = demo_lake
    conninfo = postgres.create_database(new_lake_name(), template=template)
    env = clean_env(home, HAOWU_DB=f"ducklake:postgres:{conninfo}", HAOWU_DATA_PATH=str(data))
    (tmp_path / "team").symlink_to(data)  # the folder as another machine might mount it
    sheet = shutil.copy(SAMPLES / "m1001_beauty_gbk.csv", tmp_path)
    before = sorted(data.rglob("*"))
    for args, target in [
        (["export", "products", "--out", data / "p.csv"], data / "p.csv"),
        (["export", "orders", "--out", "team/o.xlsx"], "team/o.xlsx"),
        (["export", "run-sheet", "1", "--out", data / "x/../rs.xlsx"], data / "x/../rs.xlsx"),
        (["report", "session", "1", "--html", data / "r.html"], data / "r.html"),
        (["grade", "--as-of", "2026-11-22", "--log", data / "g.log"], data / "g.log"),
        (["import", sheet, "--rejects", data], data / "m1001_beauty_gbk.rejects.csv"),
    ]:
        ran = run_haowu([str(a) for a in args], cwd=tmp_path, env=env)
        assert ran.code == 2, ran
        assert f"{target} is in the lake's shared data folder ({data})" in ran.err, ran
        assert "Traceback" not in ran.err, ran
    assert sorted(data.rglob("*")) == before
    ran = run_haowu(["export", "products", "--out", "p.csv"], cwd=tmp_path, env=env)
    assert ran.code == 0 and (tmp_path / "p.csv").read_text(encoding="utf-8").count("\n") > 10
