"""The only package that talks to DuckDB.

- `connection`: `Store` (the file lock, read and write connections), `transaction`, and what
  the file system or a foreign file refuses, as messages a user can act on;
- `schema`: the migrations and the schema version of a file;
- `sql`: running statements, frames, the one identifier-quoting helper, `Query`;
- `upsert`: the upsert engine an import writes through (`apply_rows`);
- one query module per domain: `products` (and anchors), `grades`, `plans`, `ledger`
  (orders and the commission ledger), `reports`.

Every value is a bound parameter. Grading and commission hand the store a `Query` (text with
`$name` parameters and their values) for the one computation each owns; the store runs it.
`from haowu_cli import store as db` gives the whole public API below.
"""

from haowu_cli.store.connection import (
    DEFAULT_LOCK_TIMEOUT,
    Store,
    migrate,
    storage_error,
    transaction,
)
from haowu_cli.store.grades import (
    best_graded_product,
    grade_detail,
    level_changes,
    next_grade_run_id,
    product_grade,
    record_grade_run,
    save_grades,
)
from haowu_cli.store.ledger import (
    ALL_ORDERS,
    OrderSelection,
    commission_totals,
    ledger_entries,
    order_terms,
    orders_posted_later,
    post_ledger,
    query_orders,
)
from haowu_cli.store.plans import (
    PLAN_ITEM_COLUMNS,
    RUN_SHEET_COLUMNS,
    plan_items,
    plan_record,
    planning_products,
    query_plans,
    save_plan,
)
from haowu_cli.store.products import anchor_row, query_anchors, query_products
from haowu_cli.store.reports import (
    grade_counts,
    grade_moves,
    grading_dates,
    merchant_names,
    monthly_gmv,
    session_ids,
    session_orders,
)
from haowu_cli.store.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    known_schema_version,
    schema_version,
)
from haowu_cli.store.sql import Query, quote, run
from haowu_cli.store.upsert import (
    ImportCounts,
    UpsertColumn,
    UpsertTarget,
    apply_rows,
    next_import_id,
    record_import,
)

__all__ = [
    "ALL_ORDERS",
    "DEFAULT_LOCK_TIMEOUT",
    "MIGRATIONS",
    "PLAN_ITEM_COLUMNS",
    "RUN_SHEET_COLUMNS",
    "SCHEMA_VERSION",
    "ImportCounts",
    "OrderSelection",
    "Query",
    "Store",
    "UpsertColumn",
    "UpsertTarget",
    "anchor_row",
    "apply_rows",
    "best_graded_product",
    "commission_totals",
    "grade_counts",
    "grade_detail",
    "grade_moves",
    "grading_dates",
    "known_schema_version",
    "ledger_entries",
    "level_changes",
    "merchant_names",
    "migrate",
    "monthly_gmv",
    "next_grade_run_id",
    "next_import_id",
    "order_terms",
    "orders_posted_later",
    "plan_items",
    "plan_record",
    "planning_products",
    "post_ledger",
    "product_grade",
    "query_anchors",
    "query_orders",
    "query_plans",
    "query_products",
    "quote",
    "record_grade_run",
    "record_import",
    "run",
    "save_grades",
    "save_plan",
    "schema_version",
    "session_ids",
    "session_orders",
    "storage_error",
    "transaction",
]
