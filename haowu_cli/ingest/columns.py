"""Column specs: what each kind of sheet holds, and how its headers are recognised.

A `Kind` lists its fields, each with a value type. Types say how a cell is parsed, which
bounds it must respect, and how it is stored; header aliases come from `configs/columns.yaml`.
Later kinds (anchors, orders) are added here and go through the same pipeline.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

import polars as pl

from haowu_cli.config import load_config_file
from haowu_cli.errors import ConfigError
from haowu_cli.i18n import N_, _
from haowu_cli.ingest import values
from haowu_cli.store.upsert import UpsertColumn, UpsertTarget

if TYPE_CHECKING:
    import duckdb

COLUMNS_FILE = "columns.yaml"


@dataclass(frozen=True)
class ValueType:
    """How one type of cell is parsed, checked and stored.

    `parse(source_column, name, **context)` gives the parser (see `values`); `context`, if
    set, reads what the parser needs to know about the whole column first (how a rate
    column writes its rates). `stored` turns the staged integer into the database value in
    SQL (rates are staged as parts per million and stored as exact DECIMAL fractions).
    """

    name: str
    parse: Callable[..., values.Parser]
    stored: str = "{}"
    suffix: str = ""  # appended to the database column name: money is `live_price_fen`
    context: Callable[[pl.DataFrame, str], dict] | None = None

    def parser(self, frame: pl.DataFrame, source: str, name: str) -> values.Parser:
        context = self.context(frame, source) if self.context else {}
        return self.parse(source, name, **context)


TEXT = ValueType("text", values.text)
ID = ValueType("id", values.identifier)
MONEY = ValueType("money", values.money, suffix="_fen")
COUNT = ValueType("count", values.count)
HOURS = ValueType("hours", values.hours)
DATE = ValueType("date", values.date)
TIMESTAMP = ValueType("timestamp", values.timestamp)
BOOL = ValueType("bool", values.boolean)
LIST = ValueType("list", values.text_list)
RATE = ValueType(
    "rate",
    values.rate,
    stored="CAST(CAST({} AS DECIMAL(18,0)) * 0.000001 AS DECIMAL(9,6))",
    context=lambda frame, source: {"style": values.rate_style(frame, source)},
)
SCORE = ValueType(
    "score",
    values.score,
    stored="CAST(CAST({} AS DECIMAL(18,0)) * 0.01 AS DECIMAL(4,2))",
)


@dataclass(frozen=True)
class Field:
    """One canonical field of a kind, with the bounds a valid value respects.

    Bounds are in staged units: fen for money, parts per million for rates, hundredths for
    scores. `above` is exclusive, `minimum` and `maximum` inclusive.
    """

    name: str
    type: ValueType
    required: bool = False
    above: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    rule: str = ""  # the bound in words, for the rejection reason

    @property
    def column(self) -> str:
        """The database column: money is stored in fen and says so."""
        return self.name + self.type.suffix


@dataclass(frozen=True)
class Kind:
    """A kind of sheet: its fields, its key, the table it lands in, what history it keeps."""

    name: str
    table: str
    key: str
    fields: tuple[Field, ...]
    owner: str | None = None  # the field that says which merchant a row belongs to
    tracked: tuple[str, ...] = ()  # fields whose changes are kept in history
    history_table: str = ""  # where those changes go
    aliases: dict[str, str] = field(default_factory=dict)  # normalised header -> field name
    # field name -> the headers columns.yaml gives for it, as written there (Chinese first)
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # What else writing this kind takes, given the config folder (orders: the commission
    # ledger); the pipeline calls the hooks without knowing which kind it imports.
    hooks: Callable[[Path], WriteHooks] | None = None
    # The table's key when it is not the sheet's (applications: activity and product, which
    # the kind's hooks put together).
    store_key: str | None = None

    def get(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def target(self) -> UpsertTarget:
        """The table this kind lands in, as the store's upsert engine needs it."""
        return UpsertTarget(
            table=self.table,
            key=self.store_key or self.key,
            columns=tuple(UpsertColumn(f.name, f.column, f.type.stored) for f in self.fields),
            owner=self.owner,
            tracked=self.tracked,
            history_table=self.history_table,
        )


class WriteHooks(Protocol):
    """Work a kind adds to an import, inside its transaction, around the upsert."""

    def before_write(
        self, con: duckdb.DuckDBPyConnection, rows: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame, list[tuple[str, str]]]:
        """The rows to write, the rows refused (row, column, value, reason), and notes
        (level, text)."""
        ...

    def after_write(self, con: duckdb.DuckDBPyConnection, import_id: int) -> tuple[int, int]:
        """After every row of the file is written (every part of a large one): (rows posted
        elsewhere, of which reversed earlier entries)."""
        ...


def _ledger_hooks(config_dir: Path) -> WriteHooks:
    from haowu_cli.commission import LedgerHooks, load_rules

    return LedgerHooks(load_rules(config_dir))


class _Bounds(TypedDict, total=False):
    """Bounds shared by several fields, splatted into `Field` (typed, so mypy checks them)."""

    minimum: int
    maximum: int
    rule: str


_RATE_0_90 = _Bounds(minimum=0, maximum=900_000, rule=N_("between 0% and 90%"))
_RATE_0_100 = _Bounds(minimum=0, maximum=1_000_000, rule=N_("between 0% and 100%"))
_NOT_NEGATIVE = _Bounds(minimum=0, rule=N_("zero or more"))

PRODUCTS = Kind(
    name="products",
    table="products",
    key="product_id",
    owner="merchant_id",
    tracked=("list_price", "live_price", "commission_rate", "service_fee_rate", "stock"),
    history_table="product_changes",
    fields=(
        Field("product_id", ID, required=True),
        Field("merchant_id", ID, required=True),
        Field("merchant_name", TEXT),
        Field("title", TEXT, required=True),
        Field("brand", TEXT),
        Field("category_l1", TEXT, required=True),
        Field("category_l2", TEXT),
        Field("category_l3", TEXT),  # 三级类目; a category path `A>B>C` fills all three
        Field("list_price", MONEY, above=0, rule=N_("more than 0")),
        Field("live_price", MONEY, required=True, above=0, rule=N_("more than 0")),
        Field("commission_rate", RATE, required=True, **_RATE_0_90),
        Field("service_fee_rate", RATE, **_RATE_0_90),
        Field("stock", COUNT, **_NOT_NEGATIVE),
        Field("sales_30d", COUNT, **_NOT_NEGATIVE),
        Field("gmv_30d", MONEY, **_NOT_NEGATIVE),
        Field("good_rate", RATE, **_RATE_0_100),
        Field("refund_rate", RATE, **_RATE_0_100),
        Field("shop_score", SCORE, minimum=0, maximum=500, rule=N_("between 0 and 5")),
        Field("ship_hours", HOURS, minimum=0, maximum=24 * 90, rule=N_("between 0 and 2160 hours")),
        Field("listed_at", DATE),
        Field("joined_at", DATE),  # the product's 加入快分销 date: L0 counts from it
        Field("sample", BOOL),
        Field("mechanism", TEXT),
    ),
)

ANCHORS = Kind(
    name="anchors",
    table="anchors",
    key="anchor_id",
    fields=(
        Field("anchor_id", ID, required=True),
        Field("name", TEXT, required=True),
        Field("fans", COUNT, **_NOT_NEGATIVE),
        Field("female_share", RATE, **_RATE_0_100),
        Field("age_band", TEXT),
        Field("avg_ticket", MONEY, **_NOT_NEGATIVE),
        Field("categories", LIST),
        Field("gmv_per_hour", MONEY, **_NOT_NEGATIVE),
        Field("mcn", TEXT),
        Field("mcn_share", RATE, **_RATE_0_100),
    ),
)

STATUS = ValueType("status", values.order_status)

ORDERS = Kind(
    name="orders",
    table="orders",
    key="order_id",
    tracked=(
        "status",
        "product_id",
        "anchor_id",
        "session_id",
        "paid_amount",
        "paid_at",
        "refund_amount",
        "received_at",
        "commission_rate",
        "service_fee_rate",
        "second_leader_id",
        "second_leader_rate",
        "pay_later",
        "mcn_share",
        "platform_status",
        "settled_amount",
        "settled_at",
    ),
    history_table="order_changes",
    hooks=_ledger_hooks,
    fields=(
        Field("order_id", ID, required=True),
        Field("product_id", ID, required=True),
        Field("merchant_id", ID),  # from the product when the sheet has none
        Field("category_l1", TEXT),  # likewise
        Field("anchor_id", ID),
        Field("session_id", ID),
        Field("quantity", COUNT, minimum=1, rule=N_("1 or more")),
        Field("paid_amount", MONEY, required=True, **_NOT_NEGATIVE),
        Field("paid_at", DATE),
        Field("status", STATUS, required=True),
        Field("refund_amount", MONEY, **_NOT_NEGATIVE),
        Field("received_at", DATE),
        Field("commission_rate", RATE, **_RATE_0_90),
        Field("service_fee_rate", RATE, **_RATE_0_90),
        Field("second_leader_id", ID),
        Field("second_leader_rate", RATE, **_RATE_0_90),
        Field("pay_later", BOOL),
        Field("mcn", TEXT),  # the anchor's agency and share when the order came in:
        Field("mcn_share", RATE, **_RATE_0_100),  # from the anchors sheet when absent
        # The shop's score when the order came in (sets its settlement days): the product's
        # when absent.
        Field("shop_score", SCORE, minimum=0, maximum=500, rule=N_("between 0 and 5")),
        # From the platform's own files (configs/sources.yaml): the order an order line
        # belongs to, the exact payment time, the status word as the platform wrote it, and
        # what the platform settled (结算) and when.
        Field("platform_order_id", ID),
        Field("paid_time", TIMESTAMP),
        Field("platform_status", TEXT),
        Field("settled_amount", MONEY, **_NOT_NEGATIVE),
        Field("settled_at", TIMESTAMP),
    ),
)

# 报名: a merchant's products for an activity (haowu import --kind applications --activity ID).
# The command gives the kind its hooks (`activities.application_hooks`): without them rows
# cannot be checked against their activity.
APPLICATIONS = Kind(
    name="applications",
    table="applications",
    key="product_id",
    store_key="application_key",
    owner="merchant_id",
    tracked=("activity_price", "stock", "commission_rate", "service_fee_rate", "list_price"),
    history_table="application_changes",
    fields=(
        Field("product_id", ID, required=True),
        Field("activity_id", ID),  # from --activity when the sheet has none
        Field("application_key", ID),  # activity/product, set by the hooks
        Field("merchant_id", ID, required=True),
        Field("title", TEXT),
        Field("category_l1", TEXT),
        Field("list_price", MONEY, above=0, rule=N_("more than 0")),
        Field("lowest_price", MONEY, above=0, rule=N_("more than 0")),
        Field("activity_price", MONEY, required=True, above=0, rule=N_("more than 0")),
        Field("stock", COUNT, **_NOT_NEGATIVE),
        Field("commission_rate", RATE, **_RATE_0_90),
        Field("service_fee_rate", RATE, **_RATE_0_90),
        Field("mechanism", TEXT),
        Field("sample", BOOL),
        Field("shop_score", SCORE, minimum=0, maximum=500, rule=N_("between 0 and 5")),
        Field("applied_by", COUNT, minimum=1, maximum=2, rule=N_("1 (商家报名) or 2 (团长报名)")),
        Field("joined_on", DATE),  # 加入快分销日期: kept in merchants, not with the application
    ),
)

KINDS: dict[str, Kind] = {kind.name: kind for kind in (PRODUCTS, ANCHORS, ORDERS, APPLICATIONS)}


def normalise_header(header: str) -> str:
    """The form headers are compared in: NFKC, lower case, no spaces, `_`, `-` or `*`."""
    text = unicodedata.normalize("NFKC", str(header)).lower()
    return re.sub(r"[\s_\-*]", "", text)


def load_kind(name: str, config_dir: Path) -> Kind:
    """The kind `name` with its header aliases from `columns.yaml`, checked.

    Every problem in the file is reported at once, with file, key and line.
    """
    if name not in KINDS:
        raise ConfigError(
            [
                _("unknown kind {name!r}; known kinds: {join}").format(
                    name=name, join=", ".join(KINDS)
                )
            ]
        )
    kind = KINDS[name]
    doc = load_config_file(config_dir, COLUMNS_FILE)
    section = (doc.data or {}).get(name) if isinstance(doc.data, dict) else None
    problems: list[str] = []
    if not isinstance(doc.data, dict):
        problems.append(
            _("{where}: expected a mapping of kinds to fields").format(where=doc.where())
        )
    elif section is None:
        section = {}
    elif not isinstance(section, dict):
        problems.append(
            _("{where}: expected a mapping of fields to lists of headers").format(
                where=doc.where(name)
            )
        )
        section = {}
    known = {f.name for f in kind.fields}
    aliases: dict[str, str] = {normalise_header(f.name): f.name for f in kind.fields}
    written: dict[str, tuple[str, ...]] = {}
    for field_name, headers in (section or {}).items():
        if field_name not in known:
            problems.append(
                _("{where}: unknown field {field_name!r} for {name}; known: {join}").format(
                    where=doc.where(name, str(field_name)),
                    field_name=field_name,
                    name=name,
                    join=", ".join(sorted(known)),
                )
            )
            continue
        if not isinstance(headers, list) or not all(isinstance(h, str | int) for h in headers):
            problems.append(
                _("{where}: expected a list of header names, got {headers!r}").format(
                    where=doc.where(name, field_name), headers=headers
                )
            )
            continue
        for index, header in enumerate(headers):
            norm = normalise_header(str(header))
            taken = aliases.get(norm)
            if taken is not None and taken != field_name:
                problems.append(
                    _("{where}: header {header!r} already means {taken}").format(
                        where=doc.where(name, field_name, str(index)), header=header, taken=taken
                    )
                )
            aliases[norm] = field_name
        written[field_name] = tuple(str(h) for h in headers)
    if problems:
        raise ConfigError(problems)
    return replace(kind, aliases=aliases, headers=written)
