"""marts.agent_alerts on hand-built inputs: each rule fires exactly for the agent built to
cross it, the figures equal what is computed here, and the WARN check lists the same rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pytest

from pipelines.monitoring.checks import alerts_none_firing
from pipelines.sql_files import run_model
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.resource import Warehouse

RUN_AT = datetime(2026, 11, 20, 12, 0)
DEFAULTS = {
    "min_executions": 20,
    "error_rate_ratio_percent": 200,
    "error_rate_min_increase_points": 10,
    "p95_ratio_percent": 150,
    "stale_after_minutes": 30,
    "trust_drop_thousandths": 50,
}


def executions(
    agent: int,
    recent: int,
    recent_failed: int,
    base: int,
    base_failed: int,
    recent_ms: list[int] | None = None,
    base_ms: list[int] | None = None,
) -> list:
    """Rows of (agent, status, duration_ms, created_at): ``recent`` in the last 24 h, ``base``
    in the 7 days before."""
    rows = []
    for i in range(recent):
        ms = recent_ms[i] if recent_ms else 1000
        at = RUN_AT - timedelta(hours=23) + timedelta(minutes=i)
        rows.append((agent, "failed" if i < recent_failed else "completed", ms, at))
    for i in range(base):
        ms = base_ms[i] if base_ms else 1000
        at = RUN_AT - timedelta(days=7) + timedelta(minutes=30 * i)
        rows.append((agent, "timeout" if i < base_failed else "completed", ms, at))
    return rows


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    published = tmp_path / "warehouse.sqlite"
    rows = [
        *executions(1, recent=40, recent_failed=10, base=100, base_failed=5),  # 25% vs 5%: fires
        *executions(2, recent=40, recent_failed=4, base=100, base_failed=5),  # 10% vs 5%: no
        *executions(3, recent=19, recent_failed=19, base=100, base_failed=0),  # too few: no
        *executions(  # p95 about 1.6x the baseline's: fires
            4,
            recent=30,
            recent_failed=0,
            base=60,
            base_failed=0,
            recent_ms=[2000 + 50 * i for i in range(30)],
            base_ms=[1000 + 10 * i for i in range(60)],
        ),
        *executions(  # p95 about 0.8x the baseline's: no
            5,
            recent=30,
            recent_failed=0,
            base=60,
            base_failed=0,
            recent_ms=[1100 + 10 * i for i in range(30)],
            base_ms=[1000 + 10 * i for i in range(60)],
        ),
    ]
    agents = [  # id, name, status, last heartbeat
        (1, "a1", "active", RUN_AT - timedelta(minutes=5)),
        (2, "a2", "active", RUN_AT - timedelta(minutes=5)),
        (3, "a3", "active", RUN_AT - timedelta(minutes=5)),
        (4, "a4", "active", RUN_AT - timedelta(minutes=5)),
        (5, "a5", "active", RUN_AT - timedelta(minutes=5)),
        (6, "a6", "active", RUN_AT - timedelta(minutes=95)),  # stale: fires
        (7, "a7", "inactive", RUN_AT - timedelta(days=3)),  # not expected to run: no
        (8, "a8", "approved", None),  # never sent one: fires
        (9, "a9", "active", RUN_AT - timedelta(minutes=5)),
        (10, "a10", "active", RUN_AT - timedelta(minutes=5)),
    ]
    events = [  # agent, seq, occurred_at, before, after
        (9, 1, RUN_AT - timedelta(hours=30), 0.95, 0.92),  # before the window
        (9, 2, RUN_AT - timedelta(hours=20), 0.92, 0.88),
        (9, 3, RUN_AT - timedelta(hours=2), 0.88, 0.85),  # 0.92 -> 0.85: fires
        (10, 4, RUN_AT - timedelta(hours=5), 0.90, 0.88),  # 0.02: no
    ]
    with connect_working(published) as con:
        con.execute(
            "create table intermediate.executions_all (agent_id bigint, status varchar,"
            " duration_ms bigint, created_at timestamp, is_quarantined boolean)"
        )
        con.executemany("insert into intermediate.executions_all values (?, ?, ?, ?, false)", rows)
        con.execute(
            "create table intermediate.valid_agents (agent_id bigint, agent_name varchar,"
            " status varchar, last_heartbeat_at timestamp)"
        )
        con.executemany("insert into intermediate.valid_agents values (?, ?, ?, ?)", agents)
        con.execute(
            "create table intermediate.valid_agent_metrics (agent_id bigint,"
            " metric_name varchar, recorded_at timestamp)"
        )
        con.execute(
            "create table marts.trust_events (agent_id bigint, seq bigint, occurred_at timestamp,"
            " trust_score_before double, trust_score_after double, record_id varchar)"
        )
        con.executemany(
            "insert into marts.trust_events values (?, ?, ?, ?, ?, 'r' || ?::varchar)",
            [(*e, e[1]) for e in events],
        )
        con.execute("create table marts.agent_trust (agent_id bigint, trust_score double)")
        con.executemany("insert into marts.agent_trust values (?, ?)", [(9, 0.85), (10, 0.88)])
        run_model(con, "marts/agent_alerts.sql", {"run_at": RUN_AT, **DEFAULTS})
    return published


def alerts(published: Path) -> dict[tuple[int, str], tuple]:
    with connect_working(published) as con:
        rows = con.execute(
            "select agent_id, rule, observed, baseline, threshold, executions, detail"
            " from marts.agent_alerts"
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


def test_each_rule_fires_for_the_agent_built_to_cross_it(warehouse: Path):
    found = alerts(warehouse)
    assert set(found) == {
        (1, "error_rate"),
        (4, "p95_latency"),
        (6, "stale_heartbeat"),
        (8, "stale_heartbeat"),
        (9, "trust_drop"),
    }
    observed, baseline, threshold, n, detail = found[(1, "error_rate")]
    assert (observed, baseline, n) == (pytest.approx(10 / 40), pytest.approx(5 / 100), 40)
    assert threshold == pytest.approx(max(0.05 * 2, 0.05 + 0.10))
    assert "25.0% of 40" in detail and "5.0% of 100" in detail

    observed, baseline, threshold, n, _ = found[(4, "p95_latency")]
    recent = np.percentile([2000 + 50 * i for i in range(30)], 95)  # linear = quantile_cont
    base = np.percentile([1000 + 10 * i for i in range(60)], 95)
    assert (observed, baseline, n) == (pytest.approx(recent), pytest.approx(base), 30)
    assert threshold == pytest.approx(base * 1.5)

    assert found[(6, "stale_heartbeat")][0] == 95
    assert found[(8, "stale_heartbeat")][4] == "never sent a heartbeat"
    observed, baseline, threshold, n, _ = found[(9, "trust_drop")]
    assert (observed, baseline, n) == (0.85, 0.92, 2)
    assert threshold == pytest.approx(0.92 - 0.05)


def test_the_check_warns_with_the_same_alerts(warehouse: Path):
    result = alerts_none_firing(warehouse=Warehouse(catalog=str(warehouse)))
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["alerts"].value == 5
    assert result.metadata["alerts_stale_heartbeat"].value == 2
    listed = result.metadata["firing"].value
    assert "error_rate: agent 1 (a1)" in listed and "trust_drop: agent 9 (a9)" in listed
