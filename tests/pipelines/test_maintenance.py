"""Archive then purge, exactly once, against real PostgreSQL and SQLite platforms.

Expected ids are selected here from the platform with plain SQL before the run; the archive
is read back with DuckDB's own Parquet reader over the Hive-partitioned folder, as an analyst
would. Crashes at each point that matters are simulated by the ``crash`` hook raising: the
platform transaction rolls back (or has committed) exactly as it would for a killed process,
and the next run must settle what was left.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, select, text

from pipelines.jobs import MAINTENANCE_JOB
from pipelines.maintenance.archive import archive_table
from pipelines.maintenance.archive_specs import EXECUTIONS
from pipelines.maintenance.settings import Maintenance
from pipelines.run import run_pipeline
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import open_published
from platform_core.models import Execution, utcnow
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig
from tests.pipelines.location import defs_on
from tests.pipelines.maintenance_support import archive_rows, ingest
from tests.worlds import simulated_platform

NOW = utcnow()
CUTOFF = NOW - timedelta(days=4)


class Crash(Exception):
    """Stands for the process dying at a crash point."""


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from simulated_platform(
        request,
        tmp_path,
        SimulationConfig(users=10, agents=4, hirings=30, executions=4_000, days=8),
    )


def old_terminal_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT id FROM executions WHERE status IN"
                    " ('completed', 'failed', 'timeout', 'cancelled')"
                    " AND COALESCE(completed_at, created_at) < :cutoff"
                ),
                {"cutoff": CUTOFF},
            )
        }


def platform_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT id FROM executions"))}


def open_ids(engine: Engine) -> set[int]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                text("SELECT id FROM executions WHERE status IN ('pending', 'running')")
            ).scalars()
        )


def archived(archive: Path) -> list[tuple[int, str, str]]:
    """(id, month partition, created_at month) of every archived row, read as analysts do."""
    return archive_rows(archive, "executions", "id, month, strftime(created_at, '%Y-%m')")


def run(published: Path, engine: Engine, archive: Path, **kwargs: object):
    with connect_working(published) as con:
        return archive_table(con, engine, archive, EXECUTIONS, CUTOFF, batch_size=700, **kwargs)


def manifest(published: Path) -> list[tuple]:
    with connect_working(published) as con:
        return con.execute(
            "select file, rows, purged_at is not null from ops.archive_manifest order by file"
        ).fetchall()


def test_archive_then_purge_moves_each_old_execution_once(platform: Engine, tmp_path: Path):
    published, archive = tmp_path / "warehouse.sqlite", tmp_path / "archive"
    with platform.begin() as conn:  # old executions still queued or running: never touched
        conn.execute(
            text(
                "UPDATE executions SET status = CASE WHEN id % 2 = 0 THEN 'pending'"
                " ELSE 'running' END, completed_at = NULL"
                " WHERE id IN (SELECT id FROM executions ORDER BY created_at LIMIT 6)"
            )
        )
    ingest(platform, published)
    before = platform_ids(platform)
    expected = old_terminal_ids(platform)
    open_before = open_ids(platform)
    assert 500 < len(expected) < len(before) and open_before

    dry = run(published, platform, archive, dry_run=True)
    assert dry.rows == len(expected)
    assert platform_ids(platform) == before and not archive.exists()

    result = run(published, platform, archive)
    rows = archived(archive)
    assert sorted(r[0] for r in rows) == sorted(expected)  # each once
    assert all(month == created for _id, month, created in rows)
    assert platform_ids(platform) == before - expected
    assert result.rows == len(expected) == sum(m[1] for m in manifest(published))
    assert all(m[2] for m in manifest(published))
    assert open_ids(platform) == open_before  # pending and running never touched

    again = run(published, platform, archive)
    assert again.rows == 0 and len(archived(archive)) == len(expected)


def test_rows_the_warehouse_has_not_ingested_stay(platform: Engine, tmp_path: Path):
    published, archive = tmp_path / "warehouse.sqlite", tmp_path / "archive"
    ingest(platform, published)
    with platform.begin() as conn:
        changed = (
            conn.execute(
                text(
                    "SELECT id FROM executions WHERE status = 'completed'"
                    " AND completed_at < :cutoff ORDER BY id LIMIT 5"
                ),
                {"cutoff": CUTOFF},
            )
            .scalars()
            .all()
        )
        for execution_id in changed:  # updated after the ingest: not in the warehouse as is
            conn.execute(
                text("UPDATE executions SET updated_at = :now WHERE id = :id"),
                {"now": NOW, "id": execution_id},
            )
    result = run(published, platform, archive)
    assert result.waiting_for_warehouse == 5
    assert set(changed) <= platform_ids(platform)
    assert not set(changed) & {r[0] for r in archived(archive)}


@pytest.mark.parametrize("point", ["written", "deleted", "committed"])
def test_a_crash_is_settled_by_the_next_run(platform: Engine, tmp_path: Path, point: str):
    published, archive = tmp_path / "warehouse.sqlite", tmp_path / "archive"
    ingest(platform, published)
    before, expected = platform_ids(platform), old_terminal_ids(platform)
    calls = {"n": 0}

    def crash(at: str) -> None:
        if at == point:
            calls["n"] += 1
            if calls["n"] == 2:  # the second batch: one batch already done
                raise Crash(at)

    with pytest.raises(Crash):
        run(published, platform, archive, crash=crash)
    left = platform_ids(platform)
    in_files = [r[0] for r in archived(archive)]
    if point == "committed":
        # The platform committed: the rows are gone and in a listed, unconfirmed file.
        assert any(not m[2] for m in manifest(published))
    else:
        # Rolled back: the batch is both in the platform and in an unconfirmed file.
        assert set(in_files) & left

    result = run(published, platform, archive)
    rows = [r[0] for r in archived(archive)]
    assert sorted(rows) == sorted(expected), "an execution archived twice or not at all"
    assert platform_ids(platform) == before - expected
    assert all(m[2] for m in manifest(published))
    assert result.recovered_purged + result.recovered_dropped == 1


def test_expire_hirings_only_touches_active_hirings_past_expiry(platform: Engine):
    service = PlatformService(platform, clock=lambda: NOW)
    with platform.connect() as conn:
        due = set(
            conn.execute(
                text("SELECT id FROM hirings WHERE status = 'active' AND expires_at < :now"),
                {"now": NOW},
            ).scalars()
        )
        statuses = dict(conn.execute(text("SELECT id, status FROM hirings")).all())
    assert {h.id for h in service.expired_hirings(NOW)} == due
    expired = service.expire_hirings(NOW, batch_size=3)
    assert {h.id for h in expired} == due
    with platform.connect() as conn:
        after = dict(conn.execute(text("SELECT id, status FROM hirings")).all())
    assert {i for i, s in after.items() if statuses[i] != s} == due
    assert all(after[i] == "expired" for i in due)
    assert service.expire_hirings(NOW) == []


def test_the_maintenance_job_reports_and_publishes(platform: Engine, tmp_path: Path):
    published = tmp_path / "warehouse.sqlite"
    defs = defs_on(
        platform,
        published,
        maintenance=Maintenance(
            archive_dir=str(tmp_path / "archive"), execution_retention_days="4"
        ),
    )
    instance = dg.DagsterInstance.ephemeral()
    assert run_pipeline(instance, defs=defs).success
    # The job's retention counts from its own clock (its started_at, reported), not this
    # module's CUTOFF: the expected ids come from a snapshot taken before, at that clock.
    before = platform_ids(platform)
    with platform.connect() as conn:
        ends = [
            (r.id, r.completed_at or r.created_at)
            for r in conn.execute(
                select(Execution.id, Execution.completed_at, Execution.created_at).where(
                    Execution.status.in_(("completed", "failed", "timeout", "cancelled"))
                )
            )
        ]

    def old_at(now: datetime) -> set[int]:
        return {i for i, end in ends if end < now - timedelta(days=4)}

    job = defs.resolve_job_def(MAINTENANCE_JOB)
    dry = job.execute_in_process(
        instance=instance, run_config={"ops": {"maintenance": {"config": {"dry_run": True}}}}
    )
    assert dry.success and platform_ids(platform) == before
    done = job.execute_in_process(instance=instance)
    assert done.success
    with open_published(published) as con:  # what readers see
        reported = {
            (run_id == done.run_id, dry_run): (started, rows)
            for run_id, started, dry_run, rows in con.execute(
                "select run_id, started_at, dry_run, rows from marts.maintenance_runs"
                " where operation = 'archive_executions'"
            ).fetchall()
        }
    started, rows = reported[(True, False)]
    assert platform_ids(platform) == before - old_at(started)
    assert rows == len(old_at(started)) > 0
    dry_started, dry_rows = reported[(False, True)]
    assert dry_rows == len(old_at(dry_started))
