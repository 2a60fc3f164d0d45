"""One simulated platform, run through the pipeline, the maintenance job and the pipeline again,
published once per test run for the dashboards and the analysts' examples (they only read it;
the session fixture ``published`` is in tests/conftest.py, so both folders share one build)."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from pipelines.jobs import MAINTENANCE_JOB
from pipelines.maintenance.settings import Maintenance
from pipelines.run import run_pipeline
from pipelines.warehouse.lake import Lake
from platform_core.simulate import SimulationConfig
from tests.pipelines.location import defs_on
from tests.worlds import simulated_engine

HISTORY = SimulationConfig(users=40, agents=8, hirings=120, executions=12_000, days=30, bad_rows=40)


@dataclass(frozen=True)
class Published:
    """The published warehouse the dashboards read, and what built it."""

    warehouse: Path
    platform_url: str


def build(root: Path, config: SimulationConfig = HISTORY, *, maintenance: bool = True) -> Published:
    """Simulate ``config`` on a SQLite platform under ``root``, run the pipeline (and the
    maintenance job with short retention, then the pipeline again), publish."""
    engine = simulated_engine("sqlite", None, root, config)
    warehouse = root / "warehouse.sqlite"
    defs = defs_on(
        engine,
        warehouse,
        maintenance=Maintenance(
            archive_dir=str(root / "archive"),
            execution_retention_days="20",
            metrics_retention_days="10",
        ),
    )
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(instance, defs=defs).success
    if maintenance:
        result = defs.resolve_job_def(MAINTENANCE_JOB).execute_in_process(instance=instance)
        assert result.success
        assert run_pipeline(instance, defs=defs).success
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    return Published(warehouse, url)


@pytest.fixture
def warehouse_env(published: Published, monkeypatch: pytest.MonkeyPatch) -> Published:
    """WAREHOUSE_CATALOG pointing at the shared warehouse, for the code under test."""
    monkeypatch.setenv("WAREHOUSE_CATALOG", str(published.warehouse))
    return published


def copy_lake(catalog: Path, to: Path) -> Path:
    """A copy of the SQLite-catalog lake ``catalog`` (catalog and data files) at ``to``, for a
    test that changes it; the copy's catalog names its own data folder."""
    source, target = Lake.of(catalog), Lake.of(to)
    with (
        contextlib.closing(sqlite3.connect(catalog)) as old,
        contextlib.closing(sqlite3.connect(to)) as new,
    ):
        old.backup(new)  # consistent even with the WAL beside it
        new.execute(
            "update ducklake_metadata set value = ? where key = 'data_path'",
            [str(target.data_folder.resolve()) + "/"],
        )
        new.commit()
    shutil.copytree(source.data_folder, target.data_folder)
    return to
