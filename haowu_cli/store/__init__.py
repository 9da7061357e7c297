"""The only package that talks to DuckDB.

- `connection`: `Store` (the file lock, read and write connections), `transaction`, and what
  the file system or a foreign file refuses, as messages a user can act on;
- `schema`: the migrations and the schema version of a file;
- `sql`: running statements, frames, the one identifier-quoting helper, `Query`;
- `upsert`: the upsert engine an import writes through (`apply_rows`);
- one query module per domain: `products` (and anchors), `grades`, `plans`, `ledger`
  (orders and the commission ledger), `reports`, `activities` (招商: activities, 报名, 审核,
  merchants).

Every value is a bound parameter. Grading and commission hand the store a `Query` (text with
`$name` parameters and their values) for the one computation each owns; the store runs it.

`from haowu_cli import store as db` gives every module's public API (its `__all__`) as
`db.NAME`. The modules are imported when a name of theirs is first asked for, so that a command
that only opens the database (or `haowu --help`) does not load every domain's queries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from haowu_cli.store.activities import *  # noqa: F403
    from haowu_cli.store.connection import *  # noqa: F403
    from haowu_cli.store.grades import *  # noqa: F403
    from haowu_cli.store.ledger import *  # noqa: F403
    from haowu_cli.store.live import *  # noqa: F403
    from haowu_cli.store.matching import *  # noqa: F403
    from haowu_cli.store.plans import *  # noqa: F403
    from haowu_cli.store.products import *  # noqa: F403
    from haowu_cli.store.reports import *  # noqa: F403
    from haowu_cli.store.schema import *  # noqa: F403
    from haowu_cli.store.settlements import *  # noqa: F403
    from haowu_cli.store.sql import *  # noqa: F403
    from haowu_cli.store.upsert import *  # noqa: F403
    from haowu_cli.store.versions import *  # noqa: F403

_MODULES = (
    "connection",
    "schema",
    "sql",
    "upsert",
    "products",
    "grades",
    "plans",
    "ledger",
    "reports",
    "settlements",
    "activities",
    "live",
    "matching",
    "versions",
)


def __getattr__(name: str) -> Any:
    for module_name in _MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in module.__all__:
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
