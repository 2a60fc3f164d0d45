"""The code location's Definitions, assembled from the domain packages (nothing else here)."""

from __future__ import annotations

import dagster as dg

from pipelines.cli_log import LOGGERS
from pipelines.ingest.assets import raw_assets
from pipelines.ingest.backlog import backlog_sensor
from pipelines.ingest.checks import raw_checks
from pipelines.intermediate.checks import intermediate_checks
from pipelines.jobs import (
    WHOLE_TABLE_GRAIN_CHECKS,
    daily_checks,
    daily_checks_schedule,
    daily_marts,
    hourly_pipeline,
    nightly_maintenance,
    platform_maintenance,
    platform_pipeline,
    publish_after_partitions,
    publish_warehouse,
    touched_days_sensor,
)
from pipelines.maintenance.assets import maintenance
from pipelines.maintenance.settings import DEFAULT_ARCHIVE_DIR, Maintenance
from pipelines.metrics.checks import metrics_checks
from pipelines.monitoring.checks import alert_checks
from pipelines.resources import (
    DEFAULT_MARTS_MEMORY_LIMIT,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_WAREHOUSE_PATH,
    PlatformDatabase,
    TrustModel,
    Warehouse,
    env_or_default,
)
from pipelines.sql_assets import grain_checks, sql_assets
from pipelines.sql_models import load_graph
from pipelines.trust.assets import trust, trust_records
from pipelines.trust.checks import trust_checks
from pipelines.usage.checks import usage_checks
from pipelines.warehouse.assets import build_published_warehouse
from platform_core.config import default_database_url

GRAPH = load_graph()
#: Everything but publish: the raw mirrors, one asset per SQL model, and what Python drives.
BUILT = [*raw_assets, *sql_assets(GRAPH), trust, trust_records, maintenance]
#: Publish follows every asset the hourly job builds (the day-partitioned marts are published
#: after their own runs).
ASSETS = [
    *BUILT,
    build_published_warehouse(
        key for asset in BUILT if asset.partitions_def is None for key in asset.keys
    ),
]
CHECKS = [
    *raw_checks,
    *grain_checks(GRAPH),
    *WHOLE_TABLE_GRAIN_CHECKS,
    *intermediate_checks,
    *trust_checks,
    *usage_checks,
    *metrics_checks,
    *alert_checks,
]


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment (through ``EnvVar``), with the embedded defaults."""
    return {
        "platform_db": PlatformDatabase(
            url=env_or_default("PLATFORM_DATABASE_URL", default_database_url())
        ),
        "warehouse": Warehouse(
            path=env_or_default("WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH),
            memory_limit=env_or_default("WAREHOUSE_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            marts_memory_limit=env_or_default(
                "WAREHOUSE_MARTS_MEMORY_LIMIT", DEFAULT_MARTS_MEMORY_LIMIT
            ),
        ),
        "maintenance": Maintenance(
            archive_dir=env_or_default("ARCHIVE_DIR", DEFAULT_ARCHIVE_DIR),
            execution_retention_days=env_or_default("EXECUTION_RETENTION_DAYS", "90"),
            metrics_retention_days=env_or_default("METRICS_RETENTION_DAYS", "30"),
        ),
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
        jobs=[
            platform_pipeline,
            daily_marts,
            publish_warehouse,
            daily_checks,
            platform_maintenance,
        ],
        schedules=[hourly_pipeline, daily_checks_schedule, nightly_maintenance],
        sensors=[touched_days_sensor, publish_after_partitions, backlog_sensor(platform_pipeline)],
        resources=resources if resources is not None else build_resources(),
        loggers=LOGGERS,
    )


defs = build_defs()
