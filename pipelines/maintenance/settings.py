"""The maintenance job's configuration: where the archive lives and what is kept how long."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
from pydantic import Field

DEFAULT_ARCHIVE_DIR = "data/archive"


def _days(value: str, variable: str) -> int:
    try:
        days = int(value)
    except ValueError:
        raise ValueError(f"{variable} must be a whole number of days, got {value!r}") from None
    if days < 1:
        raise ValueError(f"{variable} must be at least 1 day, got {days}")
    return days


class Maintenance(dg.ConfigurableResource):
    """Archive location and retention periods (``ARCHIVE_DIR``, ``EXECUTION_RETENTION_DAYS``,
    ``METRICS_RETENTION_DAYS``). The retention fields hold text so that an ``EnvVar`` can set
    them and the UI shows the variable's name; a bad value fails the step naming it."""

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
    batch_size: int = Field(
        default=10_000,
        description="Rows per archive batch: one platform transaction each, so platform "
        "writers never wait long.",
    )

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
