"""Seed 000's statistics queries multiply rows; the marts aggregate each child table alone.

A hand-made platform: one agent hired twice and run three times (one failed), another agent
hired once and never run. Expected numbers are counted by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, text

from pipelines.ingest.extract import open_reader
from pipelines.ingest.load import load_table
from pipelines.ingest.tables import INGESTED_TABLES, SOURCE_TABLES
from pipelines.sql_models import build_in_order
from pipelines.trust.model import TrustParameters, update_trust
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import Lake, open_lake
from platform_core.service import PlatformService

T0 = datetime(2026, 5, 4, 9, 0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _agent(svc: PlatformService, name: str) -> int:
    agent = svc.register_agent(
        name,
        description="d",
        author="a",
        email="a@b.co",
        entry_point="m:f",
        pricing_model="per_use",
        price_per_use=0.25,
    )
    svc.set_agent_status(agent.id, "submitted")
    svc.set_agent_status(agent.id, "approved")
    return agent.id


def test_naive_join_multiplies_and_the_marts_do_not(engine: Engine, tmp_path: Path) -> None:
    svc = PlatformService(engine, clock=Clock())
    alice = svc.create_user("alice", "alice@example.com").id
    bob = svc.create_user("bob", "bob@example.com").id
    busy, idle = _agent(svc, "Busy"), _agent(svc, "Idle")
    h1 = svc.hire_agent(busy, alice).id
    h2 = svc.hire_agent(busy, bob).id
    svc.hire_agent(idle, alice)
    for hiring, outcome in ((h1, "completed"), (h1, "failed"), (h2, "completed")):
        ex = svc.create_execution(hiring)
        svc.start_execution(ex.execution_id)
        svc.finish_execution(
            ex.execution_id, outcome, error_message=None if outcome == "completed" else "boom"
        )

    # Seed 000, "Agent Usage Statistics", verbatim.
    with engine.connect() as conn:
        naive = {
            name: (hirings, executions)
            for name, hirings, executions, _ in conn.execute(
                text(
                    "SELECT a.name, COUNT(h.id) as total_hirings, COUNT(e.id) as total_executions,"
                    " AVG(e.duration_ms) as avg_duration FROM agents a"
                    " LEFT JOIN hirings h ON a.id = h.agent_id"
                    " LEFT JOIN executions e ON a.id = e.agent_id GROUP BY a.id, a.name"
                )
            )
        }
    assert naive["Busy"] == (6, 6)  # 2 hirings x 3 executions, both ways
    assert naive["Idle"] == (1, 0)

    published = tmp_path / "warehouse.sqlite"
    reader = open_reader(engine.url.render_as_string(hide_password=False))
    with connect_working(published) as con:
        for table in INGESTED_TABLES:
            load_table(con, reader, SOURCE_TABLES[table])
        trust = lambda: update_trust(con, TrustParameters(), T0 + timedelta(hours=1))  # noqa: E731
        build_in_order(
            con,
            {
                "run_at": T0 + timedelta(hours=1),
                "start_day": T0.date(),
                "end_day": T0.date() + timedelta(days=1),
            },
            {("marts", "trust_events"): trust, ("marts", "agent_trust"): trust},
        )
    reader.close()
    con = open_lake(Lake.of(published), read_only=True)
    try:
        summary = {
            r[0]: r[1:]
            for r in con.execute(
                "select agent_name, total_hirings, active_hirings, total_executions, success_rate"
                " from marts.agent_usage_summary"
            ).fetchall()
        }
        users = {
            r[0]: r[1:]
            for r in con.execute(
                "select username, agents_hired, total_executions, failed_executions"
                " from marts.user_activity"
            ).fetchall()
        }
        daily = con.execute(
            "select executions, completed, failed, new_hirings, revenue"
            " from marts.agent_usage_daily where agent_id = ?",
            [busy],
        ).fetchall()
    finally:
        con.close()
    assert summary["Busy"] == (2, 2, 3, 2 / 3)
    assert summary["Idle"] == (1, 1, 0, None)
    assert users["alice"] == (2, 2, 1)
    assert users["bob"] == (1, 1, 0)
    assert daily == [(3, 2, 1, 2, 0.5)]  # revenue: 2 completed x 0.25
