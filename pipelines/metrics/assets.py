"""Metrics marts: hourly and daily rollups (daily partitions) and agent liveness."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg
from pydantic import Field

from pipelines.partitions import daily_partitions, day_range
from pipelines.resources import Warehouse
from pipelines.sql_files import run_model
from platform_core.models import utcnow

GROUP = "metrics"


def _rollup(
    model: str, context: dg.AssetExecutionContext, warehouse: Warehouse, table: str
) -> dg.MaterializeResult:
    start, end = day_range(context)
    with warehouse.connect(marts=True) as con:
        run_model(con, model, {"start_day": start, "end_day": end})
        buckets, samples = con.execute(
            f"select count(*), coalesce(sum(samples), 0) from marts.{table}"
            " where bucket_start >= ? and bucket_start < ?",
            [start, end],
        ).fetchall()[0]
    return dg.MaterializeResult(
        metadata={
            "buckets": dg.MetadataValue.int(buckets),
            "samples": dg.MetadataValue.int(int(samples)),
        }
    )


@dg.asset(
    key=["marts", "metrics_rollup_hourly"],
    group_name=GROUP,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[["staging", "stg_agent_metrics"]],
    kinds={"duckdb"},
    description=(
        "Per agent, metric and UTC hour: samples, sum, min, max, avg and exact p50/p95/p99 "
        "from the points. A partition rebuilds its day's buckets, so late points land."
    ),
)
def metrics_rollup_hourly(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Rebuild the hourly buckets of this partition's days."""
    return _rollup("marts/metrics_rollup_hourly.sql", context, warehouse, "metrics_rollup_hourly")


@dg.asset(
    key=["marts", "metrics_rollup_daily"],
    group_name=GROUP,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[["staging", "stg_agent_metrics"]],
    kinds={"duckdb"},
    description=(
        "Per agent, metric and UTC day: the same statistics computed from the points "
        "themselves (never averaged from hourly percentiles)."
    ),
)
def metrics_rollup_daily(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Rebuild the daily buckets of this partition's days."""
    return _rollup("marts/metrics_rollup_daily.sql", context, warehouse, "metrics_rollup_daily")


class LivenessConfig(dg.Config):
    """How old a heartbeat may be before the agent counts as silent."""

    stale_after_minutes: int = Field(default=30, ge=1)


@dg.asset(
    key=["marts", "agent_liveness"],
    group_name=GROUP,
    deps=[["staging", "stg_agents"], ["staging", "stg_agent_metrics"]],
    kinds={"duckdb"},
    description="Approved or active agents whose last heartbeat is older than the threshold.",
)
def agent_liveness(config: LivenessConfig, warehouse: Warehouse) -> dg.MaterializeResult:
    """Rebuild marts.agent_liveness against the threshold."""
    with warehouse.connect(marts=True) as con:
        run_model(
            con,
            "marts/agent_liveness.sql",
            {"run_at": utcnow(), "stale_after_minutes": config.stale_after_minutes},
        )
        silent = con.execute("select count(*) from marts.agent_liveness").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"silent_agents": dg.MetadataValue.int(silent)})
