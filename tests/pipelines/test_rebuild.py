"""The warehouse is derived: deleted, it is rebuilt from the platform plus the archive, figure
by figure, when maintenance runs before the pipeline (a new deployment's nightly run, or an
operator who lost the file); and a maintenance run on a warehouse that has not read the
platform yet archives nothing, exits cleanly and says why.

Expected figures are the first warehouse's own, read before it is deleted; the rebuilt one
must equal them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from platform_core.simulate import SimulationConfig
from tests.pipelines.maintenance_support import ids
from tests.pipelines.test_maintenance_reports import Setup, published
from tests.worlds import simulated_platform

#: Figures analysts and the dashboards read, each as an ordered query.
FIGURES = {
    "executions_all": "select id, is_archived, is_quarantined, status from marts.executions_all"
    " order by id",
    "usage_summary": "select agent_id, total_executions, round(success_rate, 6) from"
    " marts.agent_usage_summary order by agent_id",
    "usage_daily": "select agent_id, day, executions, completed, failed, unique_users from"
    " marts.agent_usage_daily order by agent_id, day",
    "rollup_hourly": "select agent_id, metric_name, bucket_start, samples, round(avg, 6)"
    " from marts.metrics_rollup_hourly order by all",
    "rollup_daily": "select agent_id, metric_name, bucket_start, samples, round(p95, 6)"
    " from marts.metrics_rollup_daily order by all",
    "quarantine": "select table_name, row_key, rule from marts.quarantine order by all",
    "trust": "select agent_id, round(trust_score, 6), event_count from marts.agent_trust"
    " order by 1",
    "users": "select user_id, total_executions from marts.user_activity order by 1",
}


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from simulated_platform(
        request,
        tmp_path,
        SimulationConfig(
            users=10,
            agents=4,
            hirings=30,
            executions=3_000,
            days=8,
            bad_rows=12,
            metric_interval_minutes=60,
        ),
    )


def figures(warehouse: Path) -> dict[str, list[tuple]]:
    return {name: published(warehouse, sql) for name, sql in FIGURES.items()}


def test_maintenance_then_the_pipeline_rebuild_every_figure(platform: Engine, tmp_path: Path):
    s = Setup(platform, tmp_path)
    s.pipeline()
    s.maintenance()
    s.pipeline()
    before = figures(s.warehouse)
    assert any(archived for _, archived, _, _ in before["executions_all"])
    assert before["rollup_hourly"] and before["quarantine"]
    # The warehouse is lost (the lake's catalog, its journal and its data files); the platform
    # and the archive are kept.
    catalogs = list(tmp_path.glob("warehouse.sqlite*"))
    assert catalogs and (tmp_path / "warehouse").is_dir()
    for path in catalogs:
        path.unlink()
    shutil.rmtree(tmp_path / "warehouse")
    rebuilt = Setup(platform, tmp_path)
    rebuilt.maintenance()  # first, as a nightly schedule on a new deployment would
    rebuilt.pipeline()
    after = figures(rebuilt.warehouse)
    for name in FIGURES:
        assert after[name] == before[name], name


def test_maintenance_before_the_first_pipeline_run_archives_nothing_and_says_so(
    platform: Engine, tmp_path: Path
):
    s = Setup(platform, tmp_path)
    executions = ids(platform, "SELECT id FROM executions")
    points = ids(platform, "SELECT id FROM agent_metrics")
    result = s.maintenance()
    # Nothing purged, nothing archived (expiring hirings and repairing counters need no
    # warehouse, and still run).
    assert ids(platform, "SELECT id FROM executions") == executions
    assert ids(platform, "SELECT id FROM agent_metrics") == points
    assert not list(s.archive.rglob("*.parquet"))
    meta = {
        e.asset_key.to_user_string(): {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    for table in ("executions", "agent_metrics"):
        said = meta[f"platform/archived_{table}"]
        assert said["rows"] == 0
        assert "nothing is archived until `agenthub pipeline run`" in said["not_ready"]
    # Then the pipeline, then maintenance: the usual path works from there.
    s.pipeline()
    s.maintenance()
    assert ids(platform, "SELECT id FROM executions") != set()
    assert list(s.archive.rglob("*.parquet"))
    shutil.rmtree(s.archive)
