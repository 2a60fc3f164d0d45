"""The code location's Definitions, assembled from the domain packages (nothing else here)."""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.assets import raw_assets
from pipelines.ingest.checks import raw_checks
from pipelines.jobs import (
    daily_marts,
    hourly_pipeline,
    platform_pipeline,
    publish_after_partitions,
    publish_warehouse,
    touched_days_sensor,
)
from pipelines.metrics.assets import (
    agent_liveness,
    metrics_rollup_daily,
    metrics_rollup_hourly,
)
from pipelines.metrics.checks import metrics_checks
from pipelines.resources import (
    DEFAULT_WAREHOUSE_PATH,
    PlatformDatabase,
    TrustModel,
    Warehouse,
    env_or_default,
)
from pipelines.staging.assets import executions_all, quarantine, staging_views, touched_days
from pipelines.staging.checks import staging_checks
from pipelines.trust.assets import (
    incremental_equals_full_recompute,
    trust,
    trust_in_unit_interval,
    trust_scores,
)
from pipelines.usage.assets import agent_usage_daily, agent_usage_summary, user_activity
from pipelines.usage.checks import usage_checks
from pipelines.warehouse.assets import published_warehouse
from platform_core.config import default_database_url

ASSETS = [
    *raw_assets,
    quarantine,
    staging_views,
    executions_all,
    touched_days,
    trust,
    trust_scores,
    agent_usage_daily,
    agent_usage_summary,
    user_activity,
    metrics_rollup_hourly,
    metrics_rollup_daily,
    agent_liveness,
    published_warehouse,
]
CHECKS = [
    *raw_checks,
    *staging_checks,
    trust_in_unit_interval,
    incremental_equals_full_recompute,
    *usage_checks,
    *metrics_checks,
]


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment, with the embedded defaults."""
    return {
        "platform_db": PlatformDatabase(
            url=env_or_default("PLATFORM_DATABASE_URL", default_database_url())
        ),
        "warehouse": Warehouse(path=env_or_default("WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH)),
        "trust_model": TrustModel(),
    }


defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[platform_pipeline, daily_marts, publish_warehouse],
    schedules=[hourly_pipeline],
    sensors=[touched_days_sensor, publish_after_partitions],
    resources=build_resources(),
)
