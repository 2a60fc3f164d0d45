"""Rows that commit late are never skipped: ids and ``updated_at`` are drawn before a
transaction commits, so the ingest reads by change capture (platform migration 0004), which
follows the order of commits. Real connections committing out of order, on PostgreSQL; on
SQLite (one writer), a row stamped long before it commits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from platform_core.models import utcnow
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.test_ingest import ingest, raw_rows
from tests.worlds import simulated_engine

SMALL = SimulationConfig(users=8, agents=3, hirings=20, executions=400, days=2)
#: Longer than any lookback the ingest ever used (300 s).
LONG_AGO = timedelta(hours=2)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.sqlite"


def _insert_point(conn, agent: int, value: float) -> int:
    return conn.execute(
        text(
            "INSERT INTO agent_metrics (agent_id, metric_name, metric_value, recorded_at)"
            " VALUES (:a, 'latency_ms', :v, :t) RETURNING id"
        ),
        {"a": agent, "v": value, "t": utcnow()},
    ).scalar_one()


def test_a_metric_point_committed_after_a_later_one_reaches_raw(
    pg_engine: Engine, warehouse: Path
) -> None:
    simulate(pg_engine, SMALL)
    ingest(pg_engine, warehouse)
    with pg_engine.connect() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()
    slow = pg_engine.connect()
    slow.begin()
    early = _insert_point(slow, agent, 1.0)  # its id is drawn now, its commit comes later
    with pg_engine.begin() as fast:
        late = _insert_point(fast, agent, 2.0)
    assert late > early
    ingest(pg_engine, warehouse, tables=("agent_metrics",))
    assert late in raw_rows(warehouse, "agent_metrics")
    assert early not in raw_rows(warehouse, "agent_metrics")  # not committed yet
    slow.commit()
    slow.close()
    ingest(pg_engine, warehouse, tables=("agent_metrics",))
    points = raw_rows(warehouse, "agent_metrics")
    assert early in points and points[early]["metric_value"] == 1.0


def test_an_update_stamped_long_before_its_commit_reaches_raw(
    pg_engine: Engine, warehouse: Path
) -> None:
    simulate(pg_engine, SMALL)
    ingest(pg_engine, warehouse)
    with pg_engine.connect() as conn:
        first, second = (
            conn.execute(text("SELECT id FROM executions ORDER BY id LIMIT 2")).scalars().all()
        )
    slow = pg_engine.connect()
    slow.begin()
    # Stamped two hours before it commits (a slow batch job, a clock behind).
    slow.execute(
        text("UPDATE executions SET error_message = 'late', updated_at = :t WHERE id = :i"),
        {"t": utcnow() - LONG_AGO, "i": first},
    )
    with pg_engine.begin() as fast:
        fast.execute(
            text("UPDATE executions SET error_message = 'fast', updated_at = :t WHERE id = :i"),
            {"t": utcnow(), "i": second},
        )
    ingest(pg_engine, warehouse, tables=("executions",))
    assert raw_rows(warehouse, "executions")[second]["error_message"] == "fast"
    slow.commit()
    slow.close()
    ingest(pg_engine, warehouse, tables=("executions",))
    assert raw_rows(warehouse, "executions")[first]["error_message"] == "late"


def test_sqlite_an_update_stamped_long_ago_reaches_raw(tmp_path: Path, warehouse: Path) -> None:
    """SQLite has one writer at a time, so commits cannot overtake each other; but a row's
    ``updated_at`` is the application's clock, which may lag its commit by any amount."""
    engine = simulated_engine("sqlite", None, tmp_path, SMALL)
    ingest(engine, warehouse)
    ingest(engine, warehouse)  # a second read: now by change capture
    with engine.begin() as conn:
        first = conn.execute(text("SELECT min(id) FROM executions")).scalar_one()
        conn.execute(
            text("UPDATE executions SET error_message = 'late', updated_at = :t WHERE id = :i"),
            {"t": utcnow() - LONG_AGO, "i": first},
        )
    ingest(engine, warehouse, tables=("executions",))
    assert raw_rows(warehouse, "executions")[first]["error_message"] == "late"
    engine.dispose()
