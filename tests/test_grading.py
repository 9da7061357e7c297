"""Grading: each scoring rule, L0, level gates, history, explanations, config checks, and the
two properties a merchant relies on: the same data gives the same grade, and a better input
never gives a lower level."""

from __future__ import annotations

import datetime as dt
import textwrap
from decimal import Decimal

import duckdb
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from haowu_cli import store as db
from haowu_cli.config import packaged_path
from haowu_cli.errors import ConfigError, HaowuError
from haowu_cli.grading import LEVEL_RANK, explain, grade_products, grading_query, load_model
from haowu_cli.store import reports

AS_OF = dt.date(2026, 11, 22)
COLUMNS = [
    "product_id",
    "merchant_id",
    "title",
    "brand",
    "category_l1",
    "category_l2",
    "category_l3",
    "list_price_fen",
    "live_price_fen",
    "commission_rate",
    "service_fee_rate",
    "stock",
    "sales_30d",
    "gmv_30d_fen",
    "good_rate",
    "refund_rate",
    "shop_score",
    "ship_hours",
    "listed_at",
    "joined_at",
    "sample",
]


def product(pid: str, **values) -> dict:
    """A typical, complete product; keyword arguments replace fields."""
    row = dict(
        product_id=pid,
        merchant_id="M1",
        title=f"商品{pid}",
        brand="花漾",
        category_l1="美妆",
        category_l2="护肤",
        category_l3=None,
        list_price_fen=19900,
        live_price_fen=8990,
        commission_rate=Decimal("0.2"),
        service_fee_rate=Decimal("0.05"),
        stock=100,
        sales_30d=1000,
        gmv_30d_fen=8990000,
        good_rate=Decimal("0.97"),
        refund_rate=Decimal("0.05"),
        shop_score=Decimal("4.7"),
        ship_hours=48,
        listed_at=dt.date(2026, 1, 1),
        joined_at=None,  # no 加入快分销 date: L0 counts from the listing date
        sample=True,
    )
    row.update(values)
    return row


def insert(con, rows: list[dict]) -> None:
    if not rows:
        return
    con.executemany(
        f"INSERT INTO products ({', '.join(COLUMNS)}, created_import_id, updated_import_id) "
        f"VALUES ({', '.join('?' for _ in COLUMNS)}, 0, 0)",
        [[r[c] for c in COLUMNS] for r in rows],
    )


def fill(store, rows: list[dict]) -> None:
    with store.write() as con:
        insert(con, rows)


def scores(con, model, as_of=AS_OF) -> dict[str, dict]:
    query = grading_query(model, as_of, detail=True)
    cursor = con.execute(query.sql, dict(query.params))
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


@pytest.fixture(scope="module")
def model():
    return load_model(packaged_path("configs"))


def memory_db(rows: list[dict]):
    con = duckdb.connect()
    db.migrate(con)
    insert(con, rows)
    return con


def write_model(tmp_path, text: str):
    folder = tmp_path / "cfg"
    folder.mkdir(exist_ok=True)
    (folder / "grading.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


SIMPLE = """
    new_product_days: 14
    dimensions:
      brand: {label: 品牌力, weight: 1, inputs: {has_brand: {weight: 1, curve: [[0, 0], [1, 100]]}}}
      price:
        label: 价格力
        weight: 1
        inputs: {discount: {weight: 1, curve: [[0, 0], [1, 100]], missing: 100}}
      distribution:
        label: 分销力
        weight: 1
        inputs: {commission_rate: {weight: 1, curve: [[0, 0], [0.5, 100]], missing: 10}}
      service:
        label: 服务力
        weight: 1
        inputs: {shop_score: {weight: 1, curve: [[4, 0], [5, 100]]}}
      sales:
        label: 销售力
        weight: 1
        inputs: {sales_30d: {weight: 1, percentile: {within: category_l1, better: higher}}}
    levels:
      L5: {min_total: 80, min_scores: {service: 90}}
      L4: {min_total: 70}
      L3: {min_total: 60}
      L2: {min_total: 40}
      L1: {min_total: 0}
"""


# --- scoring -----------------------------------------------------------------------------------


def test_percentile_within_category_with_ties_and_single_products(model):
    rows = [
        product("A", sales_30d=10),
        product("B", sales_30d=20),
        product("C", sales_30d=30),
        product("D", sales_30d=30),
        product("E", category_l1="食品", sales_30d=5),
    ]
    with memory_db(rows) as con:
        got = scores(con, model)
    sales = {pid: round(got[pid]["sc_sales_sales_30d"], 2) for pid in got}
    # Mid-rank: (values worse × 2 + ties incl. itself) / (2 × values), in percent.
    assert sales == {"A": 12.5, "B": 37.5, "C": 75.0, "D": 75.0, "E": 50.0}


def test_lower_is_better_percentile(model):
    rows = [product("A", live_price_fen=1000), product("B", live_price_fen=2000)]
    with memory_db(rows) as con:
        got = scores(con, model)
    assert got["A"]["sc_price_live_price"] > got["B"]["sc_price_live_price"]


def test_curves_interpolate_and_clamp(model):
    rows = [
        product(
            "A",
            shop_score=Decimal("4.65"),
            refund_rate=Decimal("0.05"),
            ship_hours=36,
            good_rate=Decimal("0.97"),
        ),
        product(
            "B",
            shop_score=Decimal("3.2"),
            refund_rate=Decimal("0.5"),
            ship_hours=400,
            good_rate=Decimal("1"),
        ),
    ]
    with memory_db(rows) as con:
        a, b = (scores(con, model)[p] for p in "AB")
    assert round(a["sc_service_shop_score"], 6) == 75  # between 4.5 → 60 and 4.8 → 90
    assert round(a["sc_service_refund_rate"], 6) == 80  # between 2% → 100 and 8% → 60
    assert round(a["sc_service_ship_hours"], 6) == 90  # between 24 h → 100 and 48 h → 80
    assert round(a["sc_service_good_rate"], 6) == 85
    assert (b["sc_service_shop_score"], b["sc_service_refund_rate"]) == (0, 0)  # clamped
    assert (b["sc_service_ship_hours"], b["sc_service_good_rate"]) == (0, 100)
    # service = 40% shop score + 30% refund + 15% shipping + 15% good reviews
    assert a["service"] == Decimal("80.3")


def test_missing_values_score_their_configured_score(model):
    rows = [
        product("A", shop_score=None, refund_rate=None, commission_rate=None, brand=None),
        product("B", commission_rate=Decimal("0.1")),
    ]
    with memory_db(rows) as con:
        a = scores(con, model)["A"]
    assert a["in_shop_score"] is None and a["sc_service_shop_score"] == 40
    assert a["sc_service_refund_rate"] == 50
    assert a["in_commission_rate"] is None and a["sc_distribution_commission_rate"] == 0
    assert a["in_brand_gmv_30d"] is None and a["sc_brand_brand_gmv_30d"] == 20
    assert a["in_has_brand"] == 0 and a["sc_brand_has_brand"] == 30


def test_brand_gmv_adds_up_the_brand_and_discount_compares_prices(model):
    rows = [
        product(
            "A", brand="花漾", gmv_30d_fen=30_000_000, list_price_fen=20000, live_price_fen=15000
        ),
        product("B", brand="花漾", gmv_30d_fen=70_000_000),
        product("C", brand="川味坊", gmv_30d_fen=5_000_000, list_price_fen=None),
    ]
    with memory_db(rows) as con:
        got = scores(con, model)
    assert got["A"]["in_brand_gmv_30d"] == got["B"]["in_brand_gmv_30d"] == 1_000_000
    assert got["A"]["sc_brand_brand_gmv_30d"] == 75  # the curve's ¥1M point
    assert got["A"]["in_discount"] == pytest.approx(0.25)
    assert got["C"]["in_discount"] is None and got["C"]["sc_price_discount"] == 40


def test_second_level_categories_are_compared_inside_their_first_level(model):
    rows = [
        product("A", category_l1="美妆", category_l2=None, live_price_fen=5990),
        product("B", category_l1="美妆", category_l2=None, live_price_fen=9990),
        product("F", category_l1="食品", category_l2=None, live_price_fen=1990),
    ]
    with memory_db(rows) as con:
        got = scores(con, model)
    assert (got["A"]["sc_price_live_price"], got["B"]["sc_price_live_price"]) == (75, 25)
    assert got["F"]["sc_price_live_price"] == 50  # alone in its group, not ranked with 美妆


def test_percentile_within_the_third_level(tmp_path):
    third = load_model(
        write_model(tmp_path, SIMPLE.replace("within: category_l1", "within: category_l3"))
    )
    rows = [
        product("A", category_l3="洁面", sales_30d=1),
        product("B", category_l3="洁面", sales_30d=2),
        product("C", category_l3="面霜", sales_30d=3),
        product("D", category_l2="彩妆", category_l3="洁面", sales_30d=0),  # another 二级
    ]
    with memory_db(rows) as con:
        got = scores(con, third)
    sales = {pid: got[pid]["sc_sales_sales_30d"] for pid in got}
    assert sales == {"A": 25, "B": 75, "C": 50, "D": 50}


def test_percentile_over_all_products(tmp_path):
    everything = load_model(
        write_model(tmp_path, SIMPLE.replace("within: category_l1", "within: all"))
    )
    rows = [product("A", sales_30d=1), product("B", category_l1="食品", sales_30d=2)]
    with memory_db(rows) as con:
        got = scores(con, everything)
    assert (got["A"]["sc_sales_sales_30d"], got["B"]["sc_sales_sales_30d"]) == (25, 75)


# --- levels ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed_days_ago", "sales", "is_new"),
    [(0, 0, True), (13, 0, True), (14, 0, False), (13, 5, False), (13, None, True), (-3, 0, True)],
)
def test_l0_is_a_new_product_without_sales(model, listed_days_ago, sales, is_new):
    listed = AS_OF - dt.timedelta(days=listed_days_ago)
    with memory_db([product("A", listed_at=listed, sales_30d=sales)]) as con:
        level = scores(con, model)["A"]["level"]
    assert (level == "L0") is is_new


@pytest.mark.parametrize(
    ("joined_days_ago", "listed_days_ago", "sales", "level", "basis"),
    [
        (3, 300, 0, "L0", "joined_at"),  # listed long ago, joined 快分销 three days ago
        (30, 2, 0, "L1", "joined_at"),  # listed two days ago, but joined a month ago
        (3, 300, 1, "L1", "joined_at"),  # 动销: one sale takes it out of L0
        (None, 2, 0, "L0", "listed_at"),  # no join date: the listing date stands in
        (None, 30, 0, "L1", "listed_at"),
        (None, None, 0, "L1", "none"),  # neither: graded by the other rules, flagged
    ],
)
def test_l0_counts_from_the_join_date(model, joined_days_ago, listed_days_ago, sales, level, basis):
    def ago(days):
        return None if days is None else AS_OF - dt.timedelta(days=days)

    row = product("A", joined_at=ago(joined_days_ago), listed_at=ago(listed_days_ago))
    with memory_db([{**row, "sales_30d": sales, "gmv_30d_fen": 100 * sales}]) as con:
        got = scores(con, model)["A"]
    assert (got["level"], got["l0_basis"]) == (level, basis)


def test_a_run_warns_of_the_listing_date_and_flags_undated_products(store, model):
    fill(
        store,
        [
            product("joined", joined_at=AS_OF, sales_30d=0),
            product("listed", listed_at=AS_OF, sales_30d=0),
            product("undated", listed_at=None, sales_30d=0),
            product("undated2", listed_at=None),
        ],
    )
    run = grade_products(store, model, AS_OF)
    assert run.level_counts["L0"] == 2  # joined and listed; undated is graded, not L0
    assert run.as_json()["l0_basis"] == {"joined_at": 1, "listed_at": 1, "none": 2}
    assert run.as_json()["undated_products"] == ["undated", "undated2"]
    listed, undated = run.join_date_warnings()
    assert listed == "1 product has no 加入快分销 date: L0 counted from its listing date"
    assert undated.startswith("2 products have neither a 加入快分销 date nor a listing date")
    assert undated.endswith("flagged (undated, undated2)")
    found = explain(store, model, "undated")
    assert found.grade["level"] == "L1" and found.l0_basis == "none"
    assert found.dates_note.startswith("flagged: neither a 加入快分销 date nor a listing date")
    assert "listing date 2026-11-22 instead" in explain(store, model, "listed").dates_note
    joined = explain(store, model, "joined")
    assert joined.grade["level"] == "L0" and joined.rule.startswith("L0: joined 快分销 within")
    assert joined.dates_note == "L0 counts from the 加入快分销 date 2026-11-22"


def test_level_gates(tmp_path):
    simple = load_model(write_model(tmp_path, SIMPLE))
    rows = [
        # service 80, sales 50 (a tie), the rest 100: total 86, kept below L5 by its gate
        product(
            "gated",
            list_price_fen=None,
            commission_rate=Decimal("0.5"),
            shop_score=Decimal("4.8"),
        ),
        product(
            "top", list_price_fen=None, commission_rate=Decimal("0.5"), shop_score=Decimal("5")
        ),
    ]
    with memory_db(rows) as con:
        got = scores(con, simple)
    assert got["gated"]["service"] == Decimal("80.0") and got["gated"]["level"] == "L4"
    assert got["top"]["level"] == "L5"


def test_an_unsold_product_is_never_above_l1_and_l1_means_few_sales(model):
    strong = {
        "list_price_fen": None,
        "commission_rate": Decimal("0.5"),
        "shop_score": Decimal("5"),
        "listed_at": AS_OF - dt.timedelta(days=82),  # the product: old, unsold
    }
    rows = [
        product("unsold", sales_30d=0, gmv_30d_fen=0, **strong),
        product("few", sales_30d=5, gmv_30d_fen=5000, **strong),
        product("many", sales_30d=5000, gmv_30d_fen=5_000_000, **strong),
    ]
    with memory_db(rows) as con:
        got = scores(con, model)
    assert got["unsold"]["level"] == "L1"
    assert got["few"]["level"] == "L1"  # below L2's sales gate: some sales, not many
    assert LEVEL_RANK[got["many"]["level"]] >= 2


def test_the_sales_gates_are_checked(tmp_path):
    text = SIMPLE.replace("L2: {min_total: 40}", "L2: {min_total: 40, min_sales_30d: 10}")
    text = text.replace("L3: {min_total: 60}", "L3: {min_total: 60, min_sales_30d: 5}")
    text = text.replace("L1: {min_total: 0}", "L1: {min_total: 0, min_sales_30d: -1}")
    with pytest.raises(ConfigError) as caught:
        load_model(write_model(tmp_path, text))
    problems = "\n".join(caught.value.problems)
    assert "L3 asks fewer sales (5) than L2 (10)" in problems
    assert "levels.L1.min_sales_30d: expected a whole number of units" in problems


def test_each_level_has_its_benefits(model):
    assert model.benefits_of("L5") == ("流量加持", "专属标识", "官方补贴", "达人优选")
    assert all(model.benefits_of(level) == () for level in ("L0", "L1", "L2"))
    assert model.benefits_of(None) == ()


# --- runs and history --------------------------------------------------------------------------


def test_a_run_is_recorded_and_rerunning_a_date_replaces_it(store, model):
    fill(store, [product("A"), product("B", sales_30d=5)])
    first = grade_products(store, model, AS_OF)
    with store.write() as con:
        con.execute(
            "UPDATE products SET sales_30d = 50000, gmv_30d_fen = 10^10 WHERE product_id = 'B'"
        )
    again = grade_products(store, model, AS_OF)
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM grades").fetchone() == (2,)
        runs = con.execute(
            "SELECT run_id, as_of, products, config_fingerprint FROM grade_runs"
        ).fetchall()
    assert runs == [
        (first.run_id, AS_OF, 2, model.fingerprint),
        (again.run_id, AS_OF, 2, model.fingerprint),
    ]
    assert again.previous_as_of is None


def test_history_across_dates_and_moves(store, model):
    fill(store, [product("A", sales_30d=10), product("B", sales_30d=10000)])
    grade_products(store, model, AS_OF)
    with store.write() as con:  # A and B swap places
        con.execute(
            "UPDATE products SET sales_30d = 20000, gmv_30d_fen = 10^11 WHERE product_id = 'A'"
        )
        con.execute("UPDATE products SET sales_30d = 1, gmv_30d_fen = 100 WHERE product_id = 'B'")
    run = grade_products(store, model, AS_OF + dt.timedelta(days=1))
    assert run.previous_as_of == AS_OF and (run.moved_up, run.moved_down) == (1, 1)
    with store.read() as con:
        assert con.execute("SELECT count(DISTINCT as_of) FROM grades").fetchall() == [(2,)]
        changes = db.level_changes(con)
    assert sorted(changes["direction"].to_list()) == ["down", "up"]


def test_a_backfill_moves_against_the_grade_before_it_and_keeps_the_latest(store, model):
    """Grading an earlier date after a later one: the backfill's moves compare with what came
    before it (nothing here), the later grade stays each product's latest, and the later
    date's previous grade becomes the backfill's."""
    fill(store, [product("A", sales_30d=10), product("B", sales_30d=10000)])
    later = AS_OF + dt.timedelta(days=2)
    grade_products(store, model, later)
    with store.write() as con:  # A and B swap places for the backfill
        con.execute(
            "UPDATE products SET sales_30d = 20000, gmv_30d_fen = 10^11 WHERE product_id = 'A'"
        )
        con.execute("UPDATE products SET sales_30d = 1, gmv_30d_fen = 100 WHERE product_id = 'B'")
    run = grade_products(store, model, AS_OF)
    assert (run.moved_up, run.moved_down) == (0, 0)
    with store.read() as con:
        levels = dict(con.execute("SELECT product_id || as_of, level FROM grades").fetchall())
        latest = con.execute(
            "SELECT product_id, as_of, level, previous_as_of, previous_level "
            "FROM latest_grades ORDER BY 1"
        ).fetchall()
        listed = db.query_products(con, today=later)
    assert latest == [
        (p, later, levels[f"{p}{later}"], AS_OF, levels[f"{p}{AS_OF}"]) for p in ("A", "B")
    ]
    assert listed["level"].to_list() == [levels[f"A{later}"], levels[f"B{later}"]]


def test_a_later_full_grading_keeps_the_latest_grade_of_a_product_it_does_not_grade(store, model):
    """A full grading on a new date replaces the latest grades of the products it grades and
    leaves a product it does not grade (its row gone from the products by hand) as it was."""
    fill(store, [product("A"), product("B")])
    first = grade_products(store, model, AS_OF)
    with store.write() as con:
        con.execute("DELETE FROM products WHERE product_id = 'B'")
    later = grade_products(store, model, AS_OF + dt.timedelta(days=1))
    with store.read() as con:
        latest = con.execute(
            "SELECT product_id, as_of, previous_as_of, run_id FROM latest_grades ORDER BY 1"
        ).fetchall()
    assert latest == [
        ("A", AS_OF + dt.timedelta(days=1), AS_OF, later.run_id),
        ("B", AS_OF, None, first.run_id),
    ]


def test_dry_run_keeps_nothing(store, model):
    fill(store, [product("A")])
    run = grade_products(store, model, AS_OF, dry_run=True)
    assert run.products == 1 and run.run_id is None
    with store.read() as con:
        assert con.execute("SELECT count(*) FROM grades").fetchone() == (0,)


def test_one_merchants_grading_keeps_the_others(store, model):
    fill(store, [product("A"), product("B", merchant_id="M2")])
    first = grade_products(store, model, AS_OF)
    run = grade_products(store, model, AS_OF, merchant="M2")
    assert run.products == 1
    with store.read() as con:
        runs = dict(
            con.execute("SELECT product_id, run_id FROM grades WHERE as_of = ?", [AS_OF]).fetchall()
        )
    assert runs == {"A": first.run_id, "B": run.run_id}


def test_moves_compare_each_product_with_its_own_previous_grade(store, model):
    fill(
        store,
        [
            # enough sales for every level's sales gate: the scores decide
            product("A", sales_30d=600, gmv_30d_fen=1000),
            product("B", merchant_id="M2", sales_30d=700, gmv_30d_fen=2000),
        ],
    )
    grade_products(store, model, AS_OF)
    grade_products(store, model, AS_OF + dt.timedelta(days=1), merchant="M2")  # A not graded
    with store.write() as con:
        con.execute(
            "UPDATE products SET sales_30d = 9999, gmv_30d_fen = 10^10, "
            "refund_rate = 0.01, shop_score = 5 WHERE product_id = 'A'"
        )
    run = grade_products(store, model, AS_OF + dt.timedelta(days=2))
    with store.read() as con:
        assert db.level_changes(con)["product_id"].to_list() == ["A", "B"]
    assert (run.moved_up, run.moved_down) == (1, 1)


def test_dry_run_on_a_new_database_creates_no_file(tmp_path, model):
    missing = db.Store(tmp_path / "new.duckdb")
    with pytest.raises(HaowuError, match="nothing to grade"):
        grade_products(missing, model, AS_OF, dry_run=True)
    assert not missing.exists()


def test_a_failed_run_leaves_the_previous_grades(store, model, monkeypatch):
    fill(store, [product("A")])
    grade_products(store, model, AS_OF)
    with store.read() as con:
        before = con.execute("SELECT * FROM grades").fetchall()

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    with monkeypatch.context() as patch, pytest.raises(RuntimeError):
        patch.setattr(db, "record_grade_run", crash)
        grade_products(store, model, AS_OF)
    with store.read() as con:
        assert con.execute("SELECT * FROM grades").fetchall() == before


def test_nothing_to_grade(store, model):
    fill(store, [product("A")])
    with pytest.raises(HaowuError, match="merchant M9 has no products"):
        grade_products(store, model, AS_OF, merchant="M9")


# --- explaining --------------------------------------------------------------------------------


def test_explain_names_the_rule_and_the_way_up(store, model):
    fill(
        store,
        [product(str(i), sales_30d=100 * i, gmv_30d_fen=100_000 * i) for i in range(1, 6)]
        + [
            product(
                "weak",
                refund_rate=Decimal("0.19"),
                good_rate=Decimal("0.88"),
                sales_30d=600,
                gmv_30d_fen=600_000,
            )
        ],
    )
    grade_products(store, model, AS_OF)
    found = explain(store, model, "weak")
    assert found.grade["level"] == "L3" and float(found.grade["service"]) < 65
    assert found.rule == "L3: total ≥ 60, 30-day sales ≥ 50 (levels.L3.min_sales_30d)"
    assert found.current
    assert found.advice == [
        f"to reach L4: raise 服务力 from {found.grade['service']} to 65: refund rate 19.0% "
        "has the most room (score 5, 30% of 服务力; lower is better)"
    ]
    assert found.inputs[("service", "refund_rate")][0] == pytest.approx(0.19)


def test_advice_to_raise_the_total_says_by_how_much(tmp_path, store):
    simple = load_model(write_model(tmp_path, SIMPLE))
    # brand 0, price 100 (missing), distribution 10 (missing), service 0, sales 50: total 32
    fill(
        store,
        [
            product(
                "low",
                brand=None,
                list_price_fen=None,
                commission_rate=None,
                shop_score=Decimal("3"),
            )
        ],
    )
    grade_products(store, simple, AS_OF)
    found = explain(store, simple, "low")
    assert found.grade["level"] == "L1" and found.grade["total"] == Decimal("32.0")
    # 8 points of total = 40 points of one dimension (five equal weights)
    assert found.advice[0].startswith(
        "to reach L2: raise the total from 32 to 40, e.g. by raising 品牌力 from 0 to 40; "
    )


def test_explain_an_ungraded_product(store, model):
    fill(store, [product("A")])
    with pytest.raises(HaowuError, match="has no grade"):
        explain(store, model, "A")


def test_explain_for_l0_and_l5(tmp_path, store):
    simple = load_model(write_model(tmp_path, SIMPLE))
    fill(
        store,
        [
            product(
                "top", list_price_fen=None, commission_rate=Decimal("0.5"), shop_score=Decimal("5")
            ),
            product("new", listed_at=AS_OF, sales_30d=0),
        ],
    )
    grade_products(store, simple, AS_OF)
    assert "top level" in explain(store, simple, "top").advice[0]
    assert "first sales" in explain(store, simple, "new").advice[0]


# --- the model file ----------------------------------------------------------------------------


def test_every_model_problem_is_listed_with_file_key_and_line(tmp_path):
    broken = (
        SIMPLE.replace("has_brand: {weight: 1", "fame: {weight: 1")
        .replace("[[4, 0], [5, 100]]", "[[4, 0], [4.5, 100], [5, 20]]")
        .replace("L4: {min_total: 70}", "L4: {min_total: 90}")
        .replace("价格力\n        weight: 1", "价格力\n        weight: -1")
    )
    folder = write_model(tmp_path, broken + "    colour: blue\n")
    with pytest.raises(ConfigError) as error:
        load_model(folder)
    text = "\n".join(error.value.problems)
    path = folder / "grading.yaml"
    assert f"{path}:4 dimensions.brand.inputs.fame: unknown input 'fame'" in text
    assert f"{path}:7 dimensions.price.weight: -1 is not a weight ≥ 0" in text
    assert (
        f"{path}:16 dimensions.service.inputs.shop_score.curve: "
        "the scores must only rise or only fall" in text
    )
    assert "levels.L5.min_total: L5 asks less (80) than L4 (90)" in text
    assert f"{path}:27 colour: unknown key 'colour'" in text
    assert error.value.exit_code == 2


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("missing: 10", "missing: .nan", "distribution.inputs.commission_rate.missing: expected"),
        ("{has_brand: {weight: 1,", "{has_brand: {weight: .inf,", "brand.inputs.has_brand.weight"),
        ("new_product_days: 14", "new_product_days: 100000000000", "new_product_days: expected"),
        (
            "L1: {min_total: 0}",
            "L1: {min_total: 40, min_scores: {service: 70}}",
            "L1 takes every product no higher level takes",
        ),
    ],
)
def test_values_grading_cannot_use_are_refused(tmp_path, old, new, complaint):
    assert old in SIMPLE
    with pytest.raises(ConfigError) as error:
        load_model(write_model(tmp_path, SIMPLE.replace(old, new)))
    assert any(complaint in p for p in error.value.problems), error.value.problems


def test_a_missing_dimension_and_level(tmp_path):
    text = SIMPLE.replace("      L3: {min_total: 60}\n", "")
    text = text[: text.index("      sales:")] + text[text.index("    levels:") :]
    with pytest.raises(ConfigError) as error:
        load_model(write_model(tmp_path, text))
    assert any("dimension 'sales' is missing" in p for p in error.value.problems)
    assert any("level L3 needs min_total" in p for p in error.value.problems)


def test_the_fingerprint_follows_the_settings(tmp_path):
    a = load_model(write_model(tmp_path, SIMPLE))
    b = load_model(write_model(tmp_path, SIMPLE.replace("min_total: 60", "min_total: 61")))
    assert a.fingerprint != b.fingerprint


# --- properties --------------------------------------------------------------------------------

categories = st.sampled_from(["美妆", "食品", "日百"])
rates = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("0.9"), places=3))
products = st.lists(
    st.fixed_dictionaries(
        {
            "category_l1": categories,
            "sales_30d": st.one_of(st.none(), st.integers(0, 5000)),
            "gmv_30d_fen": st.one_of(st.none(), st.integers(0, 10**9)),
            "commission_rate": rates,
            "refund_rate": rates,
            "shop_score": st.one_of(st.none(), st.decimals(min_value=3, max_value=5, places=2)),
            "live_price_fen": st.integers(100, 100_000),
            "listed_at": st.one_of(
                st.none(), st.dates(dt.date(2026, 10, 1), dt.date(2026, 11, 30))
            ),
            "joined_at": st.one_of(
                st.none(), st.dates(dt.date(2026, 10, 1), dt.date(2026, 11, 30))
            ),
            "category_l3": st.sampled_from([None, "洁面", "面霜"]),
            "brand": st.sampled_from([None, "花漾", "川味坊"]),
            "service_fee_rate": rates,
            "good_rate": rates,
            "ship_hours": st.one_of(st.none(), st.integers(0, 200)),
            "list_price_fen": st.integers(100, 200_000),
            "sample": st.one_of(st.none(), st.booleans()),
        }
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=30, deadline=None)
@given(products)
def test_an_unsold_product_is_never_above_l1_whatever_the_data(model, specs):
    rows = rows_of(specs)
    grades = grades_of(rows, model)
    for row in rows:
        if not row["sales_30d"]:
            assert grades[row["product_id"]][0] in ("L0", "L1")


def rows_of(specs: list[dict]) -> list[dict]:
    return [product(f"P{i}", **spec) for i, spec in enumerate(specs)]


_SHARED = {}


def grades_of(rows, model) -> dict[str, tuple]:
    """Grades of these rows, in one in-memory database reused across examples (fast)."""
    con = _SHARED.get("con")
    if con is None:
        con = _SHARED["con"] = memory_db([])
    con.execute("DELETE FROM products")
    insert(con, rows)
    return {p: (g["level"], g["total"]) for p, g in scores(con, model).items()}


@settings(max_examples=30, deadline=None)
@given(products, st.randoms(use_true_random=False))
def test_same_data_same_grades_whatever_the_order(model, specs, rng):
    rows = rows_of(specs)
    shuffled = rows[:]
    rng.shuffle(shuffled)
    assert grades_of(rows, model) == grades_of(shuffled, model) == grades_of(rows, model)


# A better value of an input a product has (a missing value scores the configured `missing`,
# and filling it in may move the score either way: that is not an improvement of a value).
IMPROVEMENTS = {
    "sales_30d": lambda v: v + 100,
    "gmv_30d_fen": lambda v: v + 10**6,
    "commission_rate": lambda v: min(v + Decimal("0.05"), Decimal("0.9")),
    "service_fee_rate": lambda v: min(v + Decimal("0.02"), Decimal("0.9")),
    "refund_rate": lambda v: max(v - Decimal("0.02"), Decimal(0)),
    "good_rate": lambda v: min(v + Decimal("0.02"), Decimal(1)),
    "shop_score": lambda v: min(v + Decimal("0.1"), Decimal(5)),
    "ship_hours": lambda v: max(v - 12, 0),
    "live_price_fen": lambda v: max(v - 50, 1),
    "list_price_fen": lambda v: v + 1000,
    "sample": lambda v: True,
    "brand": lambda v: "花漾",
}


@settings(max_examples=50, deadline=None)
@given(products, st.data())
def test_a_better_input_never_lowers_the_level(model, specs, data):
    rows = rows_of(specs)
    target = data.draw(st.integers(0, len(rows) - 1))
    field = data.draw(st.sampled_from(sorted(IMPROVEMENTS)))
    # Naming a brand is better than none; one brand is not better than another.
    assume(rows[target][field] is None if field == "brand" else rows[target][field] is not None)
    before = grades_of(rows, model)[f"P{target}"]
    rows[target] = {**rows[target], field: IMPROVEMENTS[field](rows[target][field])}
    after = grades_of(rows, model)[f"P{target}"]
    assert LEVEL_RANK[after[0]] >= LEVEL_RANK[before[0]]
    assert after[1] >= before[1]


# --- grades dated in the future ----------------------------------------------------------------


def test_today_is_beijings_or_haowu_today(monkeypatch):
    from haowu_cli import dates
    from haowu_cli.errors import UsageError

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # 17:30 UTC on 1 December is 01:30 on 2 December in Beijing
            return dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC).astimezone(tz)

    monkeypatch.setattr(dates.dt, "datetime", Clock)
    monkeypatch.delenv("HAOWU_TODAY", raising=False)
    assert dates.today() == dt.date(2026, 12, 2)
    monkeypatch.setenv("HAOWU_TODAY", "2027-01-01")
    assert dates.today() == dt.date(2027, 1, 1)
    monkeypatch.setenv("HAOWU_TODAY", "tomorrow")
    with pytest.raises(UsageError, match="HAOWU_TODAY='tomorrow' is not a date"):
        dates.today()


def test_grading_after_today_needs_allow_future():
    from haowu_cli.errors import UsageError
    from haowu_cli.grading import check_grading_date

    today = dt.date(2026, 12, 2)
    check_grading_date(today, today)  # today and earlier are fine
    check_grading_date(dt.date(2026, 1, 1), today)
    with pytest.raises(
        UsageError, match=r"--as-of 2027-01-01 is in the future \(today is 2026-12-02\)"
    ):
        check_grading_date(dt.date(2027, 1, 1), today)
    check_grading_date(dt.date(2027, 1, 1), today, allow_future=True)


def test_a_future_grade_is_not_the_latest_until_its_day(store, model):
    from haowu_cli.reports.grades import grades_report

    fill(store, [product("A", sales_30d=10, gmv_30d_fen=1000), product("B")])
    grade_products(store, model, AS_OF)
    with store.write() as con:  # A becomes the best seller: a better grade on the future date
        con.execute(
            "UPDATE products SET sales_30d = 99999, gmv_30d_fen = 10^11, refund_rate = 0.01, "
            "shop_score = 5 WHERE product_id = 'A'"
        )
    future = dt.date(2027, 1, 1)
    grade_products(store, model, future)
    with store.read() as con:
        levels = dict(
            con.execute("SELECT as_of, level FROM grades WHERE product_id = 'A'").fetchall()
        )
        assert levels[AS_OF] != levels[future]
        for today, want in ((AS_OF + dt.timedelta(days=10), AS_OF), (future, future)):
            listed = db.query_products(con, today=today)
            assert listed.filter(product_id="A")["level"].item() == levels[want]
            planned = db.planning_products(con, today=today)
            assert planned.filter(product_id="A")["level"].item() == levels[want]
            assert db.product_grade(con, "A", today=today)["as_of"] == want
        # Before any grade: no level at all, not the future one.
        assert db.query_products(con, today=AS_OF - dt.timedelta(days=1))["level"].null_count() == 2
        # A date named explicitly is still there to look at.
        assert db.product_grade(con, "A", future, today=AS_OF)["as_of"] == future
    report = grades_report(store, None, today=AS_OF + dt.timedelta(days=10))
    assert report.as_json()["figures"]["as_of"] == str(AS_OF)
    assert grades_report(store, future, today=AS_OF).as_json()["figures"]["as_of"] == str(future)
    with pytest.raises(HaowuError, match=r"no grades dated today \(2026-11-01\) or earlier"):
        grades_report(store, None, today=dt.date(2026, 11, 1))


# --- history does not grow the search for the latest grade -------------------------------------

UNBOUNDED_LATEST = (
    "SELECT product_id, arg_max(level, as_of) AS level, arg_max(total, as_of) AS total_score "
    "FROM grades WHERE as_of <= ? GROUP BY product_id"
)
UNBOUNDED_PREVIOUS = (
    "SELECT product_id, max(as_of), arg_max(level, as_of) FROM grades WHERE as_of < ? "
    "GROUP BY product_id"
)
BOUNDED_PREVIOUS = (
    "SELECT product_id, max(as_of), arg_max(level, as_of) FROM grades WHERE as_of < $day "
    f"AND as_of >= {db.grade_floor('$day', before=True)} GROUP BY product_id"
)
steps = st.lists(
    st.tuples(
        st.sampled_from(["import", "full", "merchant"]),
        st.integers(0, 9),  # the grading day (or the new product's merchant)
        st.integers(0, 5),  # the level given
    ),
    max_size=14,
)


@settings(max_examples=30, deadline=None)
@given(steps)
def test_the_latest_and_previous_grades_look_only_at_the_history_that_can_hold_them(ops):
    """Gradings in any order (full ones, one merchant's, backfills of earlier dates, re-runs
    of a date) with products arriving between them: the bounded searches give what a search
    of the whole history gives."""
    con = memory_db([product("P0")])
    day0 = dt.date(2026, 11, 1)
    count, run_id = 1, 0
    for op, n, level in ops:
        if op == "import":
            insert(con, [product(f"P{count}", merchant_id=f"M{n % 3}")])
            count += 1
            continue
        run_id += 1
        as_of, merchant = day0 + dt.timedelta(days=n), None if op == "full" else f"M{level % 3}"
        graded = "SELECT product_id FROM products WHERE ? IS NULL OR merchant_id = ?"
        con.execute(
            f"DELETE FROM grades WHERE as_of = ? AND product_id IN ({graded})",
            [as_of, merchant, merchant],
        )
        con.execute(
            f"INSERT INTO grades SELECT ?, product_id, ?, 0, 0, 0, 0, 0, ?, ? FROM ({graded})",
            [as_of, run_id, level * 10 + run_id % 7, f"L{level}", merchant, merchant],
        )
        con.execute(
            "INSERT INTO grade_runs VALUES (?, ?, ?, 'x', now(), now(), 0, '{}', 0, 0)",
            [run_id, as_of, merchant],
        )
        db.update_latest_grades(con, as_of, run_id)  # as save_grades keeps it
    kept = con.execute("SELECT * EXCLUDE (run_id) FROM latest_grades ORDER BY 1").fetchall()
    db.rebuild_latest_grades(con)  # what the migration builds from the history
    assert kept == con.execute("SELECT * EXCLUDE (run_id) FROM latest_grades ORDER BY 1").fetchall()
    for offset in range(-1, 12):
        day = day0 + dt.timedelta(days=offset)
        got = con.execute(f"{db.LATEST_GRADES} ORDER BY 1", db.latest_grades_params(day)).fetchall()
        assert got == con.execute(f"{UNBOUNDED_LATEST} ORDER BY 1", [day]).fetchall()
        got = con.execute(f"{BOUNDED_PREVIOUS} ORDER BY 1", {"day": day}).fetchall()
        assert got == con.execute(f"{UNBOUNDED_PREVIOUS} ORDER BY 1", [day]).fetchall()
        # The grades report's products with their previous grade, from latest_grades when
        # the date is every graded product's latest, and from the history otherwise.
        query = f"SELECT * FROM ({reports.grades_with_previous(con, day)}) ORDER BY 1"
        full = f"SELECT * FROM ({reports.GRADES_WITH_PREVIOUS}) ORDER BY 1"
        assert (
            con.execute(query, {"as_of": day}).fetchall()
            == con.execute(full, {"as_of": day}).fetchall()
        )


def test_percentiles_rank_by_the_stored_column_as_by_the_value():
    """An input with a `column` is ranked by that column (cheaper to sort); it must give each
    product the same rank, ties and nulls as its value would, down to neighbouring fen and
    millionths and up to the largest amounts."""
    from haowu_cli.grading import INPUTS

    big = 9_000_000_000_000  # fen: ¥90 billion
    numbers = [None, 0, 1, 2, 3, 199, 200, 201, 10**6 - 1, 10**6, big - 1, big, big, 7, 7]
    fractions = [None, "0", "0.000001", "0.000002", "0.1", "0.100001", "0.2", "0.2", "0.999999"]
    rows = [
        product(
            f"P{i}",
            live_price_fen=numbers[i % len(numbers)],
            gmv_30d_fen=numbers[(i + 3) % len(numbers)],
            sales_30d=numbers[(i + 5) % len(numbers)],
            stock=numbers[(i + 7) % len(numbers)],
            ship_hours=(i * 7) % 13 if i % 4 else None,
            commission_rate=_dec(fractions[i % len(fractions)]),
            service_fee_rate=_dec(fractions[(i + 2) % len(fractions)]),
            good_rate=_dec(fractions[(i + 4) % len(fractions)]),
            refund_rate=_dec(fractions[(i + 6) % len(fractions)]),
            shop_score=_dec(["4.99", "5", "4.98", None, "0", "4.98"][i % 6]),
        )
        for i in range(60)
    ]
    con = memory_db(rows)
    keyed = {name: spec for name, spec in INPUTS.items() if spec.column}
    assert {"live_price", "gmv_30d", "commission_rate", "sales_30d"} <= set(keyed)
    for name, spec in keyed.items():
        for order in ("ASC", "DESC"):
            differ = con.execute(
                f"SELECT count(*) FROM (SELECT rank() OVER (ORDER BY {spec.column} {order} "
                f"NULLS LAST) AS a, rank() OVER (ORDER BY ({spec.sql}) {order} NULLS LAST) AS b, "
                f"({spec.column}) IS NULL AS c, ({spec.sql}) IS NULL AS d FROM products p) "
                "WHERE a <> b OR c <> d"
            ).fetchone()[0]
            assert differ == 0, (name, order)


def _dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
