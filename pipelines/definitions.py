"""The code location's Definitions, assembled from the domain packages (nothing else here)."""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.assets import raw_assets
from pipelines.ingest.checks import raw_checks
from pipelines.jobs import hourly_pipeline, platform_pipeline
from pipelines.resources import DEFAULT_WAREHOUSE_PATH, PlatformDatabase, Warehouse, env_or_default
from pipelines.warehouse.assets import published_warehouse
from platform_core.config import default_database_url


def build_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment, with the embedded defaults."""
    return {
        "platform_db": PlatformDatabase(
            url=env_or_default("PLATFORM_DATABASE_URL", default_database_url())
        ),
        "warehouse": Warehouse(path=env_or_default("WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH)),
    }


defs = dg.Definitions(
    assets=[*raw_assets, published_warehouse],
    asset_checks=raw_checks,
    jobs=[platform_pipeline],
    schedules=[hourly_pipeline],
    resources=build_resources(),
)
