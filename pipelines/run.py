"""Run the pipeline job in-process: what ``agenthub pipeline run`` and the schedule both do."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from pipelines.definitions import defs
from pipelines.jobs import PIPELINE_JOB


@dataclass
class PipelineRun:
    """The outcome of one in-process run of the pipeline job."""

    success: bool
    run_id: str
    materializations: dict[str, dict[str, object]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)


def run_pipeline(instance: dg.DagsterInstance | None = None) -> PipelineRun:
    """Execute the ``platform_pipeline`` job of the code location, in this process.

    The job definition, resources and assets are the ones ``dagster dev`` shows; with
    ``DAGSTER_HOME`` set the run is recorded in that instance and appears in the UI.
    """
    job = defs.resolve_job_def(PIPELINE_JOB)
    instance = instance or dg.DagsterInstance.get()
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        # Step starts, finishes and the assets' own progress lines; not the DEBUG firehose.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
    outcome = PipelineRun(success=result.success, run_id=result.run_id)
    for event in result.get_asset_materialization_events():
        outcome.materializations[event.asset_key.to_user_string()] = {
            key: value.value for key, value in event.materialization.metadata.items()
        }
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            outcome.failed_checks.append(
                f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            )
    outcome.failed_steps = [e.step_key for e in result.get_step_failure_events() if e.step_key]
    return outcome
