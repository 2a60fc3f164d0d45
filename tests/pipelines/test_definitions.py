"""The code location: it loads, validates, and its job runs end to end with Dagster's APIs."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.definitions import build_defs, defs
from pipelines.ingest.assets import raw_assets
from pipelines.ingest.checks import raw_checks
from pipelines.ingest.resource import PlatformDatabase
from pipelines.ingest.tables import INGESTED_TABLES
from pipelines.jobs import (
    CHECKS_JOB,
    DAILY_JOB,
    LANE,
    MAINTENANCE_JOB,
    PIPELINE_JOB,
    PUBLISH_JOB,
)
from pipelines.maintenance.settings import Maintenance
from pipelines.trust.resource import TrustModel
from pipelines.warehouse.lake import open_published
from pipelines.warehouse.resource import Warehouse
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.location import defs_on

REPO = Path(__file__).resolve().parents[2]
SMALL = SimulationConfig(
    users=15,
    agents=5,
    hirings=30,
    executions=2_000,
    days=2,
    metric_interval_minutes=180,
    end=datetime(2026, 11, 20),
)


def test_definitions_load_with_every_asset_check_and_schedule() -> None:
    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    assert {f"raw/{t}" for t in INGESTED_TABLES} | {"ops/published_warehouse"} <= keys
    assert defs.resolve_job_def(PIPELINE_JOB) is not None
    assert defs.resolve_schedule_def("hourly_platform_pipeline").cron_schedule == "7 * * * *"
    assert len(raw_checks) == 3 * len(INGESTED_TABLES)
    for asset in raw_assets:
        assert asset.descriptions_by_key[asset.key]


#: Checks that read a whole table or a whole history (every id, every key).
WHOLE_HISTORY_CHECKS = {
    "every_id_once",
    "matches_source",
    "unique_grain_whole_table",
    "every_raw_execution_once",
    "incremental_equals_full_recompute",
    "platform_has_every_trust_record",
    "reconciles_with_executions_all_days",
    "samples_match_points_all_days",
}


def _check_names(job: str) -> set[tuple[str, str]]:
    graph = defs.resolve_job_def(job).asset_layer.asset_graph
    return {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}


def test_checks_that_read_whole_histories_run_daily_not_hourly() -> None:
    hourly, daily = _check_names(PIPELINE_JOB), _check_names(CHECKS_JOB)
    partitions = _check_names(DAILY_JOB)
    assert {name for _, name in hourly | partitions} & WHOLE_HISTORY_CHECKS == set()
    # agent_usage_summary's all-time reconciliation counts every execution: daily too.
    assert ("marts/agent_usage_summary", "reconciles_with_executions") in daily - hourly
    assert {name for _, name in daily} == WHOLE_HISTORY_CHECKS | {"reconciles_with_executions"}
    assert {(f"raw/{t}", "unique_ids") for t in INGESTED_TABLES} <= hourly
    assert {(f"raw/{t}", "every_id_once") for t in INGESTED_TABLES} <= daily
    # The large tables' grain: their written rows hourly, every row daily.
    for table in ("intermediate/executions_all", "marts/trust_events"):
        assert (table, "unique_grain") in hourly
        assert (table, "unique_grain_whole_table") in daily


@pytest.mark.parametrize("home", ["dagster_home", "deploy"])
def test_the_instance_runs_one_run_per_lane_and_maintenance_beside_the_pipeline(
    home: str, tmp_path: Path
) -> None:
    lanes = {
        job: defs.resolve_job_def(job).tags.get(LANE)
        for job in (PIPELINE_JOB, DAILY_JOB, PUBLISH_JOB, CHECKS_JOB, MAINTENANCE_JOB)
    }
    assert set(lanes.values()) == {"pipeline", "maintenance"}
    assert lanes[MAINTENANCE_JOB] == "maintenance"
    # The instance as Dagster reads it (deploy/ stores runs in PostgreSQL: only its queue).
    config = (REPO / home / "dagster.yaml").read_text()
    if home == "deploy":
        start = config.index("run_coordinator:")
        config = config[start : config.index("\n\n", start)]
    (tmp_path / "dagster.yaml").write_text(config)
    instance = dg.DagsterInstance.from_config(str(tmp_path))
    try:
        queue = instance.get_concurrency_config().run_queue_config
    finally:
        instance.dispose()
    assert queue.max_concurrent_runs == 2
    assert queue.tag_concurrency_limits == [
        {"key": LANE, "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
    ]


@pytest.mark.slow
def test_dagster_definitions_validate_passes() -> None:
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "definitions",
            "validate",
            "-w",
            "workspace.yaml",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_job_materializes_ingest_checks_and_publish(engine: Engine, tmp_path: Path) -> None:
    simulate(engine, SMALL)
    published = tmp_path / "warehouse.sqlite"
    url = engine.url
    if url.get_backend_name() == "postgresql":
        url = url.set(password="s3cret-pw")  # trust auth accepts it; it must never show up
    resources = {
        "platform_db": PlatformDatabase(url=url.render_as_string(hide_password=False)),
        "warehouse": Warehouse(catalog=str(published)),
    }
    resources["trust_model"] = TrustModel()
    resources["maintenance"] = Maintenance(archive_dir=str(tmp_path / "archive"))
    test_defs = build_defs(resources)
    job = test_defs.resolve_job_def(PIPELINE_JOB)
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert len(checks) >= 2 * len(INGESTED_TABLES)
    # The attention check warns about agents, not data: the simulator makes some agents fall
    # silent, so it may fire; every other check passes.
    failed = [c for c in checks if not c.passed]
    assert [c.check_name for c in failed if c.check_name != "none_firing"] == []
    assert all(c.severity == dg.AssetCheckSeverity.WARN for c in failed)
    assert "none_firing" in {c.check_name for c in checks}
    meta = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert meta["raw/executions"]["rows_inserted"].value == SMALL.executions
    assert meta["raw/executions"]["source_rows"].value == SMALL.executions
    con = open_published(published)
    try:
        assert con.execute("SELECT count(*) FROM raw.executions").fetchall()[0][0] == 2_000
    finally:
        con.close()
    # No credential in anything the run recorded.
    for event in result.all_events:
        assert "s3cret-pw" not in str(event)


def test_agenthub_pipeline_run_publishes_the_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the embedded defaults live under ./data
    monkeypatch.delenv("PLATFORM_DATABASE_URL", raising=False)
    monkeypatch.delenv("WAREHOUSE_CATALOG", raising=False)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "init"]).exit_code == 0
    assert runner.invoke(app, ["simulate", "--executions", "1000", "--days", "2"]).exit_code == 0
    result = runner.invoke(app, ["pipeline", "run"])
    assert result.exit_code == 0, result.output
    assert "raw/executions" in result.output
    # The daily checks, as an operator starts them: every one passes on what the run built.
    checks = runner.invoke(app, ["checks", "run"])
    assert checks.exit_code == 0, checks.output
    assert "checks passed" in checks.output and "FAILED" not in checks.output
    published = tmp_path / "data" / "warehouse.sqlite"
    con = open_published(published)
    try:
        assert con.execute("SELECT count(*) FROM raw.executions").fetchall()[0][0] == 1_000
        usage = con.execute("SELECT sum(total_executions) FROM marts.agent_usage_summary")
        total = usage.fetchall()[0][0]
    finally:
        con.close()
    # The analyst's client: `agenthub sql -c` runs the DuckDB CLI from PyPI on the snapshot.
    shell = runner.invoke(
        app,
        [
            "sql",
            "--format",
            "csv",
            "-c",
            "SELECT count(*) AS n, (SELECT sum(total_executions) FROM marts.agent_usage_summary)"
            " AS total FROM raw.executions",
        ],
    )
    assert shell.exit_code == 0, shell.output
    assert shell.output.strip().splitlines() == ["n,total", f"1000,{total}"]


def test_touched_days_sensor_requests_the_partitions_a_run_touched(tmp_path: Path) -> None:
    from sqlalchemy import text

    from pipelines.jobs import (
        publish_after_partitions,
        touched_days_sensor,
    )
    from pipelines.partitions import daily_partitions
    from platform_core import migrate
    from platform_core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'platform.db'}")
    migrate.upgrade(engine)
    end = datetime.now().replace(microsecond=0) - timedelta(hours=2)
    simulate(
        engine,
        SimulationConfig(
            users=10,
            agents=4,
            hirings=20,
            executions=500,
            days=3,
            metric_interval_minutes=240,
            end=end,
        ),
    )
    test_defs = defs_on(engine, tmp_path / "warehouse.sqlite")
    instance = dg.DagsterInstance.ephemeral()
    result = test_defs.resolve_job_def(PIPELINE_JOB).execute_in_process(instance=instance)
    success = next(e for e in result.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    context = dg.build_run_status_sensor_context(
        sensor_name="touched_days_sensor",
        dagster_event=success,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    requests = list(touched_days_sensor(context))
    # Independently: every day with an execution, a hiring or a metric point in the platform.
    with engine.connect() as conn:
        stamps = [
            r[0]
            for r in conn.execute(
                text(
                    "SELECT created_at FROM executions UNION ALL SELECT hired_at FROM hirings"
                    " UNION ALL SELECT recorded_at FROM agent_metrics"
                )
            )
        ]
    expected = {datetime.fromisoformat(str(t)).date().isoformat() for t in stamps}
    expected &= set(daily_partitions.get_partition_keys())
    assert {r.partition_key for r in requests} == expected
    assert len({r.run_key for r in requests}) == len(requests)
    # After a partition run succeeds, a publish is requested.
    daily = test_defs.resolve_job_def("daily_marts").execute_in_process(
        instance=instance, partition_key=end.date().isoformat()
    )
    done = next(e for e in daily.all_events if e.event_type == dg.DagsterEventType.RUN_SUCCESS)
    publish_context = dg.build_run_status_sensor_context(
        sensor_name="publish_after_partitions",
        dagster_event=done,
        dagster_instance=instance,
        dagster_run=daily.dagster_run,
    )
    assert [r.run_key for r in publish_after_partitions(publish_context)] == [daily.run_id]


def test_publish_comes_after_every_unpartitioned_asset() -> None:
    """Readers must get the whole run: publish is downstream of everything the job builds."""
    graph = defs.get_repository_def().asset_graph
    publish = dg.AssetKey(["ops", "published_warehouse"])
    ancestors, todo = set(), [publish]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent not in ancestors:
                ancestors.add(parent)
                todo.append(parent)
    unpartitioned = {k for k in graph.get_all_asset_keys() if not graph.get(k).is_partitioned}
    assert unpartitioned - {publish} == ancestors - {
        k for k in ancestors if graph.get(k).is_partitioned
    }
