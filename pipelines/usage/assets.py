"""Usage marts: agent_usage_daily (daily partitions), agent_usage_summary, user_activity."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.partitions import daily_partitions, day_range
from pipelines.resources import Warehouse
from pipelines.sql_files import run_model
from platform_core.models import utcnow

GROUP = "usage"


@dg.asset(
    key=["marts", "agent_usage_daily"],
    group_name=GROUP,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[["marts", "executions_all"], ["staging", "stg_hirings"], ["staging", "stg_agents"]],
    kinds={"duckdb"},
    description=(
        "Per agent and UTC day: executions by outcome, success rate, mean and exact "
        "p50/p95/p99 duration of completed runs, unique users, mean CPU and memory, new "
        "hirings, per-use revenue. A partition run deletes and rebuilds its days; a backfill "
        "of any range is one query."
    ),
)
def agent_usage_daily(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Rebuild the days of this partition (or backfill range)."""
    start, end = day_range(context)
    with warehouse.connect(marts=True) as con:
        run_model(con, "marts/agent_usage_daily.sql", {"start_day": start, "end_day": end})
        rows, executions = con.execute(
            "select count(*), coalesce(sum(executions), 0) from marts.agent_usage_daily"
            " where day >= ? and day < ?",
            [start, end],
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            "rows": dg.MetadataValue.int(rows),
            "executions": dg.MetadataValue.int(int(executions)),
        }
    )


@dg.asset(
    key=["marts", "agent_usage_summary"],
    group_name=GROUP,
    deps=[
        ["marts", "executions_all"],
        ["marts", "agent_trust"],
        ["staging", "stg_hirings"],
        ["staging", "stg_agent_reviews"],
        ["staging", "stg_agents"],
    ],
    kinds={"duckdb"},
    description=(
        "One row per agent, all time (executions purged from the platform included): "
        "hirings, active hirings, executions, success rate, mean and p95 duration, unique "
        "users, rating, trust score, first and last execution. Each child table is aggregated "
        "on its own, then joined."
    ),
)
def agent_usage_summary(warehouse: Warehouse) -> dg.MaterializeResult:
    """Rebuild marts.agent_usage_summary."""
    with warehouse.connect(marts=True) as con:
        run_model(con, "marts/agent_usage_summary.sql", {"run_at": utcnow()})
        rows = con.execute("select count(*) from marts.agent_usage_summary").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(rows)})


@dg.asset(
    key=["marts", "user_activity"],
    group_name=GROUP,
    deps=[["marts", "executions_all"], ["staging", "stg_users"], ["staging", "stg_hirings"]],
    kinds={"duckdb"},
    description="One row per user: agents hired, executions, failed executions, last execution.",
)
def user_activity(warehouse: Warehouse) -> dg.MaterializeResult:
    """Rebuild marts.user_activity."""
    with warehouse.connect(marts=True) as con:
        run_model(con, "marts/user_activity.sql")
        rows = con.execute("select count(*) from marts.user_activity").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"rows": dg.MetadataValue.int(rows)})
