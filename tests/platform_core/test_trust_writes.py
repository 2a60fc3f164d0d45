"""The platform's trust write path, on SQLite and PostgreSQL: records and scores."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError

from platform_core.models import TrustRecord
from platform_core.sample_data import load_sample_data
from platform_core.trust_writes import (
    TRUST_RECORD_COLUMNS,
    load_trust_records,
    set_trust_scores,
    stored_trust_scores,
    trust_record_counts,
    trust_record_ids,
)

T = datetime(2026, 11, 1, 12, 30, 15, 123456)


def insert_trust_records(engine: Engine, batch: pa.Table) -> int:
    """One batch through the platform's load, as a small write-back would send it."""
    return load_trust_records(engine, [batch], expected=batch.num_rows).inserted


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
    assert sorted(trust_record_ids(engine, ["beta-h7-t1.5-r0.5"])["record_id"].to_pylist()) == (
        sorted(f"r{i}" for i in range(60))
    )


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


def test_a_load_as_large_as_the_table_skips_index_upkeep_and_rebuilds_them(
    pg_engine: Engine,
) -> None:
    load_sample_data(pg_engine)
    with pg_engine.connect() as conn:
        agent = conn.execute(text("SELECT min(id) FROM agents")).scalar_one()

        def catalog() -> list[tuple]:
            return sorted(
                conn.execute(
                    text(
                        "SELECT indexname, indexdef FROM pg_indexes"
                        " WHERE tablename = 'trust_records'"
                    )
                ).all()
            )

        before = catalog()
    first = [f"a{i}" for i in range(20_000)]
    load = load_trust_records(pg_engine, [records(first[:15_000], agent)], expected=20_000)
    assert (load.inserted, load.bulk) == (15_000, True)  # the table was empty: bulk
    # Bulk again (20,000 >= 15,000 rows): the 15,000 already there are skipped.
    batches = [records(first[10_000:], agent), records(first[:10_000], agent)]
    load = load_trust_records(pg_engine, batches, expected=20_000)
    assert (load.received, load.inserted, load.bulk) == (20_000, 5_000, True)
    # A small load into the big table keeps the indexes and lets them skip duplicates.
    load = load_trust_records(pg_engine, [records(["a1", "new"], agent)], expected=2)
    assert (load.inserted, load.bulk) == (1, False)
    with pg_engine.connect() as conn:
        assert catalog() == before  # every index back, exactly as defined
        assert conn.execute(text("SELECT count(*) FROM trust_records")).scalar_one() == 20_001
    # And the unique key is enforced again.
    with pytest.raises(IntegrityError), pg_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO trust_records (record_id, agent_id, event_type, trust_delta,"
                " trust_score_before, trust_score_after, created_at)"
                " VALUES ('a1', :a, 'review', 0, 0.5, 0.5, now())"
            ),
            {"a": agent},
        )
