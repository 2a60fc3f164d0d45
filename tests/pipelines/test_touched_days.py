"""Days a pipeline run touched stay owed until the daily marts are rebuilt for them: a run
whose partition runs never happened (a failure, a sensor that did not fire) leaves its days to
the next run, which rebuilds them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
from sqlalchemy import Engine

from pipelines.jobs import DAILY_JOB, PIPELINE_JOB, touched_days_of_run
from pipelines.run import run_pipeline
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import Lake, open_lake, open_published
from platform_core.models import utcnow
from platform_core.simulate import SimulationConfig
from tests.pipelines.location import defs_on
from tests.worlds import simulated_engine

END = utcnow().replace(minute=0, second=0, microsecond=0)
HISTORY = SimulationConfig(users=10, agents=4, hirings=20, executions=1_500, days=3, end=END)


def _days_with_usage(warehouse: Path) -> set[str]:
    con = open_published(warehouse)
    try:
        # A day may hold metric points only (the first hour after midnight UTC).
        rows = con.execute(
            "select distinct day::varchar from marts.agent_usage_daily union"
            " select distinct bucket_start::date::varchar from marts.metrics_rollup_daily"
        ).fetchall()
        return {r[0] for r in rows}
    except duckdb.CatalogException:
        return set()  # no partition run yet
    finally:
        con.close()


def _platform(tmp_path: Path) -> Engine:
    return simulated_engine("sqlite", None, tmp_path, HISTORY)


def test_days_of_a_run_whose_partitions_were_not_rebuilt_are_rebuilt_by_the_next(
    tmp_path: Path,
) -> None:
    engine = _platform(tmp_path)
    warehouse = tmp_path / "warehouse.sqlite"
    defs = defs_on(engine, warehouse)
    instance = dg.DagsterInstance.ephemeral()
    # The hourly job alone: it ingests and records the touched days, but no partition run
    # follows (the daily marts failed, or the sensor never ran).
    first = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(instance=instance)
    assert first.success
    touched = set(touched_days_of_run(instance, first.run_id))
    assert (END - timedelta(days=1)).date().isoformat() in touched
    assert not touched & _days_with_usage(warehouse)  # nothing built for them yet
    # Nothing new on the platform: the next run still owes those days, and rebuilds them.
    outcome = run_pipeline(instance, defs=defs)
    assert outcome.success, outcome.failed_steps
    assert set(outcome.touched_days) == touched
    assert touched <= _days_with_usage(warehouse)
    # Settled: a run after that owes nothing.
    assert run_pipeline(instance, defs=defs).touched_days == []
    engine.dispose()


def test_a_failed_partition_run_leaves_its_days_owed(tmp_path: Path) -> None:
    engine = _platform(tmp_path)
    warehouse = tmp_path / "warehouse.sqlite"
    defs = defs_on(engine, warehouse)
    instance = dg.DagsterInstance.ephemeral()
    first = run_pipeline(instance, defs=defs)
    assert first.success and first.touched_days
    # A later partition run of one day fails half way (its marts' table is gone, as a crash
    # or a hand-made mistake would leave it): that day must stay owed.
    day = first.touched_days[-1]
    with connect_working(warehouse) as con:
        con.execute("insert into ops.pending_days values (?, now())", [day])
        con.execute("drop table marts.metrics_rollup_daily")
        con.execute("create view marts.metrics_rollup_daily as select 1 as broken")
    failed = defs.resolve_job_def(DAILY_JOB).execute_in_process(
        instance=instance, partition_key=day, raise_on_error=False
    )
    assert not failed.success
    con = open_lake(Lake.of(warehouse), read_only=True)
    try:
        assert con.execute("select day::varchar from ops.pending_days").fetchall() == [(day,)]
    finally:
        con.close()
    engine.dispose()
