"""Jobs, the schedule and the sensors that keep the warehouse current.

* ``platform_pipeline`` (hourly schedule; ``agenthub pipeline run``): ingest, quarantine,
  staging, executions_all, trust and its platform write-back, the all-time marts, publish.
* ``daily_marts``: the day-partitioned marts for one day or a backfill range.
* ``publish_warehouse``: publish alone, after partition runs.
* ``daily_checks`` (daily schedule): the checks that read whole histories, too costly for
  every hourly run (every raw id counted and compared with the platform, each grain over the
  whole table, trust recomputed from scratch, the exact trust-record comparison). The
  hourly run's blocking checks cover what that run wrote.
* ``platform_maintenance`` (nightly schedule, stopped by default; ``agenthub maintenance
  run``): archive and purge old executions and metric points, VACUUM, expire hirings, repair
  counters, report orphans, table health and the archive, publish.

Every job's steps run in the run's process unless ``PIPELINE_EXECUTOR`` says otherwise
(pipelines/executors.py). Runs go in two lanes (the ``agenthub/lane`` tag, one run per
lane at a time in dagster.yaml): ``pipeline`` (the first four jobs: they build the same tables)
and ``maintenance``. A pipeline run and a maintenance run go side by side: they write disjoint
tables, and their blocks of warehouse work (a step, a maintenance operation) take turns through
the writer lock (pipelines/warehouse/files.py says why turns and not free-for-all).
"""

from __future__ import annotations

import dagster as dg

from pipelines.executors import job_executor
from pipelines.ingest.checks import DAILY_RAW_CHECKS
from pipelines.intermediate.checks import DAILY_INTERMEDIATE_CHECKS
from pipelines.maintenance.assets import MAINTENANCE_KEYS
from pipelines.metrics.checks import DAILY_METRICS_CHECKS
from pipelines.partitions import daily_partitions
from pipelines.sql_assets import whole_table_grain_checks
from pipelines.sql_models import load_graph
from pipelines.trust.checks import DAILY_TRUST_CHECKS
from pipelines.usage.checks import DAILY_USAGE_CHECKS
from pipelines.warehouse.assets import PUBLISHED

PIPELINE_JOB = "platform_pipeline"
DAILY_JOB = "daily_marts"
PUBLISH_JOB = "publish_warehouse"
CHECKS_JOB = "daily_checks"
MAINTENANCE_JOB = "platform_maintenance"

#: The run tag dagster.yaml limits to one run per value: the pipeline's jobs queue behind each
#: other (they write the same tables), maintenance runs beside them.
LANE = "agenthub/lane"
PIPELINE_LANE = {LANE: "pipeline"}
MAINTENANCE_LANE = {LANE: "maintenance"}

#: The day-partitioned models of sql/ (``materialized: day_partitioned``).
DAILY_ASSETS = dg.AssetSelection.assets(
    *(m.key for m in load_graph().sql_assets() if m.materialized == "day_partitioned")
)
PUBLISH_ASSET = dg.AssetSelection.assets(PUBLISHED)
TOUCHED_DAYS = dg.AssetKey(["ops", "touched_days"])
#: The daily ``unique_grain_whole_table`` checks (the run's ``unique_grain`` covers its rows).
WHOLE_TABLE_GRAIN_CHECKS = whole_table_grain_checks(load_graph())
#: Checks that read whole histories: daily, never on the hourly path.
DAILY_CHECK_DEFS = [
    *DAILY_RAW_CHECKS,
    *DAILY_INTERMEDIATE_CHECKS,
    *WHOLE_TABLE_GRAIN_CHECKS,
    *DAILY_USAGE_CHECKS,
    *DAILY_METRICS_CHECKS,
    *DAILY_TRUST_CHECKS,
]
DAILY_CHECKS = dg.AssetSelection.checks(*DAILY_CHECK_DEFS)
MAINTENANCE_ASSETS = dg.AssetSelection.assets(*MAINTENANCE_KEYS)

platform_pipeline = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all() - DAILY_ASSETS - DAILY_CHECKS - MAINTENANCE_ASSETS,
    description="Bring the warehouse up to date from the platform database, write trust back, "
    "then publish it.",
    tags=PIPELINE_LANE,
    executor_def=job_executor(),
)

daily_marts = dg.define_asset_job(
    DAILY_JOB,
    selection=DAILY_ASSETS - DAILY_CHECKS,
    description="Rebuild the day-partitioned marts for a day or a range of days.",
    tags=PIPELINE_LANE,
    executor_def=job_executor(),
)

publish_warehouse = dg.define_asset_job(
    PUBLISH_JOB,
    selection=PUBLISH_ASSET,
    description="Record the warehouse's current snapshot as the published one (and export it).",
    tags=PIPELINE_LANE,
    executor_def=job_executor(),
)

daily_checks = dg.define_asset_job(
    CHECKS_JOB,
    selection=DAILY_CHECKS,
    description="Checks too costly for every hourly run: they read whole histories (every "
    "raw id, every platform id against raw, each grain over the whole table, trust "
    "recomputed from every event, every platform trust record id).",
    tags=PIPELINE_LANE,
    executor_def=job_executor(),
)

platform_maintenance = dg.define_asset_job(
    MAINTENANCE_JOB,
    selection=MAINTENANCE_ASSETS | PUBLISH_ASSET,
    description="Archive and purge old executions and metric points (exactly once), expire "
    "hirings, repair counters, report orphans and table health, then publish the warehouse "
    "so the reports reach readers. Run config "
    "ops: {maintenance: {config: {dry_run: true}}} reports without changing anything.",
    tags=MAINTENANCE_LANE,
    executor_def=job_executor(),
)

hourly_pipeline = dg.ScheduleDefinition(
    name="hourly_platform_pipeline",
    job=platform_pipeline,
    cron_schedule="7 * * * *",
    description="Every hour: the platform pipeline (what `agenthub pipeline run` does).",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

daily_checks_schedule = dg.ScheduleDefinition(
    name="daily_full_checks",
    job=daily_checks,
    cron_schedule="37 3 * * *",
    description="Every day at 03:37 UTC, away from the hourly run at :07: the daily_checks job. "
    "Running by default: it only reads, and a disagreement it finds should not wait for "
    "someone to remember to switch it on.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


nightly_maintenance = dg.ScheduleDefinition(
    name="nightly_platform_maintenance",
    job=platform_maintenance,
    cron_schedule="17 2 * * *",
    description="Every night at 02:17 UTC, away from the hourly run at :07 and the daily "
    "checks at 03:37: the platform_maintenance job. Stopped by default: it deletes rows from "
    "the platform database, so an operator switches it on after a dry run "
    "(`agenthub maintenance run --dry-run`) has shown what it will do.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


def touched_days_of_run(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The days the ``ops/touched_days`` asset recorded in that run (its metadata)."""
    for record in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records:
        materialization = record.event_log_entry.asset_materialization
        if materialization and materialization.asset_key == TOUCHED_DAYS:
            return list(materialization.metadata["touched_days"].value)
    return []


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[platform_pipeline],
    request_job=daily_marts,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="After each pipeline run, rebuild the daily partitions its new rows touched "
    "(late executions and metric points included).",
)
def touched_days_sensor(context: dg.RunStatusSensorContext):
    """One partition run per day touched by the finished pipeline run."""
    valid = set(daily_partitions.get_partition_keys())
    run_id = context.dagster_run.run_id
    for day in touched_days_of_run(context.instance, run_id):
        if day in valid:
            yield dg.RunRequest(run_key=f"{run_id}:{day}", partition_key=day)


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[daily_marts],
    request_job=publish_warehouse,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Publish the warehouse after partition runs, so readers see the new days.",
)
def publish_after_partitions(context: dg.RunStatusSensorContext):
    """Request a publish for each successful partition run."""
    yield dg.RunRequest(run_key=context.dagster_run.run_id)
