"""The backlog sensor on a real platform (PostgreSQL) and a published warehouse: silent while
the warehouse keeps up, a catch-up run once the executions after its watermark pass the
threshold, and none while a pipeline run is already going."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from pipelines.ingest.backlog import backlog_threshold, executions_after, published_watermark
from pipelines.jobs import PIPELINE_JOB
from pipelines.run import run_pipeline
from platform_core.db import make_engine
from platform_core.models import utcnow
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.location import defs_on

SMALL = SimulationConfig(users=10, agents=3, hirings=20, executions=500, days=2)


def add_executions(engine: Engine, n: int) -> None:
    """``n`` new executions through the platform's own service, as users would queue them."""
    with engine.begin() as conn:
        hiring_id, agent_id = conn.execute(
            text(
                "SELECT id, agent_id FROM hirings WHERE status = 'active'"
                " AND (expires_at IS NULL OR expires_at > :now) ORDER BY id LIMIT 1"
            ),
            {"now": utcnow()},
        ).one()
        conn.execute(text("UPDATE agents SET status = 'active' WHERE id = :a"), {"a": agent_id})
    svc = PlatformService(engine)
    for _ in range(n):
        svc.create_execution(hiring_id)


@pytest.fixture
def platform(postgres, tmp_path: Path):
    engine = make_engine(postgres.create(migrated=True))
    simulate(engine, SMALL)
    yield engine, tmp_path / "warehouse.sqlite"
    engine.dispose()


def evaluate(defs: dg.Definitions, instance: dg.DagsterInstance):
    sensor = defs.resolve_sensor_def("ingest_backlog_sensor")
    with dg.build_sensor_context(instance=instance, resources=defs.resources) as context:
        return sensor(context)


def test_catch_up_run_when_the_backlog_passes_the_threshold(platform, monkeypatch) -> None:
    engine, warehouse = platform
    defs = defs_on(engine, warehouse)
    instance = dg.DagsterInstance.ephemeral()
    monkeypatch.setenv("INGEST_BACKLOG_THRESHOLD", "25")

    # Nothing published yet: every execution is backlog.
    assert published_watermark(warehouse) is None
    first = evaluate(defs, instance)
    assert isinstance(first, dg.RunRequest)
    assert first.run_key == "backlog:empty"

    assert run_pipeline(instance, defs=defs).success
    watermark = published_watermark(warehouse)
    assert watermark is not None and watermark <= utcnow()
    quiet = evaluate(defs, instance)
    assert isinstance(quiet, dg.SkipReason)
    assert "0 executions" in quiet.skip_message

    add_executions(engine, 20)  # under the threshold
    under = evaluate(defs, instance)
    assert isinstance(under, dg.SkipReason)
    assert "20 executions" in under.skip_message

    add_executions(engine, 10)  # 30 > 25
    over = evaluate(defs, instance)
    assert isinstance(over, dg.RunRequest)
    assert over.run_key == f"backlog:{watermark.isoformat()}"
    assert over.tags["agenthub/trigger"] == "ingest_backlog_sensor"

    # A pipeline run already going: no second one.
    instance.add_run(
        dg.DagsterRun(job_name=PIPELINE_JOB, run_id="busy-run", status=dg.DagsterRunStatus.STARTED)
    )
    busy = evaluate(defs, instance)
    assert isinstance(busy, dg.SkipReason)
    assert "queued or running" in busy.skip_message


def test_the_count_stops_at_the_limit(platform) -> None:
    engine, _ = platform
    url = engine.url.render_as_string(hide_password=False)
    assert executions_after(url, None, 7) == 7
    assert executions_after(url, None, 10**9) == SMALL.executions


def test_a_bad_threshold_is_refused_with_the_variable_named(monkeypatch) -> None:
    monkeypatch.setenv("INGEST_BACKLOG_THRESHOLD", "lots")
    with pytest.raises(ValueError, match="INGEST_BACKLOG_THRESHOLD"):
        backlog_threshold()
    monkeypatch.setenv("INGEST_BACKLOG_THRESHOLD", "50_000")
    assert backlog_threshold() == 50_000
