"""The maintenance job end to end, as the schedule and ``agenthub maintenance run`` run it,
on real PostgreSQL and SQLite platforms: purged rows stay in all-time statistics, metric
points leave only once rolled up, counters are repaired from the truth, orphans and table
health are reported, a dry run and a second run change nothing.

Expected numbers come from the platform with plain SQL before the runs and from the archive
read with DuckDB's own Parquet reader, never from the code under test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from pipelines.jobs import MAINTENANCE_JOB
from pipelines.maintenance.settings import Maintenance
from pipelines.run import run_pipeline
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import open_published
from platform_core.db import is_sqlite
from platform_core.models import utcnow
from platform_core.simulate import SimulationConfig
from tests.pipelines.location import defs_on
from tests.pipelines.maintenance_support import archive_rows, ids
from tests.worlds import simulated_platform

DRY = {"ops": {"maintenance": {"config": {"dry_run": True}}}}


@pytest.fixture(params=["sqlite", "postgres"])
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from simulated_platform(
        request,
        tmp_path,
        SimulationConfig(users=10, agents=4, hirings=30, executions=3_000, days=8),
    )


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def published(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """What readers see: the published file, read only."""
    with open_published(path) as con:
        return con.execute(sql, params or []).fetchall()


def snapshot(engine: Engine, archive: Path) -> str:
    """Everything maintenance may change on the platform and in the archive, as one digest."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for sql in (
            "SELECT id, total_hires, total_executions, average_rating, updated_at FROM agents"
            " ORDER BY id",
            "SELECT id, status, total_executions, last_executed_at, updated_at FROM hirings"
            " ORDER BY id",
            "SELECT id, updated_at FROM executions ORDER BY id",
            "SELECT id FROM agent_metrics ORDER BY id",
        ):
            digest.update(repr(conn.execute(text(sql)).all()).encode())
    for path in sorted(archive.rglob("*")) if archive.exists() else []:
        digest.update(str(path).encode() + (path.read_bytes() if path.is_file() else b""))
    return digest.hexdigest()


class Setup:
    """A platform, its warehouse and archive, and the code location on them."""

    def __init__(self, engine: Engine, root: Path, warehouse: str = "warehouse.sqlite"):
        self.engine, self.archive = engine, root / "archive"
        self.warehouse = root / warehouse
        self.now = utcnow()
        self.defs = defs_on(
            engine,
            self.warehouse,
            maintenance=Maintenance(
                archive_dir=str(self.archive),
                execution_retention_days="4",
                metrics_retention_days="3",
                batch_size=500,
            ),
        )
        self.instance = dg.DagsterInstance.ephemeral()

    def pipeline(self) -> None:
        assert run_pipeline(self.instance, defs=self.defs).success

    def maintenance(self, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
        result = self.defs.resolve_job_def(MAINTENANCE_JOB).execute_in_process(
            instance=self.instance, run_config=run_config or {}
        )
        assert result.success
        return result

    def cutoff(self, days: int) -> object:
        return self.now - timedelta(days=days)


USAGE = "select agent_id, total_executions from marts.agent_usage_summary"


def test_purged_executions_stay_in_every_all_time_statistic(platform: Engine, tmp_path: Path):
    s = Setup(platform, tmp_path)
    s.pipeline()
    every = ids(platform, "SELECT id FROM executions")
    usage = sorted(published(s.warehouse, USAGE))
    users = sorted(published(s.warehouse, "select * from marts.user_activity"))
    s.maintenance()
    purged = every - ids(platform, "SELECT id FROM executions")
    assert len(purged) > 300
    assert {r[0] for r in archive_rows(s.archive, "executions")} == purged
    s.pipeline()
    rows = published(s.warehouse, "select id, is_archived from marts.executions_all")
    assert len(rows) == len({r[0] for r in rows}) == len(every)  # each id exactly once
    assert {i for i, archived in rows if archived} == purged
    assert sorted(published(s.warehouse, USAGE)) == usage
    assert sorted(published(s.warehouse, "select * from marts.user_activity")) == users

    # A warehouse rebuilt from scratch beside the same archive: the platform no longer has
    # the purged rows, the archive brings them back, each once.
    rebuilt = Setup(platform, tmp_path, "rebuilt.duckdb")
    rebuilt.pipeline()
    rebuilt.maintenance()  # lists the archive's files again (its manifest was in the old file)
    rebuilt.pipeline()
    # Its own maintenance ran seconds later, so a row may have crossed the retention since:
    # everything archived is what the platform lost, the first run's rows among it.
    purged_now = every - ids(platform, "SELECT id FROM executions")
    assert purged <= purged_now
    rows = published(rebuilt.warehouse, "select id, is_archived from marts.executions_all")
    assert len(rows) == len({r[0] for r in rows}) == len(every)
    assert {i for i, archived in rows if archived} == purged_now
    assert sorted(published(rebuilt.warehouse, USAGE)) == usage
    assert {r[0] for r in archive_rows(s.archive, "executions")} == purged_now  # none deleted


def test_metric_points_leave_the_platform_only_once_rolled_up(platform: Engine, tmp_path: Path):
    s = Setup(platform, tmp_path)
    s.pipeline()
    cutoff = s.cutoff(3)
    old = ids(platform, "SELECT id FROM agent_metrics WHERE recorded_at < :c", c=cutoff)
    assert len(old) > 1_000
    # One old hourly bucket whose rollup is missing (as if its day had not been built): its
    # points must stay on the platform.
    with connect_working(s.warehouse) as con:
        agent, metric, bucket = con.execute(
            "select agent_id, metric_name, bucket_start from marts.metrics_rollup_hourly"
            " where bucket_start < ? order by bucket_start, agent_id, metric_name limit 1",
            [cutoff - timedelta(days=1)],
        ).fetchall()[0]
        con.execute(
            "create table ops.saved_bucket as select * from marts.metrics_rollup_hourly"
            " where agent_id = ? and metric_name = ? and bucket_start = ?",
            [agent, metric, bucket],
        )
        con.execute(
            "delete from marts.metrics_rollup_hourly"
            " where agent_id = ? and metric_name = ? and bucket_start = ?",
            [agent, metric, bucket],
        )
    held_back = ids(
        platform,
        "SELECT id FROM agent_metrics WHERE agent_id = :a AND metric_name = :m"
        " AND recorded_at >= :b AND recorded_at < :e",
        a=agent,
        m=metric,
        b=bucket,
        e=bucket + timedelta(hours=1),
    )
    assert held_back
    rollups = {  # as published, before the bucket was removed from the working file
        name: sorted(published(s.warehouse, f"select * from marts.{name}"))
        for name in ("metrics_rollup_hourly", "metrics_rollup_daily")
    }
    s.maintenance()
    left = ids(platform, "SELECT id FROM agent_metrics WHERE recorded_at < :c", c=cutoff)
    assert left == held_back
    assert {r[0] for r in archive_rows(s.archive, "agent_metrics")} == old - held_back
    months = archive_rows(
        s.archive, "agent_metrics", "month = strftime(recorded_at, '%Y-%m') as same"
    )
    assert all(r[0] for r in months)
    with connect_working(s.warehouse) as con:  # the bucket built at last
        con.execute("insert into marts.metrics_rollup_hourly select * from ops.saved_bucket")
        con.execute("drop table ops.saved_bucket")
    s.pipeline()
    for name, before in rollups.items():  # the rollups keep the purged points' buckets
        after = sorted(published(s.warehouse, f"select * from marts.{name}"))
        assert after == before, name


def test_counters_are_repaired_from_the_truth_archive_included(platform: Engine, tmp_path: Path):
    s = Setup(platform, tmp_path)
    s.pipeline()
    s.maintenance()  # purges, and repairs whatever the simulator left
    with platform.begin() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()
        hiring = conn.execute(
            text("SELECT min(hiring_id) FROM executions WHERE hiring_id IS NOT NULL")
        ).scalar_one()
        conn.execute(
            text("UPDATE agents SET total_executions = total_executions + 5 WHERE id = :a"),
            {"a": agent},
        )
        conn.execute(text("UPDATE agents SET average_rating = 4.9 WHERE id = :a"), {"a": agent})
        conn.execute(
            text("UPDATE hirings SET last_executed_at = NULL WHERE id = :h"), {"h": hiring}
        )
    archived = archive_rows(s.archive, "executions", "id, agent_id, hiring_id, created_at")
    # The truth, computed here: platform rows plus archived rows.
    expected_total = scalar(
        platform, "SELECT count(*) FROM executions WHERE agent_id = :a", a=agent
    ) + sum(1 for r in archived if r[1] == agent)
    expected_rating = scalar(
        platform,
        "SELECT coalesce(avg(rating), 0.0) FROM agent_reviews WHERE agent_id = :a",
        a=agent,
    )
    expected_last = max(
        [r[3] for r in archived if r[2] == hiring]
        + [
            scalar(
                platform, "SELECT max(created_at) FROM executions WHERE hiring_id = :h", h=hiring
            )
        ]
    )
    before = snapshot(platform, s.archive)
    s.maintenance(DRY)
    assert snapshot(platform, s.archive) == before  # the dry run changed nothing

    result = s.maintenance()
    drift = published(
        s.warehouse,
        "select table_name, row_id, column_name, stored, actual from marts.counter_drift"
        " where run_id = ? order by all",
        [result.run_id],
    )
    assert [d[:3] for d in drift] == [
        ("agents", agent, "average_rating"),
        ("agents", agent, "total_executions"),
        ("hirings", hiring, "last_executed_at"),
    ]
    with platform.connect() as conn:
        total, rating = conn.execute(
            text("SELECT total_executions, average_rating FROM agents WHERE id = :a"), {"a": agent}
        ).one()
        last = conn.execute(
            text("SELECT last_executed_at FROM hirings WHERE id = :h"), {"h": hiring}
        ).scalar_one()
    assert total == expected_total and drift[1][3] == str(expected_total + 5)
    assert rating == pytest.approx(float(expected_rating))
    assert last == expected_last

    before = snapshot(platform, s.archive)
    again = s.maintenance()  # idempotent: nothing left to do
    assert snapshot(platform, s.archive) == before
    reported = dict(
        published(
            s.warehouse,
            "select operation, rows from marts.maintenance_runs where run_id = ?",
            [again.run_id],
        )
    )
    assert reported["archive_executions"] == reported["repair_counters"] == 0
    assert reported["expire_hirings"] == reported["archive_agent_metrics"] == 0


def test_orphans_table_health_and_archive_months_are_reported(platform: Engine, tmp_path: Path):
    s = Setup(platform, tmp_path)
    s.pipeline()
    agent = scalar(platform, "SELECT max(id) FROM agents")
    # A restore that bypassed the foreign keys (SQLite: the pragma, outside a transaction).
    with platform.connect() as conn:
        sqlite = is_sqlite(platform)
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        with conn.begin():
            if not sqlite:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            orphan = conn.execute(
                text(
                    "INSERT INTO agent_metrics (agent_id, metric_name, metric_value, recorded_at)"
                    " VALUES (:a, 'cpu_usage', 1.0, :t) RETURNING id"
                ),
                {"a": agent + 1000, "t": s.now},
            ).scalar_one()
        if sqlite:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
    first = s.maintenance()
    second = s.maintenance()
    found = published(
        s.warehouse,
        "select relation, orphan_rows, sample_ids from marts.orphans where run_id = ?",
        [first.run_id],
    )
    assert ("agent_metrics.agent_id -> agents.id", 1, [orphan]) in found
    assert all(r[1] == 0 for r in found if r[0] != "agent_metrics.agent_id -> agents.id")
    assert len(found) >= 8  # every foreign key of the schema checked

    health = {
        r[0]: r[1:]
        for r in published(
            s.warehouse,
            "select table_name, rows, total_bytes, dead_tuple_ratio, rows_per_day, pages"
            " from marts.table_health where run_id = ?",
            [second.run_id],
        )
    }
    for table in ("users", "agents", "hirings", "executions", "agent_metrics"):
        assert health[table][0] == scalar(platform, f"SELECT count(*) FROM {table}")
        assert health[table][1] and health[table][1] > 0
        assert health[table][3] is not None  # growth since the first run
    if not is_sqlite(platform):
        assert health["executions"][2] < 0.2  # VACUUM ran after the purge
    else:
        assert health["executions"][4] > 0

    months = published(
        s.warehouse, "select table_name, month, rows, files, verified from marts.archive_months"
    )
    by_month: dict[tuple[str, str], int] = {}
    for table in ("executions", "agent_metrics"):
        for (month,) in archive_rows(s.archive, table, "month"):
            by_month[(table, month)] = by_month.get((table, month), 0) + 1
    assert {(t, m): r for t, m, r, _f, _v in months} == by_month
    assert all(v for *_, v in months)
