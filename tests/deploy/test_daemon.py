"""The production layout of deploy/ started for real: Dagster's storage in a throwaway
PostgreSQL database (deploy/dagster.yaml, dagster-postgres), the code location as its own gRPC
server (deploy/workspace.yaml), and `dagster-daemon run`. Nothing is published yet, so the
backlog sensor must start a catch-up pipeline run; the daemon's queue launches it through the
code server, and the run must finish and publish the platform's executions."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import text

from pipelines.warehouse.lake import open_published
from platform_core.db import make_engine
from platform_core.simulate import SimulationConfig, simulate
from tests.deploy.processes import stop
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HISTORY = SimulationConfig(users=20, agents=4, hirings=40, executions=2_000, days=3)


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the code server exited:\n{log.read_text()[-4000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"the code server did not listen on {port}:\n{log.read_text()[-4000:]}")


@pytest.mark.slow
def test_the_daemon_runs_a_sensor_started_pipeline_on_postgres_storage(
    postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform_url = postgres.create(migrated=True)
    engine = make_engine(platform_url)
    simulate(engine, HISTORY)
    with engine.connect() as conn:
        on_platform = conn.execute(text("SELECT count(*) FROM executions")).scalar_one()
    engine.dispose()

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    workspace = yaml.safe_load((ROOT / "deploy" / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"]["port"] = port
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    warehouse = tmp_path / "warehouse.sqlite"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        # psycopg2, as deploy/agenthub.env.example says: dagster-postgres' NOTIFY does not
        # work through psycopg 3, SQLAlchemy 2.1's default for postgresql:// URLs.
        "DAGSTER_PG_URL": postgres.create(migrated=False).replace(
            "postgresql://", "postgresql+psycopg2://", 1
        ),
        "PLATFORM_DATABASE_URL": platform_url,
        "WAREHOUSE_CATALOG": str(warehouse),
        "ARCHIVE_DIR": str(tmp_path / "archive"),
        "INGEST_BACKLOG_THRESHOLD": "100",
    }
    for name in ("DAGSTER_HOME", "DAGSTER_PG_URL"):
        monkeypatch.setenv(name, env[name])

    logs = {name: tmp_path / f"{name}.log" for name in ("code", "daemon")}
    started: list[subprocess.Popen] = []
    try:
        code = subprocess.Popen(
            [str(BIN / "dagster"), "code-server", "start", "-m", "pipelines.definitions",
             "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT, env=env, stdout=logs["code"].open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(code)
        wait_for_port(port, code, logs["code"], 120)
        daemon = subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", str(tmp_path / "workspace.yaml")],
            cwd=ROOT, env=env, stdout=logs["daemon"].open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(daemon)

        instance = dg.DagsterInstance.get()
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        run = None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert daemon.poll() is None, logs["daemon"].read_text()[-4000:]
            records = instance.get_run_records(
                dg.RunsFilter(tags={"agenthub/trigger": "ingest_backlog_sensor"}), limit=1
            )
            if records and records[0].dagster_run.is_finished:
                run = records[0].dagster_run
                break
            time.sleep(2)
        assert run is not None, (
            "no sensor-started run finished in 5 minutes\n"
            + logs["daemon"].read_text()[-3000:]
            + logs["code"].read_text()[-3000:]
        )
        assert run.status == dg.DagsterRunStatus.SUCCESS, logs["daemon"].read_text()[-4000:]
        assert run.job_name == "platform_pipeline"
    finally:
        stop(started)

    with open_published(warehouse) as con:
        published = con.execute("select count(*) from marts.executions_all").fetchone()[0]
    assert published == on_platform
