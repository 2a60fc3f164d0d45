"""The platform's trust write path, on SQLite and PostgreSQL: records and scores."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from platform_core.models import TrustRecord
from platform_core.sample_data import load_sample_data
from platform_core.trust_writes import (
    TRUST_RECORD_COLUMNS,
    RecordLoad,
    load_trust_records,
    set_trust_scores,
    stored_trust_scores,
    trust_record_counts,
    trust_record_ids,
)

T = datetime(2026, 11, 1, 12, 30, 15, 123456)


def insert_trust_records(engine: Engine, batch: pa.Table) -> int:
    """One batch through the platform's load, as a small write-back would send it."""
    return load_trust_records(engine, [batch]).inserted


def records(ids: list[str], agent: int, version: str = "beta-h7-t1.5-r0.5") -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "record_id": ids,
            "agent_id": [agent] * n,
            "event_type": ["review"] * n,
            "execution_id": pa.array([None] * n, pa.string()),
            "review_id": list(range(1, n + 1)),
            "trust_delta": [0.1] * n,
            "trust_score_before": [0.5] * n,
            "trust_score_after": [0.6] * n,
            "reason": ["", *(['rated 4/5, "fine", ok\nnext line'] * n)][:n],
            "model_version": [version] * n,
            "created_at": pa.array([T] * n, pa.timestamp("us")),
        }
    )


@pytest.fixture
def agent(engine: Engine) -> int:
    load_sample_data(engine)
    with engine.connect() as conn:
        return conn.execute(text("SELECT min(id) FROM agents")).scalar_one()


def test_records_are_inserted_once_and_read_back_exactly(engine: Engine, agent: int) -> None:
    batch = records([f"r{i}" for i in range(50)], agent)
    assert insert_trust_records(engine, batch) == 50
    assert insert_trust_records(engine, batch) == 0  # the same batch again: nothing
    overlapping = records([f"r{i}" for i in range(40, 60)], agent)
    assert insert_trust_records(engine, overlapping) == 10
    table = TrustRecord.__table__
    with engine.connect() as conn:  # through the model's types, as the platform reads them
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    assert len(rows) == 60
    first = rows[0]
    assert first.record_id == "r0"
    assert first.execution_id is None  # NULL stays NULL ...
    assert first.reason == ""  # ... and an empty string stays empty
    assert rows[1].reason == 'rated 4/5, "fine", ok\nnext line'
    assert first.created_at == T
    assert first.trust_delta == 0.1
    assert trust_record_counts(engine, ["beta-h7-t1.5-r0.5", "other"]) == {
        "beta-h7-t1.5-r0.5": 60,
        "other": 0,
    }
    # Streamed in batches: every id once, none larger than the batch.
    batches = list(trust_record_ids(engine, ["beta-h7-t1.5-r0.5", "other"], batch_size=25))
    assert [b.num_rows for b in batches] == [25, 25, 10]
    ids = [i for b in batches for i in b["record_id"].to_pylist()]
    assert sorted(ids) == sorted(f"r{i}" for i in range(60))


def test_a_long_reason_is_cut_to_the_column_and_bad_input_is_refused(
    engine: Engine, agent: int
) -> None:
    batch = records(["a", "b"], agent)
    batch = batch.set_column(
        batch.column_names.index("reason"), "reason", pa.array(["x" * 900, None])
    )
    assert insert_trust_records(engine, batch) == 2
    with engine.connect() as conn:
        reasons = conn.execute(text("SELECT reason FROM trust_records ORDER BY id")).scalars()
        assert [None if r is None else len(r) for r in reasons] == [512, None]
    with pytest.raises(ValueError, match="lack column"):
        insert_trust_records(engine, batch.drop_columns(["model_version"]))
    assert insert_trust_records(engine, records([], agent)) == 0
    assert set(TRUST_RECORD_COLUMNS) == set(batch.column_names)


def test_scores_are_set_only_where_they_differ(engine: Engine, agent: int) -> None:
    stored = stored_trust_scores(engine)
    assert set(stored.values()) == {0.5}
    others = sorted(a for a in stored if a != agent)
    now = datetime(2026, 11, 2)
    changes = set_trust_scores(
        engine, {agent: 0.8125, others[0]: 0.5, others[1]: 1.7, 999_999: 0.1}, now
    )
    # Unchanged, unknown and clamped agents: only real moves are written, within [0, 1].
    assert [(c.agent_id, c.stored, c.new) for c in changes] == [
        (agent, 0.5, 0.8125),
        (others[1], 0.5, 1.0),
    ]
    after = stored_trust_scores(engine)
    assert after[agent] == 0.8125 and after[others[1]] == 1.0 and after[others[0]] == 0.5
    with engine.connect() as conn:
        stamped = conn.execute(
            text("SELECT id FROM agents WHERE updated_at = :now ORDER BY id"), {"now": now}
        ).scalars()
        assert list(stamped) == sorted([agent, others[1]])
    assert set_trust_scores(engine, {agent: 0.8125}, now) == []


def _trust_records_stats(engine: Engine) -> tuple[int, int]:
    """(sequential scans of trust_records, rows inserted into it), from the statistics
    PostgreSQL flushes when a session goes idle (a forced flush of this session's own)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_force_next_flush()"))
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        return tuple(
            conn.execute(
                text(
                    "SELECT seq_scan, n_tup_ins FROM pg_stat_user_tables"
                    " WHERE relname = 'trust_records'"
                )
            ).one()
        )


def _wait_for_stats(engine: Engine, inserted: int) -> int:
    """Sequential scans of trust_records once the loading session's counts have arrived."""
    for _ in range(100):
        scans, rows = _trust_records_stats(engine)
        if rows >= inserted:
            return scans
        time.sleep(0.05)
    raise AssertionError("PostgreSQL's statistics never showed the load")


def test_a_load_never_rescans_trust_records_whatever_the_statistics_say(
    pg_engine: Engine,
) -> None:
    """After an ordinary VACUUM ANALYZE of the empty table, a load of n records must not
    read trust_records once per record (the anti-join of an earlier version did: quadratic).
    Counted by PostgreSQL itself, so the test measures the plan, not a stopwatch."""
    load_sample_data(pg_engine)
    with pg_engine.connect() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()
    with pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE trust_records"))  # statistics: the table is empty
    before = _wait_for_stats(pg_engine, 0)
    ids = [f"a{i:05d}" for i in range(20_000)]
    batches = [records(ids[:10_000], agent), records(ids[10_000:], agent)]
    assert load_trust_records(pg_engine, batches) == RecordLoad(20_000, 20_000)
    assert _wait_for_stats(pg_engine, 20_000) - before <= 2
    # Present rows are skipped by the unique index, also when the statistics are stale.
    again = [records([*ids[15_000:], "b1"], agent), records(ids[:15_000], agent)]
    assert load_trust_records(pg_engine, again) == RecordLoad(20_001, 1)
    assert _wait_for_stats(pg_engine, 20_001) - before <= 4
    # Every index is still there, and the unique key enforced.
    with pytest.raises(IntegrityError), pg_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trust_records (record_id, agent_id, event_type, trust_delta,"
                " trust_score_before, trust_score_after, created_at)"
                " VALUES ('a00001', :a, 'review', 0, 0.5, 0.5, now())"
            ),
            {"a": agent},
        )


def test_platform_reads_of_trust_records_never_wait_for_a_load(pg_engine: Engine) -> None:
    """A platform session reads trust_records inside an open transaction (holding its ACCESS
    SHARE lock) while a large load runs: the load must finish without waiting for a lock.
    A load that needed a stronger lock (dropping indexes needs ACCESS EXCLUSIVE) would wait
    here, and would make every platform read wait the other way round."""
    load_sample_data(pg_engine)
    with pg_engine.connect() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()
    ids = [f"a{i:05d}" for i in range(30_000)]
    reader = pg_engine.connect()
    reader.execute(text("SELECT count(*) FROM trust_records"))  # transaction open, lock held
    outcome: dict[str, object] = {}

    def load() -> None:
        try:
            outcome["load"] = load_trust_records(
                pg_engine, [records(ids[:15_000], agent), records(ids[15_000:], agent)]
            )
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    loader = threading.Thread(target=load)
    loader.start()
    waited = False
    with pg_engine.connect() as watcher:
        while loader.is_alive() and not waited:
            waited = bool(
                watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    )
                ).scalar_one()
            )
            watcher.commit()
            time.sleep(0.02)
    reader.rollback()  # releases a waiting load, so the test ends either way
    reader.close()
    loader.join()
    assert not waited, "the load waited for a lock held by a platform reader"
    assert outcome.get("load") == RecordLoad(30_000, 30_000), outcome


def test_a_load_cut_short_keeps_its_committed_batches_and_a_resend_completes_it(
    engine: Engine, agent: int
) -> None:
    """Each batch commits on its own: a failure part-way leaves the batches before it, and
    sending everything again adds exactly the rest (the write-back's cursor has not moved)."""
    first, second = records([f"c{i}" for i in range(30)], agent), records(["d1", "d2"], agent)

    def cut_short():
        yield first
        raise RuntimeError("the warehouse went away")

    with pytest.raises(RuntimeError, match="went away"):
        load_trust_records(engine, cut_short())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM trust_records")).scalar_one() == 30
    assert load_trust_records(engine, [first, second]) == RecordLoad(32, 2)


def test_a_load_that_outgrows_the_statistics_refreshes_them(pg_engine: Engine) -> None:
    """Statistics taken while trust_records was empty would keep the platform's own queries
    planning for an empty table while a first load fills it: the load ANALYZEs the table
    once it has more than doubled."""
    load_sample_data(pg_engine)
    with pg_engine.connect() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()
    with pg_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE trust_records"))

    def known_rows() -> float:
        with pg_engine.connect() as conn:
            return conn.execute(
                text("SELECT reltuples FROM pg_class WHERE relname = 'trust_records'")
            ).scalar_one()

    assert known_rows() == 0
    ids = [f"g{i:05d}" for i in range(60_000)]
    load_trust_records(pg_engine, [records(ids[:30_000], agent), records(ids[30_000:], agent)])
    assert known_rows() == 60_000
