"""Write trust back to the platform: ``agents.trust_score`` and seed 004's ``trust_records``.

Idempotent and batched: events go in ``seq`` order, a batch per platform transaction; each
trust record is keyed by its ``record_id`` and inserted with ON CONFLICT DO NOTHING, so a batch
sent twice (a crash after the platform commit, before the warehouse noted it) changes nothing.
The warehouse remembers the last ``seq`` written in ``ops.watermarks`` ('trust_writeback').
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from sqlalchemy import Engine, bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pipelines.sql_files import run_model
from platform_core.db import is_sqlite
from platform_core.models import Agent, TrustRecord, utcnow

BATCH = 5_000


@dataclass(frozen=True)
class WritebackResult:
    """What one write-back sent."""

    records_sent: int
    agents_updated: int
    last_seq: int


def write_back(
    con: duckdb.DuckDBPyConnection, engine: Engine, batch: int = BATCH
) -> WritebackResult:
    """Send trust events not yet written to the platform, in batches."""
    run_model(con, "ops/watermarks.sql")
    rows = con.execute(
        "select last_id from ops.watermarks where table_name = 'trust_writeback'"
    ).fetchall()
    last_seq = rows[0][0] if rows else 0
    insert = sqlite_insert if is_sqlite(engine) else pg_insert
    statement = insert(TrustRecord).on_conflict_do_nothing(index_elements=["record_id"])
    set_score = (
        update(Agent)
        .where(Agent.id == bindparam("agent_id_"))
        .values(trust_score=bindparam("score_"), updated_at=bindparam("now_"))
    )
    sent, agents = 0, set()
    while True:
        events = con.execute(
            """
            select seq, record_id, agent_id, event_type, source_execution_id, source_review_id,
                   trust_delta, trust_score_before, trust_score_after, reason, model_version,
                   occurred_at
            from marts.trust_events where seq > ? order by seq limit ?
            """,
            [last_seq, batch],
        ).fetchall()
        if not events:
            break
        records = [
            {
                "record_id": e[1],
                "agent_id": e[2],
                "event_type": e[3],
                "execution_id": e[4],
                "review_id": e[5],
                "trust_delta": e[6],
                "trust_score_before": e[7],
                "trust_score_after": e[8],
                "reason": (e[9] or "")[:512],
                "model_version": e[10],
                "created_at": e[11],
            }
            for e in events
        ]
        # The platform gets each touched agent's current score from the model's state (seq is
        # a cursor, not a time order within a run).
        touched = sorted({e[2] for e in events})
        latest = dict(
            con.execute(
                "select agent_id, trust_score from marts.agent_trust where agent_id in"
                " (select unnest(?::bigint[]))",
                [touched],
            ).fetchall()
        )
        now = utcnow()
        with engine.begin() as conn:
            conn.execute(statement, records)
            conn.execute(
                set_score,
                [
                    {"agent_id_": a, "score_": min(max(s, 0.0), 1.0), "now_": now}
                    for a, s in latest.items()
                ],
            )
        last_seq = events[-1][0]
        con.execute(
            "insert or replace into ops.watermarks values ('trust_writeback', null, ?, ?)",
            [last_seq, now],
        )
        sent += len(events)
        agents |= latest.keys()
    return WritebackResult(sent, len(agents), last_seq)
