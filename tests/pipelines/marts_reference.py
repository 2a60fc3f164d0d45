"""What the marts tests compare against: the platform database and its warehouse as one
object (:class:`Built`), and reference computations written from first principles in plain
Python over the platform's own rows (never the SQL under test)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import numpy as np
from sqlalchemy import JSON, Engine, Text, select, type_coerce

from pipelines.run import run_pipeline
from pipelines.warehouse.lake import open_published
from platform_core.models import Base, utcnow
from tests.pipelines.location import defs_on

TERMINAL = ("completed", "failed", "timeout")
HALF_LIFE_S = 7 * 86_400.0


class Built:
    """A platform database, its warehouse, and a way to run the pipeline again."""

    def __init__(self, engine: Engine, warehouse: Path) -> None:
        self.engine = engine
        self.warehouse = warehouse
        self.defs = defs_on(engine, warehouse)

    def run(self):
        outcome = run_pipeline(dg.DagsterInstance.ephemeral(), defs=self.defs)
        assert outcome.success, outcome.failed_steps
        assert outcome.failed_checks == []
        return outcome

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = open_published(self.warehouse)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def source(self, table: str) -> list[dict]:
        t = Base.metadata.tables[table]
        cols = [
            type_coerce(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in t.columns
        ]
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(*cols))]


def clean_executions(b: Built) -> list[dict]:
    """Executions that break no rule, decided here from first principles."""
    agents = {a["id"] for a in b.source("agents")}
    hirings = {h["id"] for h in b.source("hirings")}
    users = {u["id"] for u in b.source("users")}
    rows = b.source("executions")
    horizon = utcnow() + timedelta(minutes=5)
    seen: set[str] = set()
    clean = []
    for e in sorted(rows, key=lambda r: r["id"]):
        ok = True
        for field in ("input_data", "output_data"):
            value = e[field]
            if isinstance(value, str):
                try:
                    json.loads(value)
                except json.JSONDecodeError:
                    ok = False
        times = [
            t
            for t in (e["created_at"], e["updated_at"], e["started_at"], e["completed_at"])
            if t is not None
        ]
        ok &= e["status"] in ("pending", "running", "completed", "failed", "timeout", "cancelled")
        ok &= e["duration_ms"] is None or 0 <= e["duration_ms"] <= 86_400_000
        ok &= not (e["completed_at"] and e["started_at"] and e["completed_at"] < e["started_at"])
        ok &= not (e["status"] in TERMINAL and e["completed_at"] is None)
        ok &= max(times) <= horizon
        ok &= e["agent_id"] in agents
        ok &= e["hiring_id"] is None or e["hiring_id"] in hirings
        ok &= e["user_id"] is None or e["user_id"] in users
        ok &= e["execution_id"] not in seen
        seen.add(e["execution_id"])
        if ok:
            clean.append(e)
    return clean


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values, dtype=float), q * 100, method="linear"))


def reference_trust(b: Built) -> dict[int, tuple[float, float, float, int]]:
    """The Beta reputation model as the README's trust section writes it: a loop over events."""
    events = []
    for e in clean_executions(b):
        if e["status"] in TERMINAL:
            v = 1.0 if e["status"] == "completed" else -1.0
            w = 1.5 if e["status"] == "timeout" else 1.0
            events.append(
                (e["agent_id"], e["completed_at"], f"execution:{e['execution_id']}", v, w)
            )
    for r in b.source("agent_reviews"):
        events.append(
            (r["agent_id"], r["created_at"], f"review:{r['id']}", (r["rating"] - 3) / 2, 0.5)
        )
    state: dict[int, list] = {}
    for agent, t, _key, v, w in sorted(events, key=lambda e: (e[1], e[2])):
        r, s, last, n = state.get(agent, [0.0, 0.0, None, 0])
        d = 1.0 if last is None else 0.5 ** ((t - last).total_seconds() / HALF_LIFE_S)
        r, s = d * r + w * (1 + v) / 2, d * s + w * (1 - v) / 2
        state[agent] = [r, s, t, n + 1]
    return {a: ((1 + r) / (2 + r + s), r, s, n) for a, (r, s, _t, n) in state.items()}


def trust_days_from_events(events: list[tuple]) -> dict[tuple, tuple]:
    """marts.agent_trust_daily as it must follow from marts.trust_events' rows ``(agent_id,
    occurred_at, source_execution_id, source_review_id, trust_score_before,
    trust_score_after)``: per agent and UTC day, the first event's score before and the last
    one's after, in the trust model's order (occurred_at, then the event's key), their times,
    and the events."""
    by_day: dict[tuple, list[tuple]] = {}
    for agent, at, execution, review, before, after in events:
        key = f"execution:{execution}" if execution else f"review:{review}"
        by_day.setdefault((agent, at.date()), []).append(((at, key), before, after))
    expected = {}
    for day_key, day in by_day.items():
        day.sort()
        expected[day_key] = (day[0][1], day[-1][2], day[0][0][0], day[-1][0][0], len(day))
    return expected


#: What :func:`trust_days_from_events` reads, and the daily mart's rows it is compared with.
TRUST_EVENTS_OF_DAYS = (
    "select agent_id, occurred_at, source_execution_id, source_review_id,"
    " trust_score_before, trust_score_after from marts.trust_events"
)
TRUST_DAYS = (
    "select agent_id, day, score_before, score_after, first_event_at, last_event_at, events"
    " from marts.agent_trust_daily"
)
