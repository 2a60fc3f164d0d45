"""The code location's Definitions, assembled from the domain packages (nothing else here)."""

from __future__ import annotations

import dagster as dg

from pipelines.cli_log import LOGGERS
from pipelines.ingest.assets import raw_assets
from pipelines.ingest.backlog import backlog_sensor
from pipelines.ingest.checks import raw_checks
from pipelines.ingest.resource import PlatformDatabase
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
from pipelines.maintenance.settings import Maintenance
from pipelines.metrics.checks import metrics_checks
from pipelines.monitoring.checks import alert_checks
from pipelines.sql_assets import grain_checks, sql_assets
from pipelines.sql_models import load_graph
from pipelines.trust.assets import trust, trust_records
from pipelines.trust.checks import trust_checks
from pipelines.trust.resource import TrustModel
from pipelines.usage.checks import usage_checks
from pipelines.warehouse.assets import build_published_warehouse
from pipelines.warehouse.resource import Warehouse

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
    """Each domain's resource from the environment (``EnvVar`` where a variable is set), with
    the defaults its fields declare."""
    return {
        "platform_db": PlatformDatabase.from_env(),
        "warehouse": Warehouse.from_env(),
        "maintenance": Maintenance.from_env(),
        "trust_model": TrustModel.from_env(),
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
