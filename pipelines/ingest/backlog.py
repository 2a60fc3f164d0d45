"""The backlog sensor: a catch-up pipeline run when the platform is far ahead of the warehouse.

The hourly schedule keeps the warehouse at most an hour behind; a burst of activity (a batch
import, a busy launch) can put hundreds of thousands of executions between two runs, and the
dashboards would show a stale hour. The sensor asks, every few minutes, how many executions
changed after the executions watermark the *published* warehouse holds, and starts the
pipeline when more than ``INGEST_BACKLOG_THRESHOLD`` did (default 10,000).

Cheap by construction: the count stops at threshold + 1 rows (``LIMIT`` inside the count,
over the ``(updated_at, id)`` index the ingest reads by), so a backlog of ten million costs
what a backlog of ten thousand does. The watermark is read from the published snapshot, which no
writer ever locks (README, "Readers never see a lock").
"""

from __future__ import annotations

import os
from datetime import datetime

import dagster as dg
import duckdb
from sqlalchemy import text

from pipelines.ingest.resource import PlatformDatabase
from pipelines.warehouse.lake import Lake, NotPublished, open_published
from pipelines.warehouse.resource import Warehouse
from platform_core.db import make_engine

THRESHOLD_VARIABLE = "INGEST_BACKLOG_THRESHOLD"
DEFAULT_THRESHOLD = 10_000
#: Runs of the pipeline job in these states make a catch-up run pointless.
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def backlog_threshold() -> int:
    """``INGEST_BACKLOG_THRESHOLD`` (a positive whole number of executions), else the default."""
    raw = os.environ.get(THRESHOLD_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD
    try:
        value = int(raw.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"{THRESHOLD_VARIABLE} must be a positive whole number of executions, not {raw!r}"
        )
    return value


def published_watermark(lake: Lake) -> datetime | None:
    """The executions watermark (newest ``updated_at`` ingested) of the published snapshot;
    None when nothing was published yet. A fresh read-only attach each time: the sensor runs
    in a long-lived process and must see each new publish."""
    try:
        con = open_published(lake)
    except NotPublished:
        return None
    try:
        row = con.execute(
            "select updated_at from ops.watermarks where table_name = 'executions'"
        ).fetchone()
    except duckdb.CatalogException:
        return None  # published, but by a version without watermarks: everything is new
    finally:
        con.close()
    return row[0] if row else None


def executions_after(url: str, watermark: datetime | None, limit: int) -> int:
    """How many platform executions changed after ``watermark``, counted up to ``limit``."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if watermark is None:
                sql = "SELECT count(*) FROM (SELECT 1 FROM executions LIMIT :n) AS b"
                return int(conn.execute(text(sql), {"n": limit}).scalar_one())
            sql = (
                "SELECT count(*) FROM (SELECT 1 FROM executions WHERE updated_at > :w"
                " LIMIT :n) AS b"
            )
            return int(conn.execute(text(sql), {"w": watermark, "n": limit}).scalar_one())
    finally:
        engine.dispose()


def backlog_sensor(job: dg.JobDefinition | dg.UnresolvedAssetJobDefinition) -> dg.SensorDefinition:
    """The sensor on ``job`` (the platform pipeline)."""

    @dg.sensor(
        name="ingest_backlog_sensor",
        job=job,
        minimum_interval_seconds=120,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Every 2 minutes: when more than INGEST_BACKLOG_THRESHOLD (default 10,000) platform "
            "executions changed after the published warehouse's watermark, start a catch-up "
            "pipeline run instead of waiting for the hour. Counts at most threshold + 1 rows; "
            "skips while a pipeline run is queued or running; one request per watermark, so "
            "a failing run is not retried in a loop (the hourly schedule runs regardless). "
            "Running by default: it only starts the job the hourly schedule starts, sooner."
        ),
    )
    def ingest_backlog_sensor(
        context: dg.SensorEvaluationContext, platform_db: PlatformDatabase, warehouse: Warehouse
    ) -> dg.RunRequest | dg.SkipReason:
        """Request a pipeline run when the un-ingested executions exceed the threshold."""
        threshold = backlog_threshold()
        active = context.instance.get_run_records(
            dg.RunsFilter(job_name=job.name, statuses=ACTIVE), limit=1
        )
        if active:
            return dg.SkipReason(f"a {job.name} run is queued or running")
        watermark = published_watermark(warehouse.lake)
        backlog = executions_after(platform_db.url, watermark, threshold + 1)
        if backlog <= threshold:
            return dg.SkipReason(
                f"{backlog:,} executions changed after {watermark or 'the start'}"
                f" (threshold {threshold:,})"
            )
        return dg.RunRequest(
            run_key=f"backlog:{watermark.isoformat() if watermark else 'empty'}",
            tags={"agenthub/trigger": "ingest_backlog_sensor"},
        )

    return ingest_backlog_sensor
