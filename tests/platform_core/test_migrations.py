"""Alembic migrations: round trip, and the models agree with what the migrations build."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from platform_core import migrate
from platform_core.db import make_engine
from platform_core.models import Base

ALL_TABLES = {
    "users",
    "agents",
    "hirings",
    "executions",
    "agent_metrics",
    "trust_records",
    "agent_reviews",
}


def _tables(engine: Engine) -> set[str]:
    # change_clock is SQLite's commit counter for change capture (migration 0004), no model.
    return set(inspect(engine).get_table_names()) - {"alembic_version", "change_clock"}


def test_upgrade_head_downgrade_base_round_trip(empty_engine: Engine) -> None:
    assert migrate.current_revision(empty_engine) is None
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    assert _tables(empty_engine) == ALL_TABLES
    migrate.downgrade(empty_engine, "0001")
    assert _tables(empty_engine) == {"users", "agents", "hirings", "executions"}
    assert "trust_score" not in {c["name"] for c in inspect(empty_engine).get_columns("agents")}
    migrate.downgrade(empty_engine)
    assert _tables(empty_engine) == set()
    migrate.upgrade(empty_engine)
    assert _tables(empty_engine) == ALL_TABLES


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    # SQLite cannot reflect expression indexes (recorded_at DESC), so Alembic reports them
    # as changed there; everything else must agree on both databases.
    if engine.dialect.name == "sqlite":
        diff = [
            d
            for d in diff
            if not (
                d[0] in ("add_index", "remove_index")
                and d[1].name in ("idx_agent_metrics_recorded_at", "idx_trust_records_agent_date")
            )
            # SQLite's commit counter for change capture (migration 0004) has no model.
            and not (d[0] == "remove_table" and d[1].name == "change_clock")
        ]
    assert diff == []


def test_trust_score_defaults_to_half_and_is_checked(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agents (created_at, updated_at, name, description, author, email,"
                " entry_point) VALUES ('2024-01-01', '2024-01-01', 'a', 'd', 'x', 'x@y.z', 'm:f')"
            )
        )
        assert conn.scalar(text("SELECT trust_score FROM agents")) == 0.5
    for bad in (1.5, -0.1):
        with pytest.raises(IntegrityError, match="trust_score"), engine.begin() as conn:
            conn.execute(text("UPDATE agents SET trust_score = :v"), {"v": bad})


AGENT = (
    "INSERT INTO agents (created_at, updated_at, name, description, author, email, entry_point)"
    " VALUES ('2024-01-01', '2024-01-01', 'a', 'd', 'x', 'x@y.z', 'm:f')"
)
EXECUTION = (
    "INSERT INTO executions (created_at, updated_at, agent_id, status, execution_id)"
    " VALUES ('2024-01-01', '2024-01-01', 1, 'completed', :key)"
)
METRIC = (
    "INSERT INTO agent_metrics (agent_id, metric_name, metric_value, recorded_at)"
    " VALUES (1, 'latency_ms', 1.0, '2024-01-01')"
)


def _purge_newest_then_insert(engine: Engine) -> dict[str, tuple[int, int]]:
    """Per purged table: (the id maintenance deleted, the id the next insert got)."""
    seen = {}
    with engine.begin() as conn:
        conn.execute(text(AGENT))
        for table, insert in (("executions", EXECUTION), ("agent_metrics", METRIC)):
            for key in ("e1", "e2"):
                conn.execute(text(insert), {"key": f"{table}-{key}"})
            newest = conn.scalar(text(f"SELECT max(id) FROM {table}"))
            conn.execute(text(f"DELETE FROM {table} WHERE id = :id"), {"id": newest})
            conn.execute(text(insert), {"key": f"{table}-e3"})
            seen[table] = (newest, conn.scalar(text(f"SELECT max(id) FROM {table}")))
    return seen


def test_an_id_maintenance_purged_is_never_handed_out_again(engine: Engine) -> None:
    # The warehouse keeps purged rows by id: a reused id would hide an archived execution.
    for table, (purged, new) in _purge_newest_then_insert(engine).items():
        assert new > purged, table


def test_upgrading_a_sqlite_platform_keeps_its_rows_indexes_and_stops_reusing_ids(
    tmp_path,
) -> None:
    from platform_core.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text(AGENT))
        conn.execute(text(EXECUTION), {"key": "kept"})
        conn.execute(text(METRIC))
    before = {t: inspect(engine).get_indexes(t) for t in ("executions", "agent_metrics")}
    migrate.upgrade(engine, "0003")
    after = {t: inspect(engine).get_indexes(t) for t in ("executions", "agent_metrics")}
    migrate.upgrade(engine)  # and on to the newest revision, rows kept
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, execution_id FROM executions")).all() == [(1, "kept")]
        assert conn.scalar(text("SELECT count(*) FROM agent_metrics")) == 1
        ddl = dict(
            conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index'")).all()
        )
    assert after == before
    assert "recorded_at DESC" in ddl["idx_agent_metrics_recorded_at"]
    for table, (purged, new) in _purge_newest_then_insert(engine).items():
        assert new > purged, table
    engine.dispose()


def test_sqlite_writing_transactions_hold_the_write_lock_from_their_first_read(tmp_path) -> None:
    """A read-then-write transaction (counter repair, hiring expiry, the service) must hold
    SQLite's one write lock from its start: otherwise a concurrent writer can change what it
    read before it writes (a lost increment). Another writer is refused while it is open."""
    import sqlite3

    from platform_core.db import for_writing

    engine = make_engine(f"sqlite:///{tmp_path / 'platform.db'}")
    migrate.upgrade(engine)
    with for_writing(engine).begin() as conn:
        conn.execute(text("SELECT count(*) FROM agents")).scalar_one()  # a read, no write yet
        other = sqlite3.connect(tmp_path / "platform.db", timeout=0.2)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("UPDATE change_clock SET value = value WHERE id = 1")
        other.close()
    # A plain (read) transaction leaves the lock to writers.
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM agents")).scalar_one()
        other = sqlite3.connect(tmp_path / "platform.db", timeout=0.2)
        other.execute("UPDATE change_clock SET value = value WHERE id = 1")
        other.commit()
        other.close()
    engine.dispose()


def test_an_id_deleted_by_hand_is_never_handed_out_again(engine: Engine) -> None:
    """The warehouse keys every mirrored row by id: a new row taking a deleted row's id would
    be merged into it (a review of another agent took a deleted agent's review's id, and its
    trust event the same record_id). Both databases, every mirrored table but the two above."""
    user = (
        "INSERT INTO users (created_at, updated_at, username, email)"
        " VALUES ('2024-01-01', '2024-01-01', :key, :email)"
    )
    with engine.begin() as conn:
        conn.execute(text(AGENT))
        newest = {}
        for key in ("u1", "u2"):
            conn.execute(text(user), {"key": key, "email": f"{key}@x.io"})
        newest["users"] = conn.scalar(text("SELECT max(id) FROM users"))
        conn.execute(text(AGENT))
        newest["agents"] = conn.scalar(text("SELECT max(id) FROM agents"))
        conn.execute(text("DELETE FROM users WHERE id = :i"), {"i": newest["users"]})
        conn.execute(text("DELETE FROM agents WHERE id = :i"), {"i": newest["agents"]})
        conn.execute(text(user), {"key": "u3", "email": "u3@x.io"})
        conn.execute(text(AGENT))
        assert conn.scalar(text("SELECT max(id) FROM users")) > newest["users"]
        assert conn.scalar(text("SELECT max(id) FROM agents")) > newest["agents"]
