"""Repair the platform's denormalised counters from the truth, archive included.

Seed 000 keeps ``agents.total_hires``, ``total_executions``, ``average_rating`` and
``hirings.total_executions``, ``last_executed_at`` beside the rows they summarise. The truth:

* ``total_hires``: the agent's hirings;
* ``total_executions``: the platform's executions plus the archived ones
  (``ops.archived_executions``), so a purge never makes a counter drop;
* ``average_rating``: the mean rating of the agent's reviews, 0.0 without reviews (what the
  service layer and the simulator write);
* ``last_executed_at``: the newest ``created_at`` of the hiring's executions, archived ones
  included (the service stamps it when it queues an execution); NULL without executions.

One pass finds the rows whose stored value differs (set-based, a few queries). Each drifted
row is then repaired in its own short transaction: the row is locked first (PostgreSQL: ``FOR
UPDATE``; SQLite: the transaction begins IMMEDIATE, holding the one write lock) and its truth
counted again afterwards, so an execution queued concurrently (the service inserts it
and increments the counter in one transaction, the increment waiting for our lock) is counted
exactly once: either already committed and seen by our count, or incremented after our write.
Only rows that still differ are written, with ``updated_at`` so the warehouse re-reads them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
from sqlalchemy import Connection, Engine, func, select, update

from platform_core.db import for_writing, is_sqlite
from platform_core.models import Agent, AgentReview, Execution, Hiring

#: (table, column) pairs repaired, in report order.
COUNTERS = (
    ("agents", "total_hires"),
    ("agents", "total_executions"),
    ("agents", "average_rating"),
    ("hirings", "total_executions"),
    ("hirings", "last_executed_at"),
)


@dataclass(frozen=True)
class Drift:
    """One counter whose stored value differed from the truth."""

    table_name: str
    row_id: int
    column_name: str
    stored: Any
    actual: Any

    @property
    def difference(self) -> float | None:
        """actual - stored (seconds for timestamps); None when either side is NULL."""
        if self.stored is None or self.actual is None:
            return None
        if isinstance(self.actual, datetime):
            return (self.actual - self.stored).total_seconds()
        return float(self.actual) - float(self.stored)


def _differs(stored: Any, actual: Any) -> bool:
    if isinstance(stored, float) or isinstance(actual, float):
        if stored is None or actual is None:
            return stored is not actual
        # averages computed by the database in another order differ in the last bits
        return not math.isclose(float(stored), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return stored != actual


@dataclass(frozen=True)
class ArchivedCounts:
    """What the archive adds to the platform's own rows, per agent and per hiring."""

    agent_executions: dict[int, int]
    hiring_executions: dict[int, int]
    hiring_last_created: dict[int, datetime]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> ArchivedCounts:
        """Counted over ``ops.archived_executions`` (the listed, purged files)."""
        agents = dict(
            con.execute(
                "select agent_id, count(*) from ops.archived_executions group by agent_id"
            ).fetchall()
        )
        hirings = con.execute(
            "select hiring_id, count(*), max(created_at) from ops.archived_executions"
            " where hiring_id is not null group by hiring_id"
        ).fetchall()
        return cls(
            agents,
            {h: n for h, n, _ in hirings},
            {h: last for h, _, last in hirings},
        )


def _agent_truth(conn: Connection, archived: ArchivedCounts, agent_id: int | None = None):
    """(id, total_hires, total_executions, average_rating) from the platform + archive."""
    hires = select(func.count()).where(Hiring.agent_id == Agent.id).scalar_subquery()
    runs = select(func.count()).where(Execution.agent_id == Agent.id).scalar_subquery()
    rating = (
        select(func.coalesce(func.avg(AgentReview.rating), 0.0))
        .where(AgentReview.agent_id == Agent.id)
        .scalar_subquery()
    )
    query = select(Agent.id, hires, runs, rating)
    if agent_id is not None:
        query = query.where(Agent.id == agent_id)
    for row_id, total_hires, total_executions, average in conn.execute(query):
        yield (
            row_id,
            {
                "total_hires": total_hires,
                "total_executions": total_executions + archived.agent_executions.get(row_id, 0),
                "average_rating": float(average),
            },
        )


def _hiring_truth(conn: Connection, archived: ArchivedCounts, hiring_id: int | None = None):
    """(id, {total_executions, last_executed_at}) from the platform + archive."""
    runs = select(func.count()).where(Execution.hiring_id == Hiring.id).scalar_subquery()
    last = select(func.max(Execution.created_at)).where(Execution.hiring_id == Hiring.id)
    query = select(Hiring.id, runs, last.scalar_subquery())
    if hiring_id is not None:
        query = query.where(Hiring.id == hiring_id)
    for row_id, total, newest in conn.execute(query):
        archived_last = archived.hiring_last_created.get(row_id)
        candidates = [t for t in (newest, archived_last) if t is not None]
        yield (
            row_id,
            {
                "total_executions": total + archived.hiring_executions.get(row_id, 0),
                "last_executed_at": max(candidates) if candidates else None,
            },
        )


_MODELS = {"agents": Agent, "hirings": Hiring}
_TRUTH = {"agents": _agent_truth, "hirings": _hiring_truth}


def _stored(conn: Connection, table: str, row_id: int | None = None, *, lock: bool = False):
    model = _MODELS[table]
    columns = [c for t, c in COUNTERS if t == table]
    query = select(model.id, *(getattr(model, c) for c in columns))
    if row_id is not None:
        query = query.where(model.id == row_id)
    if lock:
        query = query.with_for_update()
    return {r[0]: dict(zip(columns, r[1:], strict=True)) for r in conn.execute(query)}


def find_drift(engine: Engine, archived: ArchivedCounts) -> list[Drift]:
    """Every counter whose stored value differs from the truth, in one read pass."""
    drift: list[Drift] = []
    with engine.connect() as conn:
        for table in _MODELS:
            stored = _stored(conn, table)
            for row_id, actual in _TRUTH[table](conn, archived):
                for column, value in actual.items():
                    if row_id in stored and _differs(stored[row_id][column], value):
                        drift.append(Drift(table, row_id, column, stored[row_id][column], value))
    return drift


def repair_counters(
    engine: Engine,
    archived: ArchivedCounts,
    now: datetime,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _rows: None,
) -> list[Drift]:
    """Find drifted counters and (unless ``dry_run``) repair them; the drift repaired (in a
    dry run, found). A row that a concurrent writer brought back in line is left alone."""
    found = find_drift(engine, archived)
    if dry_run:
        return found
    repaired: list[Drift] = []
    lock = not is_sqlite(engine)
    writer = for_writing(engine)  # SQLite: the write lock before the row is read again
    for table, row_id in dict.fromkeys((d.table_name, d.row_id) for d in found):
        with writer.begin() as conn:
            stored = _stored(conn, table, row_id, lock=lock).get(row_id)
            if stored is None:  # deleted meanwhile
                continue
            # Counted after the lock: see the module docstring.
            ((_, actual),) = _TRUTH[table](conn, archived, row_id)
            changed = {c: v for c, v in actual.items() if _differs(stored[c], v)}
            if not changed:
                continue
            model = _MODELS[table]
            conn.execute(update(model).where(model.id == row_id).values(**changed, updated_at=now))
            repaired += [Drift(table, row_id, c, stored[c], v) for c, v in changed.items()]
        progress(len(repaired))
    return repaired
