"""Quarantine, data quality, staging views and executions_all: the clean base of every mart."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.ingest.assets import raw_key
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.resources import Warehouse
from pipelines.sql_files import run_model
from platform_core.models import utcnow

GROUP = "staging"
STAGING_VIEWS = (
    "stg_users",
    "stg_agents",
    "stg_hirings",
    "stg_executions",
    "stg_agent_reviews",
    "stg_agent_metrics",
)


@dg.asset(
    key=["marts", "quarantine"],
    group_name=GROUP,
    deps=[raw_key(t) for t in SOURCE_TABLES],
    kinds={"duckdb"},
    description=(
        "Rows that break a data rule (invalid JSON, negative or absurd duration, completed "
        "before started, unknown status, future timestamps, orphaned foreign keys, duplicate "
        "execution_id, ...), one row per (table, row, rule); they stay out of every statistic."
    ),
)
def quarantine(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    """Rebuild marts.quarantine and append this run's counts to marts.data_quality."""
    run_at = utcnow()
    with warehouse.connect(marts=True) as con:
        run_model(con, "marts/quarantine.sql", {"run_at": run_at})
        run_model(con, "marts/data_quality.sql", {"run_at": run_at})
        counts = con.execute(
            "select table_name || '.' || rule, count(*) from marts.quarantine group by 1 order by 1"
        ).fetchall()
    total = sum(n for _, n in counts)
    context.log.info(f"{total:,} quarantined rows")
    return dg.MaterializeResult(
        metadata={
            "quarantined_rows": dg.MetadataValue.int(total),
            "by_rule": dg.MetadataValue.json({k: n for k, n in counts}),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staging", view],
            group_name=GROUP,
            deps=[["marts", "quarantine"]],
            kinds={"duckdb"},
            description=f"Typed, renamed view of raw.{view.removeprefix('stg_')} without "
            "quarantined rows.",
        )
        for view in STAGING_VIEWS
    ]
)
def staging_views(warehouse: Warehouse):
    """(Re)create the staging views over raw (cheap: views, no data moved)."""
    with warehouse.connect(marts=True) as con:
        for view in STAGING_VIEWS:
            run_model(con, f"staging/{view}.sql")
    for view in STAGING_VIEWS:
        yield dg.MaterializeResult(asset_key=["staging", view])


@dg.asset(
    key=["marts", "executions_all"],
    group_name=GROUP,
    deps=[raw_key("executions"), ["marts", "quarantine"]],
    kinds={"duckdb"},
    description=(
        "Every execution the platform ever had, exactly once per id: the warehouse mirror "
        "(which keeps rows purged from the platform), with is_quarantined; the maintenance "
        "archive joins here, flagged is_archived, once maintenance writes one. "
        "All-time statistics read it."
    ),
)
def executions_all(warehouse: Warehouse) -> dg.MaterializeResult:
    """Rebuild marts.executions_all."""
    with warehouse.connect(marts=True) as con:
        run_model(con, "marts/executions_all.sql")
        total, quarantined = con.execute(
            "select count(*), count(*) filter (where is_quarantined) from marts.executions_all"
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(total),
            "quarantined": dg.MetadataValue.int(quarantined),
        }
    )


@dg.asset(
    key=["ops", "touched_days"],
    group_name=GROUP,
    deps=[
        ["marts", "executions_all"],
        ["staging", "stg_hirings"],
        ["staging", "stg_agent_metrics"],
    ],
    kinds={"duckdb"},
    description=(
        "UTC days whose executions, hirings or metric points arrived since the last run, "
        "late ones included: the daily partitions to rebuild. The touched_days sensor and "
        "`agenthub pipeline run` read them from this asset's metadata."
    ),
)
def touched_days(warehouse: Warehouse) -> dg.MaterializeResult:
    """Days touched by rows ingested since the previous run, recorded in ops.watermarks."""
    with warehouse.connect(marts=True) as con:
        run_model(con, "ops/watermarks.sql")
        since = con.execute(
            "select advanced_at from ops.watermarks where table_name = 'touched_days'"
        ).fetchall()
        rows = con.execute(
            """
            with touched as (
                select created_at::date as day, _ingested_at from raw.executions
                union all select hired_at::date, _ingested_at from raw.hirings
                union all select recorded_at::date, _ingested_at from raw.agent_metrics
            )
            select day, max(_ingested_at) from touched
            where _ingested_at > $since and day is not null and day <= current_date + 1
            group by day order by day
            """,
            {"since": since[0][0] if since else "1970-01-01"},
        ).fetchall()
        days = [d.isoformat() for d, _ in rows]
        if rows:
            newest = max(t for _, t in rows)
            con.execute(
                "insert or replace into ops.watermarks values ('touched_days', null, 0, ?)",
                [newest],
            )
    return dg.MaterializeResult(
        metadata={
            "touched_days": dg.MetadataValue.json(days),
            "count": dg.MetadataValue.int(len(days)),
        }
    )
