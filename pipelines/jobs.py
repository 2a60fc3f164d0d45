"""The pipeline job and its schedule."""

from __future__ import annotations

import dagster as dg

PIPELINE_JOB = "platform_pipeline"

platform_pipeline = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.groups("ingest", "publish"),
    description="Bring the warehouse up to date from the platform database, then publish it.",
    # One process: DuckDB allows one writer per file, so the assets run one after another.
    executor_def=dg.in_process_executor,
)

hourly_pipeline = dg.ScheduleDefinition(
    name="hourly_platform_pipeline",
    job=platform_pipeline,
    cron_schedule="7 * * * *",
    description="Every hour: incremental ingest and publish (what `agenthub pipeline run` does).",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
