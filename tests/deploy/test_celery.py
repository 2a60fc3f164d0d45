"""Past one machine, tested on one: the pipeline job with its steps on two Celery workers
(dagster-celery, Redis on 127.0.0.1:6379 as the broker), Dagster's storage and the warehouse
catalog in PostgreSQL, as README "Outgrowing one machine" says; and with Dagster's
multiprocess executor (a process per step). Steps run in the workers'
processes at the same time, their warehouse writes take turns through the catalog's advisory
lock, and the published warehouse equals what the same job builds in one process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest
import redis
import yaml

from pipelines.executors import celery_settings
from pipelines.ingest.tables import INGESTED_TABLES
from pipelines.warehouse.lake import Lake, open_published
from platform_core.db import make_engine
from platform_core.simulate import SimulationConfig, simulate
from tests.deploy.processes import stop

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HISTORY = SimulationConfig(users=20, agents=5, hirings=40, executions=3_000, days=4)
BROKER = "redis://127.0.0.1:6379/0"
#: Figures compared between the Celery run and the in-process run (no run timestamps).
FIGURES = {
    "executions": "select count(*), sum(duration_ms) from marts.executions_all",
    "usage": "select agent_id, total_executions, success_rate, p95_duration_ms, unique_users,"
    " rating_count, round(trust_score, 9) from marts.agent_usage_summary order by agent_id",
    "quarantine": "select count(*) from marts.quarantine",
}


#: The multiprocess run takes the ingest and the publish only: a process per step costs
#: ~2.5 s (Python and Dagster imported afresh), which the job's ~50 steps would make minutes.
RAW_FIGURES = {
    t: f"select count(*), sum(hash(columns(* exclude (_ingested_at)))) from raw.{t}"
    for t in INGESTED_TABLES
}
INGEST_AND_PUBLISH = ",".join([*(f"raw__{t}" for t in INGESTED_TABLES), "ops__published_warehouse"])


def figures(lake: Lake, queries: dict[str, str]) -> dict[str, list[tuple]]:
    """``queries`` read from the published snapshot of ``lake``."""
    with open_published(lake) as con:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}


def step_spans(instance: dg.DagsterInstance, run_id: str) -> dict[str, tuple[float, float, int]]:
    """step key -> (start, end, pid) from the run's event log."""
    starts: dict[str, tuple[float, int]] = {}
    spans: dict[str, tuple[float, float, int]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = (entry.timestamp, event.pid or 0)
        elif event.event_type == dg.DagsterEventType.STEP_SUCCESS:
            began, pid = starts[event.step_key]
            spans[event.step_key] = (began, entry.timestamp, pid)
    return spans


def wait_until_ready(workers: list[subprocess.Popen], logs: list[Path]) -> None:
    """Wait until every worker says it is ready (Celery logs "ready."), failing with its log
    if one exits."""
    deadline = time.monotonic() + 120
    while not all("ready." in log.read_text() for log in logs):
        for worker, log in zip(workers, logs, strict=True):
            assert worker.poll() is None, log.read_text()[-4000:]
        assert time.monotonic() < deadline, "\n".join(log.read_text()[-2000:] for log in logs)
        time.sleep(0.5)


@pytest.mark.parametrize("executor", ["celery", "multiprocess"])
def test_the_pipeline_with_its_steps_in_other_processes_equals_the_in_process_run(
    executor: str, postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """celery: two workers take the job's steps; multiprocess: a process per step (the
    ingest and the publish)."""
    if executor == "celery":
        try:
            redis.Redis.from_url(BROKER).ping()
        except redis.ConnectionError:
            pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    platform_url = postgres.create(migrated=True)
    engine = make_engine(platform_url)
    simulate(engine, HISTORY)
    engine.dispose()

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    catalog = postgres.create(migrated=False)
    queue = f"agenthub-test-{uuid.uuid4().hex[:8]}"  # this test's tasks only
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # the worker starts `celery`
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": postgres.create(migrated=False).replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
        "PLATFORM_DATABASE_URL": platform_url,
        "WAREHOUSE_CATALOG": catalog,
        # The storage every worker mounts at the same path.
        "WAREHOUSE_DATA_PATH": str(tmp_path / "shared" / "warehouse"),
        "ARCHIVE_DIR": str(tmp_path / "shared" / "archive"),
        "PIPELINE_EXECUTOR": executor,
        "CELERY_BROKER_URL": BROKER,
        "CELERY_QUEUE": queue,
    }
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    monkeypatch.setenv("DAGSTER_PG_URL", env["DAGSTER_PG_URL"])
    monkeypatch.setenv("CELERY_QUEUE", queue)
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    config = tmp_path / "celery.yaml"
    config.write_text(yaml.safe_dump({"execution": {"config": celery_settings()}}))

    selection = ["-o", INGEST_AND_PUBLISH] if executor == "multiprocess" else []
    queries = RAW_FIGURES if executor == "multiprocess" else FIGURES
    workers: list[subprocess.Popen] = []
    logs = [tmp_path / f"worker{i}.log" for i in (1, 2)] if executor == "celery" else []
    try:
        for i, log in enumerate(logs, start=1):
            command = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app",
                       "-y", str(config), "-q", queue, "-n", f"w{i}-{queue}@%h",
                       "--", "--concurrency=1"]  # fmt: skip
            out = log.open("w")
            workers.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            )
        if logs:
            wait_until_ready(workers, logs)
        run = subprocess.run(
            [str(BIN / "dagster"), "job", "execute", "-m", "pipelines.definitions",
             "-j", "platform_pipeline", *selection],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        worker_logs = "\n".join(log.read_text()[-2000:] for log in logs)
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:] + worker_logs
    finally:
        stop(workers, timeout=60)

    instance = dg.DagsterInstance.get()
    try:
        (record,) = instance.get_run_records(dg.RunsFilter(job_name="platform_pipeline"))
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        spans = step_spans(instance, record.dagster_run.run_id)
    finally:
        instance.dispose()
    # Every step ran in another process (a worker's, or its own), in two or more, and steps
    # of two ran at the same time (their warehouse writes took turns through the lock).
    pids = {pid for _, _, pid in spans.values()}
    assert os.getpid() not in pids and len(pids) >= 2, pids
    overlapping = [
        (a, b)
        for a, (start_a, end_a, pid_a) in spans.items()
        for b, (start_b, end_b, pid_b) in spans.items()
        if a < b and pid_a != pid_b and start_a < end_b and start_b < end_a
    ]
    assert overlapping, "no two steps ran at the same time"

    # The same job in one process, on a SQLite catalog: the same figures.
    alone = {
        **env,
        "PIPELINE_EXECUTOR": "in_process",
        "WAREHOUSE_CATALOG": str(tmp_path / "w.sqlite"),
    }
    alone.pop("WAREHOUSE_DATA_PATH")
    alone["ARCHIVE_DIR"] = str(tmp_path / "archive-alone")
    alone.pop("DAGSTER_HOME")
    subprocess.run(
        [str(BIN / "agenthub"), "pipeline", "run"], cwd=tmp_path, env=alone, check=True,
        capture_output=True, timeout=1200,
    )  # fmt: skip
    on_workers = figures(Lake(catalog, env["WAREHOUSE_DATA_PATH"]), queries)
    in_process = figures(Lake(str(tmp_path / "w.sqlite")), queries)
    assert next(iter(on_workers.values()))[0][0] > 0
    assert on_workers == in_process
