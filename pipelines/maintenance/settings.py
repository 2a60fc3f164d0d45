"""The maintenance job's configuration: where the archive lives and what is kept how long."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import ClassVar

import dagster as dg
from pydantic import Field

from pipelines.env import FromEnvironment
from pipelines.warehouse.upkeep import DEFAULT_RETENTION_DAYS, retention_days
from platform_core.config import SettingError

DEFAULT_ARCHIVE_DIR = "data/archive"


def _days(value: str, variable: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise SettingError(
            variable, f"{value!r} is not a whole number of days.", "give a number like 90."
        ) from None
    if days < 1:
        raise SettingError(variable, f"{days} days keeps nothing.", "give at least 1 day.")
    return days


def check_archive_dir(value: str) -> Path:
    """``ARCHIVE_DIR`` as a folder the archive can be written to, or a SettingError. The
    default is created; a folder named by hand must exist or have an existing parent, so a
    typo fails instead of archiving into a new tree nobody reads."""
    path = Path(value)
    variable = "ARCHIVE_DIR"
    if path.exists() and not path.is_dir():
        raise SettingError(variable, f"{path} is a file, not a folder.", "point it at a folder.")
    if value != DEFAULT_ARCHIVE_DIR and not path.exists() and not path.parent.is_dir():
        raise SettingError(
            variable,
            f"neither {path} nor its folder {path.parent} exists (nothing was created).",
            f"check the path for a typo, or create it (mkdir -p {path}).",
        )
    existing = path if path.is_dir() else path.parent
    if existing.is_dir() and not os.access(existing, os.W_OK):
        raise SettingError(
            variable,
            f"{existing} is not writable by this user.",
            "fix its permissions or choose another folder.",
        )
    return path


class Maintenance(FromEnvironment, dg.ConfigurableResource):
    """Archive location and retention periods (``ARCHIVE_DIR``, ``EXECUTION_RETENTION_DAYS``,
    ``METRICS_RETENTION_DAYS``). The retention fields hold text so that an ``EnvVar`` can set
    them and the UI shows the variable's name; a bad value fails the step naming it."""

    ENVIRONMENT: ClassVar[dict[str, str]] = {
        "archive_dir": "ARCHIVE_DIR",
        "execution_retention_days": "EXECUTION_RETENTION_DAYS",
        "metrics_retention_days": "METRICS_RETENTION_DAYS",
        "snapshot_retention_days": "WAREHOUSE_SNAPSHOT_RETENTION_DAYS",
    }

    archive_dir: str = Field(
        default=DEFAULT_ARCHIVE_DIR, description="Root of the Parquet archive (ARCHIVE_DIR)."
    )
    execution_retention_days: str = Field(
        default="90",
        description="Terminal executions finished longer ago than this are archived and "
        "purged from the platform (EXECUTION_RETENTION_DAYS).",
    )
    metrics_retention_days: str = Field(
        default="30",
        description="Metric points older than this are archived and purged once rolled up "
        "(METRICS_RETENTION_DAYS).",
    )
    snapshot_retention_days: str = Field(
        default=str(DEFAULT_RETENTION_DAYS),
        description="Warehouse snapshots older than this are expired by the maintenance "
        "job's upkeep, and the files only they use deleted; never the published one "
        "(WAREHOUSE_SNAPSHOT_RETENTION_DAYS).",
    )
    batch_size: int = Field(
        default=10_000,
        description="Rows per archive batch: one platform transaction each, so platform "
        "writers never wait long.",
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse settings that cannot work before anything is archived or purged."""
        check_archive_dir(self.archive_dir)
        _days(self.execution_retention_days, "EXECUTION_RETENTION_DAYS")
        _days(self.metrics_retention_days, "METRICS_RETENTION_DAYS")
        retention_days(self.snapshot_retention_days)

    @property
    def archive_path(self) -> Path:
        """The archive root as a path."""
        return Path(self.archive_dir)

    def execution_cutoff(self, now: datetime) -> datetime:
        """Executions that ended before this are archived."""
        return now - timedelta(
            days=_days(self.execution_retention_days, "EXECUTION_RETENTION_DAYS")
        )

    def metrics_cutoff(self, now: datetime) -> datetime:
        """Metric points recorded before this are archived (once rolled up)."""
        return now - timedelta(days=_days(self.metrics_retention_days, "METRICS_RETENTION_DAYS"))
