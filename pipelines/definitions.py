"""The code location's Definitions, assembled from the domain packages (nothing else here)."""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.assets import raw_assets
from pipelines.ingest.checks import raw_checks
from pipelines.jobs import (
    daily_checks,
    daily_checks_schedule,
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
from pipelines.trust.assets import trust, trust_scores
from pipelines.trust.checks import trust_checks
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
    *trust_checks,
    *usage_checks,
    *metrics_checks,
]


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment (through ``EnvVar``), with the embedded defaults."""
    return {
        "platform_db": PlatformDatabase(
            url=env_or_default("PLATFORM_DATABASE_URL", default_database_url())
        ),
        "warehouse": Warehouse(path=env_or_default("WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH)),
        "trust_model": TrustModel(
            half_life_days=env_or_default("TRUST_HALF_LIFE_DAYS", "7"),
            timeout_weight=env_or_default("TRUST_TIMEOUT_WEIGHT", "1.5"),
            review_weight=env_or_default("TRUST_REVIEW_WEIGHT", "0.5"),
        ),
    }


def build_defs(resources: dict[str, dg.ConfigurableResource] | None = None) -> dg.Definitions:
    """The code location's Definitions, on ``resources`` (default: from the environment).

    Tests and embedding scripts pass their own resources; nothing else differs.
    """
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[platform_pipeline, daily_marts, publish_warehouse, daily_checks],
        schedules=[hourly_pipeline, daily_checks_schedule],
        sensors=[touched_days_sensor, publish_after_partitions],
        resources=resources if resources is not None else build_resources(),
    )


defs = build_defs()
