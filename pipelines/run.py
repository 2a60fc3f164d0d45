"""Run the pipeline in-process: what ``agenthub pipeline run`` does, with Dagster's own jobs.

1. ``platform_pipeline`` (the hourly schedule's job) without its publish step: ingest,
   quarantine, staging, trust and its write-back, the all-time marts;
2. ``daily_marts`` over the days that run touched (one run for the whole range, which the
   assets' single-run backfill policy turns into one query per mart);
3. ``publish_warehouse``, once, so readers see everything at the same moment.

The schedule publishes at the end of ``platform_pipeline`` and again after the partition runs
its sensor starts (readers should not wait for the daily marts there); here the three runs
follow each other at once, and copying the warehouse twice would cost a second full copy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg

from pipelines.cli_log import Failure, failures, run_config_loggers
from pipelines.definitions import defs as location_defs
from pipelines.jobs import DAILY_JOB, PIPELINE_JOB, PUBLISH_JOB, touched_days_of_run
from pipelines.partitions import daily_partitions
from pipelines.warehouse.assets import PUBLISHED

#: Dagster's console logger at INFO: what ``--verbose`` and the tests see.
INFO_LOGS = run_config_loggers(verbose=True)


@dataclass
class PipelineRun:
    """The outcome of one in-process pipeline run (all its jobs)."""

    success: bool = True
    run_ids: list[str] = field(default_factory=list)
    materializations: dict[str, dict[str, object]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    #: Each distinct cause of failure (a step, the resources, the run) once.
    failures: list[Failure] = field(default_factory=list)
    touched_days: list[str] = field(default_factory=list)

    @property
    def published(self) -> str | None:
        """``snapshot N``: what the last publish recorded (None: no publish succeeded)."""
        meta = self.materializations.get(PUBLISHED.to_user_string(), {})
        return f"snapshot {meta['snapshot']}" if "snapshot" in meta else None

    def absorb(self, result: dg.ExecuteInProcessResult) -> None:
        """Add one job result."""
        self.success = self.success and result.success
        self.run_ids.append(result.run_id)
        for event in result.get_asset_materialization_events():
            self.materializations[event.asset_key.to_user_string()] = {
                key: value.value for key, value in event.materialization.metadata.items()
            }
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed:
                name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                if evaluation.severity == dg.AssetCheckSeverity.WARN:
                    self.warnings.append(name)
                else:
                    self.failed_checks.append(name)
        self.failed_steps += [e.step_key for e in result.get_step_failure_events() if e.step_key]
        self.failures += failures(result.all_events)


def run_pipeline(
    instance: dg.DagsterInstance | None = None,
    say: Callable[[str], None] = lambda _message: None,
    defs: dg.Definitions | None = None,
    run_config: dict | None = None,
) -> PipelineRun:
    """Execute the code location's jobs in this process, as the schedule and sensors would.

    ``defs`` defaults to the code location's own (resources from the environment); tests
    pass ``build_defs(their resources)``. ``run_config`` chooses the loggers (default:
    Dagster's console at INFO; the commands pass :func:`run_config_loggers`).
    """
    instance = instance or dg.DagsterInstance.get()
    defs = defs or location_defs
    logs = run_config if run_config is not None else INFO_LOGS
    outcome = PipelineRun()
    say("platform_pipeline: ingest, quarantine, staging, trust, all-time marts")
    job = defs.resolve_job_def(PIPELINE_JOB)
    # The subset names its checks too: an asset selection alone would add every check of the
    # selected assets, the daily_checks job's included.
    unpublished = job.get_subset(
        asset_selection=job.asset_layer.selected_asset_keys - {PUBLISHED},
        asset_check_selection={
            key
            for key in job.asset_layer.asset_graph.asset_check_keys
            if key.asset_key != PUBLISHED
        },
    )
    main = unpublished.execute_in_process(instance=instance, raise_on_error=False, run_config=logs)
    outcome.absorb(main)
    if not main.success:
        return outcome
    valid = set(daily_partitions.get_partition_keys())
    days = sorted(d for d in touched_days_of_run(instance, main.run_id) if d in valid)
    outcome.touched_days = days
    if days:
        say(f"daily_marts: {len(days)} touched day(s), {days[0]} to {days[-1]}")
        daily = defs.resolve_job_def(DAILY_JOB).execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config=logs,
            tags={
                "dagster/asset_partition_range_start": days[0],
                "dagster/asset_partition_range_end": days[-1],
            },
        )
        outcome.absorb(daily)
        if not daily.success:
            return outcome
    say("publish_warehouse")
    outcome.absorb(
        defs.resolve_job_def(PUBLISH_JOB).execute_in_process(
            instance=instance, raise_on_error=False, run_config=logs
        )
    )
    return outcome
