"""Plan versions: a plan replanned mid-session (`haowu live replan`) and the versions linked to
its first plan."""

from __future__ import annotations

from typing import TYPE_CHECKING

from haowu_cli.store.sql import frame

if TYPE_CHECKING:
    import duckdb
    import polars as pl

__all__ = ["plan_versions"]


def plan_versions(con: duckdb.DuckDBPyConnection, plan_id: int) -> pl.DataFrame:
    """Every version of the plan `plan_id` belongs to (the first plan and those replanned
    from it), by version: `plan_id`, `version` (1 for the first), `created_at`, `status`,
    `objective_fen`, `bound_fen`, `replanned_session`, `applies_from` and
    `applies_from_minute` (null for the first: it applies from the start). Empty when there
    is no such plan."""
    return frame(
        con,
        """
        WITH root AS (
            SELECT coalesce(parent_plan_id, plan_id) AS root_id FROM plans WHERE plan_id = ?
        )
        SELECT p.plan_id, coalesce(p.version, 1) AS version, p.created_at, p.status,
               p.objective_fen, p.bound_fen, p.replanned_session, p.applies_from,
               p.applies_from_minute
        FROM plans p, root
        WHERE p.plan_id = root.root_id OR p.parent_plan_id = root.root_id
        ORDER BY version, p.plan_id
        """,
        [plan_id],
    )
