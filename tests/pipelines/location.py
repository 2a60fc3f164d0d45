"""The code location's own Definitions on a test's platform database and warehouse."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from sqlalchemy import Engine

from pipelines.definitions import build_defs
from pipelines.ingest.resource import PlatformDatabase
from pipelines.maintenance.settings import Maintenance
from pipelines.trust.resource import TrustModel
from pipelines.warehouse.resource import Warehouse


def defs_on(
    engine: Engine,
    warehouse: Path,
    trust_model: TrustModel | None = None,
    maintenance: Maintenance | None = None,
) -> dg.Definitions:
    """Every asset, check, job, schedule and sensor, on these resources (defaults: the trust
    model's, and an archive next to the warehouse)."""
    return build_defs(
        {
            "platform_db": PlatformDatabase(url=engine.url.render_as_string(hide_password=False)),
            "warehouse": Warehouse(catalog=str(warehouse)),
            "trust_model": trust_model or TrustModel(),
            "maintenance": maintenance
            or Maintenance(archive_dir=str(warehouse.parent / "archive")),
        }
    )
