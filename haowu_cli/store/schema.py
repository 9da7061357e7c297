"""The schema of a haowu database: its migrations, and the version a database file has.

Each entry of `MIGRATIONS` moves the schema one version up. Released entries are never
edited: a change is a new entry, so every database ever written can be brought up to date.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from haowu_cli.errors import UnusableDatabase
from haowu_cli.i18n import _
from haowu_cli.store.sql import database_path, run

if TYPE_CHECKING:
    import duckdb


__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "known_schema_version",
    "schema_version",
]

MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
    CREATE SEQUENCE import_id_seq START 1;
    CREATE TABLE imports (
        import_id BIGINT PRIMARY KEY,
        kind VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_bytes BIGINT,
        encoding VARCHAR,
        merchant_id VARCHAR,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        rows_read BIGINT,
        inserted BIGINT,
        updated BIGINT,
        unchanged BIGINT,
        rejected BIGINT,
        skipped BIGINT
    );
    CREATE TABLE products (
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR NOT NULL,
        merchant_name VARCHAR,
        title VARCHAR,
        brand VARCHAR,
        category_l1 VARCHAR,
        category_l2 VARCHAR,
        list_price_fen BIGINT,
        live_price_fen BIGINT,
        commission_rate DECIMAL(9,6),
        service_fee_rate DECIMAL(9,6),
        stock BIGINT,
        sales_30d BIGINT,
        gmv_30d_fen BIGINT,
        good_rate DECIMAL(9,6),
        refund_rate DECIMAL(9,6),
        shop_score DECIMAL(4,2),
        ship_hours INTEGER,
        listed_at DATE,
        sample BOOLEAN,
        mechanism VARCHAR,
        extra VARCHAR,               -- JSON object of the sheet's columns haowu does not know
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    CREATE TABLE product_changes (
        import_id BIGINT NOT NULL,
        product_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR
    );
    """,
    """
    CREATE SEQUENCE grade_run_seq START 1;
    CREATE TABLE grade_runs (
        run_id BIGINT PRIMARY KEY,
        as_of DATE NOT NULL,
        merchant_id VARCHAR,            -- the run graded this merchant's products only
        config_fingerprint VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP NOT NULL,
        products BIGINT NOT NULL,
        level_counts VARCHAR NOT NULL,  -- JSON: {"L0": n, ..., "L5": n}
        moved_up BIGINT NOT NULL,
        moved_down BIGINT NOT NULL
    );
    CREATE TABLE grades (
        as_of DATE NOT NULL,
        product_id VARCHAR NOT NULL,
        run_id BIGINT NOT NULL,
        brand DECIMAL(4,1),
        price DECIMAL(4,1),
        distribution DECIMAL(4,1),
        service DECIMAL(4,1),
        sales DECIMAL(4,1),
        total DECIMAL(4,1) NOT NULL,
        level VARCHAR NOT NULL
    );
    """,
    """
    CREATE TABLE anchors (
        anchor_id VARCHAR NOT NULL,
        name VARCHAR,
        fans BIGINT,
        female_share DECIMAL(9,6),
        age_band VARCHAR,
        avg_ticket_fen BIGINT,
        categories VARCHAR[],
        gmv_per_hour_fen BIGINT,
        mcn VARCHAR,
        mcn_share DECIMAL(9,6),
        extra VARCHAR,
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    """,
    """
    CREATE SEQUENCE plan_id_seq START 1;
    CREATE TABLE plans (
        plan_id BIGINT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,          -- optimal | feasible (a time limit cut the proof)
        objective VARCHAR NOT NULL,       -- gmv | commission | team_income
        objective_fen BIGINT NOT NULL,
        bound_fen BIGINT NOT NULL,
        brief VARCHAR NOT NULL,           -- the resolved brief, JSON
        config_fingerprint VARCHAR NOT NULL,
        candidates BIGINT NOT NULL,
        eligible BIGINT NOT NULL,
        variables BIGINT NOT NULL         -- after pruning
    );
    CREATE TABLE plan_items (             -- the run sheets, as planned (a snapshot)
        plan_id BIGINT NOT NULL,
        session INTEGER NOT NULL,         -- 1, 2 … in the brief's order
        anchor_id VARCHAR NOT NULL,
        session_date DATE NOT NULL,
        position INTEGER NOT NULL,
        start_minute INTEGER NOT NULL,
        start VARCHAR NOT NULL,           -- HH:MM
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR NOT NULL,
        title VARCHAR,
        category_l1 VARCHAR,
        role VARCHAR NOT NULL,
        live_price_fen BIGINT NOT NULL,
        mechanism VARCHAR,
        commission_rate DECIMAL(9,6),
        service_fee_rate DECIMAL(9,6),
        stock BIGINT,
        minutes INTEGER NOT NULL,
        expected_units BIGINT NOT NULL,
        expected_gmv_fen BIGINT NOT NULL,
        commission_fen BIGINT NOT NULL,
        team_income_fen BIGINT NOT NULL,
        objective_fen BIGINT NOT NULL,
        note VARCHAR                      -- for the host: 开场, 收尾, 高峰
    );
    """,
    """
    CREATE TABLE orders (
        order_id VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR,              -- the product's, when the sheet has none
        category_l1 VARCHAR,              -- likewise
        anchor_id VARCHAR,
        session_id VARCHAR,
        quantity BIGINT,
        paid_amount_fen BIGINT NOT NULL,
        paid_at DATE,
        status VARCHAR NOT NULL,          -- paid | shipped | received | settled | invalid
        refund_amount_fen BIGINT,
        received_at DATE,
        commission_rate DECIMAL(9,6),     -- in force when paid
        service_fee_rate DECIMAL(9,6),
        second_leader_id VARCHAR,
        second_leader_rate DECIMAL(9,6),
        pay_later BOOLEAN,
        mcn VARCHAR,                      -- the anchor's agency when the order came in
        mcn_share DECIMAL(9,6),           -- and its share then
        shop_score DECIMAL(4,2),          -- the shop's score then (settlement days)
        extra VARCHAR,
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    CREATE TABLE order_changes (
        import_id BIGINT NOT NULL,
        order_id VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR
    );
    CREATE TYPE ledger_entry AS ENUM ('post', 'reverse');
    CREATE TYPE ledger_account AS ENUM (
        'base', 'merchant', 'anchor', 'agency', 'leader', 'second_leader', 'platform');
    CREATE TYPE ledger_item AS ENUM (
        'base', 'net', 'commission_cut', 'service_fee_cut', 'technical_fee');
    CREATE TABLE ledger (                 -- append-only: rows are added, never changed
        import_id BIGINT NOT NULL,        -- the import that posted it
        posted_at TIMESTAMP NOT NULL,
        order_id VARCHAR NOT NULL,
        entry ledger_entry NOT NULL,      -- post, or reverse (undoes an earlier post)
        account ledger_account NOT NULL,
        item ledger_item NOT NULL,
        party_id VARCHAR,                 -- the merchant, anchor, agency, second leader
        settles_on DATE,                  -- null: not received yet
        merchant_id VARCHAR,              -- the order's, as posted (reports group by these)
        anchor_id VARCHAR,
        session_id VARCHAR,
        paid_on DATE,
        amount_fen BIGINT NOT NULL
    );
    """,
    """
    ALTER TABLE orders ADD COLUMN platform_order_id VARCHAR;  -- the platform's 订单号
    ALTER TABLE orders ADD COLUMN paid_time TIMESTAMP;        -- exact payment time (Beijing)
    ALTER TABLE orders ADD COLUMN platform_status VARCHAR;    -- the status word as written
    ALTER TABLE orders ADD COLUMN settled_amount_fen BIGINT;  -- what the platform settled
    ALTER TABLE orders ADD COLUMN settled_at TIMESTAMP;       -- and when (实际结算时间)
    CREATE TABLE platform_settlements (   -- 结算明细 lines read by `haowu reconcile`
        platform_order_id VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        party VARCHAR NOT NULL,           -- merchant, anchor, leader, technical_fee …
        amount_fen BIGINT NOT NULL,
        settled_at TIMESTAMP,
        file_name VARCHAR NOT NULL,
        recorded_at TIMESTAMP NOT NULL
    );
    """,
    """
    CREATE TABLE activities (             -- 招商活动, one per activity file
        activity_id VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        activity_type INTEGER NOT NULL,   -- 1 普通, 2 专属, 3 合作招商 (the platform's codes)
        apply_until TIMESTAMP,            -- 报名截止 (Beijing time)
        categories VARCHAR[] NOT NULL,    -- empty: any category
        anchors VARCHAR[] NOT NULL,       -- 定向邀约
        merchants VARCHAR[] NOT NULL,     -- who may apply; empty: any merchant
        rules VARCHAR NOT NULL,           -- JSON: the resolved rules, defaults included
        rules_fingerprint VARCHAR NOT NULL,
        source_file VARCHAR,
        created_at TIMESTAMP NOT NULL,
        updated_at TIMESTAMP NOT NULL
    );
    CREATE TABLE activity_windows (       -- 预热, 正式 …: any number, in order
        activity_id VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        name VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,            -- warmup | sale
        starts_at TIMESTAMP NOT NULL,
        ends_at TIMESTAMP NOT NULL
    );
    CREATE TABLE applications (           -- 报名: one product in one activity
        application_key VARCHAR NOT NULL, -- activity_id || '/' || product_id
        activity_id VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        merchant_id VARCHAR NOT NULL,
        title VARCHAR,
        category_l1 VARCHAR,
        list_price_fen BIGINT,
        lowest_price_fen BIGINT,          -- 近期最低价, as the merchant states it
        activity_price_fen BIGINT NOT NULL,
        stock BIGINT,
        commission_rate DECIMAL(9,6),
        service_fee_rate DECIMAL(9,6),
        mechanism VARCHAR,
        sample BOOLEAN,
        shop_score DECIMAL(4,2),
        applied_by INTEGER,               -- 1 商家报名, 2 团长报名
        extra VARCHAR,
        created_import_id BIGINT NOT NULL,
        updated_import_id BIGINT NOT NULL
    );
    CREATE TABLE application_changes (
        import_id BIGINT NOT NULL,
        application_key VARCHAR NOT NULL,
        field VARCHAR NOT NULL,
        old_value VARCHAR,
        new_value VARCHAR
    );
    CREATE SEQUENCE decision_id_seq START 1;
    CREATE TABLE decisions (              -- 审核 history: appended, never changed
        decision_id BIGINT PRIMARY KEY,
        activity_id VARCHAR NOT NULL,
        product_id VARCHAR NOT NULL,
        decided_at TIMESTAMP NOT NULL,
        status VARCHAR NOT NULL,          -- passed | rejected | manual (待人工)
        reasons VARCHAR[] NOT NULL,       -- every failed rule, in Chinese
        decided_by VARCHAR NOT NULL,      -- 'review' (automatic) or the person's name
        manual BOOLEAN NOT NULL,          -- a person's decision: no review overrides it
        rules_fingerprint VARCHAR NOT NULL,
        level VARCHAR                     -- the grade the review went by
    );
    CREATE TABLE merchants (              -- what haowu knows of a merchant beyond its products
        merchant_id VARCHAR PRIMARY KEY,
        joined_on DATE,                   -- 加入快分销日期
        joined_from VARCHAR,              -- the sheet or 'haowu merchants joined'
        updated_at TIMESTAMP NOT NULL
    );
    """,
    """
    ALTER TABLE products ADD COLUMN category_l3 VARCHAR;  -- 三级类目
    ALTER TABLE products ADD COLUMN joined_at DATE;       -- the product's 加入快分销 date (L0)
    """,
    """
    -- Plan versions (haowu live replan): a replanned session is saved as a new plan linked to
    -- the first of its versions. A first plan has no parent and version 1.
    ALTER TABLE plans ADD COLUMN parent_plan_id BIGINT;   -- the first version's plan_id
    ALTER TABLE plans ADD COLUMN version INTEGER DEFAULT 1;
    ALTER TABLE plans ADD COLUMN replanned_session INTEGER;  -- the session that was replanned
    ALTER TABLE plans ADD COLUMN applies_from TIMESTAMP;  -- in force from this minute (Beijing)
    ALTER TABLE plans ADD COLUMN applies_from_minute INTEGER;  -- that minute of the session
    """,
    """
    -- Each product's latest grade and the one before it (store.grades keeps it with every
    -- grading run), so listing, reports and the next night's grading need not search the
    -- history. Built here from the grades already stored.
    CREATE TABLE latest_grades (
        product_id VARCHAR NOT NULL,
        as_of DATE NOT NULL,              -- the product's latest grading date (may be ahead)
        level VARCHAR NOT NULL,
        total DECIMAL(4,1) NOT NULL,
        previous_as_of DATE,              -- its grading date before that; null: none
        previous_level VARCHAR,
        run_id BIGINT NOT NULL            -- the grading run that last wrote this row
    );
    INSERT INTO latest_grades
    SELECT product_id, as_of, level, total, previous_as_of, previous_level, run_id FROM (
        SELECT product_id, as_of, level, total, run_id,
               lag(as_of) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_as_of,
               lag(level) OVER (PARTITION BY product_id ORDER BY as_of) AS previous_level,
               row_number() OVER (PARTITION BY product_id ORDER BY as_of DESC) AS newest
        FROM grades
    ) WHERE newest = 1;
    """,
    """
    -- The ledger a row per order posting (import, order, post or reverse, the dimensions it
    -- was posted under), a column per share, where it had a row per share: an import of
    -- orders writes an eighth of the rows, and reconcile reads and re-posts an eighth.
    -- Append-only, as before. The view `ledger` shows it as the entries it was: a row per
    -- share that is not 0, the party its account's (the merchant, anchor, agency, second
    -- leader), same columns and types.
    CREATE TABLE ledger_postings (
        import_id BIGINT NOT NULL,        -- the import that posted it
        posted_at TIMESTAMP NOT NULL,
        order_id VARCHAR NOT NULL,
        entry ledger_entry NOT NULL,      -- post, or reverse (undoes an earlier post)
        settles_on DATE,                  -- null: not received yet
        merchant_id VARCHAR,              -- the order's, as posted (party of merchant_fen)
        anchor_id VARCHAR,                -- likewise (party of anchor_fen)
        session_id VARCHAR,
        paid_on DATE,
        mcn VARCHAR,                      -- the agency (party of agency_fen); null when that is 0
        second_leader_id VARCHAR,         -- party of second_leader_fen; null when that is 0
        base_fen BIGINT NOT NULL,
        merchant_fen BIGINT NOT NULL,
        anchor_fen BIGINT NOT NULL,
        agency_fen BIGINT NOT NULL,
        leader_fen BIGINT NOT NULL,
        second_leader_fen BIGINT NOT NULL,
        commission_cut_fen BIGINT NOT NULL,
        service_fee_cut_fen BIGINT NOT NULL,
        technical_fee_fen BIGINT NOT NULL
    );
    INSERT INTO ledger_postings
    SELECT import_id, posted_at, order_id, entry, settles_on, merchant_id, anchor_id,
           session_id, paid_on,
           max(party_id) FILTER (WHERE account = 'agency'),
           max(party_id) FILTER (WHERE account = 'second_leader'),
           coalesce(sum(amount_fen) FILTER (WHERE account = 'base' AND item = 'base'), 0),
           coalesce(sum(amount_fen) FILTER (WHERE account = 'merchant' AND item = 'net'), 0),
           coalesce(sum(amount_fen) FILTER (WHERE account = 'anchor' AND item = 'net'), 0),
           coalesce(sum(amount_fen) FILTER (WHERE account = 'agency' AND item = 'net'), 0),
           coalesce(sum(amount_fen) FILTER (WHERE account = 'leader' AND item = 'net'), 0),
           coalesce(sum(amount_fen) FILTER (
               WHERE account = 'second_leader' AND item = 'net'), 0),
           coalesce(sum(amount_fen) FILTER (
               WHERE account = 'platform' AND item = 'commission_cut'), 0),
           coalesce(sum(amount_fen) FILTER (
               WHERE account = 'platform' AND item = 'service_fee_cut'), 0),
           coalesce(sum(amount_fen) FILTER (
               WHERE account = 'platform' AND item = 'technical_fee'), 0)
    FROM ledger
    GROUP BY import_id, posted_at, order_id, entry, settles_on, merchant_id, anchor_id,
             session_id, paid_on;
    -- Exactly the entries there were, or the upgrade stops (and nothing of it is kept): each
    -- entry an account's own item, not 0, its party the order's merchant or anchor (or
    -- none) where the row has those, and an entry a share of its posting.
    SELECT error('ledger_postings: the ledger holds entries a row per posting cannot keep')
    FROM (
        SELECT (SELECT count(*) FROM ledger WHERE amount_fen = 0
                OR (account, item) NOT IN (
                    ('base', 'base'), ('merchant', 'net'), ('anchor', 'net'), ('agency', 'net'),
                    ('leader', 'net'), ('second_leader', 'net'),
                    ('platform', 'commission_cut'), ('platform', 'service_fee_cut'),
                    ('platform', 'technical_fee'))
                OR CASE account WHEN 'merchant' THEN party_id IS DISTINCT FROM merchant_id
                                WHEN 'anchor' THEN party_id IS DISTINCT FROM anchor_id
                                WHEN 'agency' THEN FALSE WHEN 'second_leader' THEN FALSE
                                ELSE party_id IS NOT NULL END) AS bad,
               (SELECT count(*) FROM ledger) AS entries,
               (SELECT coalesce(sum(
                    CAST(base_fen <> 0 AS INTEGER) + CAST(merchant_fen <> 0 AS INTEGER)
                    + CAST(anchor_fen <> 0 AS INTEGER) + CAST(agency_fen <> 0 AS INTEGER)
                    + CAST(leader_fen <> 0 AS INTEGER) + CAST(second_leader_fen <> 0 AS INTEGER)
                    + CAST(commission_cut_fen <> 0 AS INTEGER)
                    + CAST(service_fee_cut_fen <> 0 AS INTEGER)
                    + CAST(technical_fee_fen <> 0 AS INTEGER)), 0)
                FROM ledger_postings) AS kept
    ) WHERE bad > 0 OR entries <> kept;
    DROP TABLE ledger;
    CREATE VIEW ledger AS
    SELECT import_id, posted_at, order_id, entry, account, item, party_id, settles_on,
           merchant_id, anchor_id, session_id, paid_on, amount_fen
    FROM (
        SELECT p.import_id, p.posted_at, p.order_id, p.entry,
               CAST(s.account AS ledger_account) AS account,
               CAST(s.item AS ledger_item) AS item,
               CASE s.share WHEN 'merchant' THEN p.merchant_id WHEN 'anchor' THEN p.anchor_id
                            WHEN 'agency' THEN p.mcn
                            WHEN 'second_leader' THEN p.second_leader_id END AS party_id,
               p.settles_on, p.merchant_id, p.anchor_id, p.session_id, p.paid_on,
               CASE s.share WHEN 'base' THEN p.base_fen WHEN 'merchant' THEN p.merchant_fen
                            WHEN 'anchor' THEN p.anchor_fen WHEN 'agency' THEN p.agency_fen
                            WHEN 'leader' THEN p.leader_fen
                            WHEN 'second_leader' THEN p.second_leader_fen
                            WHEN 'commission_cut' THEN p.commission_cut_fen
                            WHEN 'service_fee_cut' THEN p.service_fee_cut_fen
                            WHEN 'technical_fee' THEN p.technical_fee_fen END AS amount_fen
        FROM ledger_postings p, (VALUES
            ('base', 'base', 'base'), ('merchant', 'merchant', 'net'),
            ('anchor', 'anchor', 'net'), ('agency', 'agency', 'net'),
            ('leader', 'leader', 'net'), ('second_leader', 'second_leader', 'net'),
            ('commission_cut', 'platform', 'commission_cut'),
            ('service_fee_cut', 'platform', 'service_fee_cut'),
            ('technical_fee', 'platform', 'technical_fee')) s(share, account, item)
    ) WHERE amount_fen <> 0;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The haowu schema version of the database on `con`; 0 when it has no tables yet.

    Raises `UnusableDatabase` when it holds tables but no haowu version (another application's
    DuckDB file) or a version haowu never writes.
    """
    import duckdb

    try:  # first, as it is there in every haowu database: listing the tables costs more
        rows = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except duckdb.Error:  # no meta table, or not haowu's
        rows = []
    if not rows:
        tables = con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1"
        ).fetchall()
        names = [r[0] for r in tables]
        if not names:
            return 0
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise UnusableDatabase(
            _(
                "{database_path} is a DuckDB database of another application (tables: "
                "{shown}), not a haowu database"
            ).format(database_path=database_path(con), shown=shown),
            hint=_("point --db at your haowu database; where no file exists, haowu creates one"),
        )
    value = rows[0][0]
    if not re.fullmatch(r"[1-9][0-9]{0,5}", str(value)):
        raise UnusableDatabase(
            _(
                "{database_path} has schema version {value!r}, which no haowu writes "
                "(this haowu writes version {SCHEMA_VERSION}): the file was changed "
                "outside haowu"
            ).format(database_path=database_path(con), value=value, SCHEMA_VERSION=SCHEMA_VERSION),
            hint=_("restore the database from a backup, or point --db at another database"),
        )
    return int(value)


def known_schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """`schema_version`, refusing a version newer than this haowu knows."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise UnusableDatabase(
            _(
                "{database_path} has schema version {current}, newer than this haowu "
                "knows ({SCHEMA_VERSION}): a newer haowu wrote it"
            ).format(
                database_path=database_path(con), current=current, SCHEMA_VERSION=SCHEMA_VERSION
            ),
            hint=_("upgrade haowu (pip install -U haowu) to use this database"),
        )
    return current


def apply_migrations(con: duckdb.DuckDBPyConnection, current: int) -> None:
    """Run the migrations after version `current` and record the new version. Call inside a
    transaction (`connection.migrate` does)."""
    from haowu_cli.store.lake import is_lake, lake_script

    lake = is_lake(con)  # DuckLake: no keys, sequences or enums (see store.lake)
    for index, script in enumerate(MIGRATIONS[current:], start=current):
        run(con, lake_script(script, "".join(MIGRATIONS[:index])) if lake else script)
    run(con, "DELETE FROM meta WHERE key = 'schema_version'")
    run(con, "INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
