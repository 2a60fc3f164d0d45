"""The workload simulator: consistent, deterministic, additive, and honest about bad rows.

Expected numbers are recomputed here in plain Python from the rows the simulator wrote.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from platform_core.db import make_engine
from platform_core.models import Base, utcnow
from platform_core.simulate import NotMigratedError, SimulationConfig, simulate
from platform_core.statuses import ExecutionStatus

END = datetime(2026, 11, 20, 0, 0)
SMALL = SimulationConfig(
    users=25,
    agents=8,
    hirings=60,
    executions=4_000,
    days=3,
    metric_interval_minutes=60,
    end=END,
    batch_size=1_500,
)


def rows(engine: Engine, sql: str) -> list[dict]:
    """Rows of a query, with SQLite's text timestamps typed as the models type them."""
    with engine.connect() as conn:
        result = [dict(r._mapping) for r in conn.execute(text(sql))]
    for row in result:
        for key, value in row.items():
            if isinstance(value, str) and key.endswith("_at") and len(value) >= 19:
                row[key] = datetime.fromisoformat(value)
    return result


def test_history_is_internally_consistent(engine: Engine) -> None:
    report = simulate(engine, SMALL)
    start = END - timedelta(days=SMALL.days)
    execs = rows(engine, "SELECT * FROM executions")
    hirings = {h["id"]: h for h in rows(engine, "SELECT * FROM hirings")}
    agents = {a["id"]: a for a in rows(engine, "SELECT * FROM agents")}
    assert len(execs) == report.rows["executions"] == SMALL.executions
    assert len(hirings) == SMALL.hirings
    assert {e["status"] for e in execs} <= set(ExecutionStatus)

    per_agent = Counter(e["agent_id"] for e in execs)
    per_hiring = Counter(e["hiring_id"] for e in execs if e["hiring_id"] is not None)
    last_per_hiring: dict[int, datetime] = {}
    for e in execs:
        assert start <= e["created_at"] <= END
        if e["hiring_id"] is not None:
            h = hirings[e["hiring_id"]]
            assert (e["agent_id"], e["user_id"]) == (h["agent_id"], h["user_id"])
            assert e["created_at"] >= h["hired_at"]
            assert h["expires_at"] is None or e["created_at"] <= h["expires_at"]
            last = last_per_hiring.get(h["id"])
            last_per_hiring[h["id"]] = max(last, e["created_at"]) if last else e["created_at"]
        if e["status"] in ("completed", "failed", "timeout"):
            assert e["started_at"] <= e["completed_at"]
            measured = (e["completed_at"] - e["started_at"]) / timedelta(milliseconds=1)
            assert e["duration_ms"] == pytest.approx(measured, abs=1)
            assert e["cpu_usage"] is not None and 0 <= e["cpu_usage"] <= 100
        if e["status"] in ("failed", "timeout"):
            assert e["error_message"]
        if e["status"] == "completed":
            assert json.loads(
                e["output_data"]
                if isinstance(e["output_data"], str)
                else json.dumps(e["output_data"])
            )["response"]
        assert agents[e["agent_id"]]["status"] in ("approved", "active")

    # The denormalised counters equal what the rows say.
    for agent_id, agent in agents.items():
        assert agent["total_executions"] == per_agent.get(agent_id, 0)
        assert agent["total_hires"] == sum(h["agent_id"] == agent_id for h in hirings.values())
        assert 0.0 <= agent["trust_score"] <= 1.0
    for hiring_id, h in hirings.items():
        assert h["total_executions"] == per_hiring.get(hiring_id, 0)
        assert h["last_executed_at"] == last_per_hiring.get(hiring_id)

    ratings: dict[int, list[int]] = defaultdict(list)
    for r in rows(engine, "SELECT agent_id, rating FROM agent_reviews"):
        ratings[r["agent_id"]].append(r["rating"])
    assert ratings, "some hirings should leave reviews"
    for agent_id, values in ratings.items():
        assert agents[agent_id]["average_rating"] == pytest.approx(sum(values) / len(values))

    beats: dict[int, datetime] = {}
    for p in rows(
        engine, "SELECT agent_id, recorded_at FROM agent_metrics WHERE metric_name = 'heartbeat'"
    ):
        beats[p["agent_id"]] = max(beats.get(p["agent_id"], p["recorded_at"]), p["recorded_at"])
    for agent_id, last in beats.items():
        assert agents[agent_id]["last_heartbeat_at"] == last


def test_degrading_agents_fail_more_late_in_the_period(engine: Engine) -> None:
    config = SimulationConfig(
        users=40,
        agents=20,
        hirings=200,
        executions=20_000,
        days=6,
        metric_interval_minutes=240,
        degrading_share=0.3,
        end=END,
    )
    simulate(engine, config)
    start = END - timedelta(days=config.days)
    third = (END - start) / 3
    outcome: dict[int, list[list[int]]] = defaultdict(lambda: [[0, 0], [0, 0]])
    for e in rows(engine, "SELECT agent_id, status, created_at FROM executions"):
        if e["status"] not in ("completed", "failed", "timeout"):
            continue
        part = (
            0 if e["created_at"] < start + third else 1 if e["created_at"] > END - third else None
        )
        if part is None:
            continue
        outcome[e["agent_id"]][part][0] += e["status"] != "completed"
        outcome[e["agent_id"]][part][1] += 1
    worsened = [
        a
        for a, ((f0, n0), (f1, n1)) in outcome.items()
        if n0 >= 50 and n1 >= 50 and f1 / n1 > f0 / n0 + 0.15
    ]
    assert worsened, "no agent's failure rate grew: trust would have nothing to track"


def _dump(engine: Engine) -> dict[str, list[tuple]]:
    cols = {
        "executions": "agent_id, hiring_id, user_id, status, started_at, completed_at,"
        " duration_ms, error_message, cpu_usage, memory_usage, execution_id,"
        " created_at, updated_at",
        "hirings": "agent_id, user_id, status, hired_at, expires_at, total_executions",
        "agents": "name, status, total_hires, total_executions, average_rating",
        "agent_reviews": "agent_id, reviewer_id, rating",
        "agent_metrics": "agent_id, metric_name, metric_value, recorded_at",
    }
    tables = Base.metadata.tables
    with engine.connect() as conn:
        return {
            t: [
                tuple(r)
                for r in conn.execute(
                    select(*[tables[t].c[name.strip()] for name in c.split(",")]).order_by(
                        tables[t].c.id
                    )
                )
            ]
            for t, c in cols.items()
        }


@pytest.mark.postgres
def test_same_seed_same_history_on_sqlite_and_postgres(pg_engine: Engine, tmp_path) -> None:
    from platform_core import migrate

    lite = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    migrate.upgrade(lite)
    simulate(lite, SMALL)
    simulate(pg_engine, SMALL)
    assert _dump(lite) == _dump(pg_engine)
    other = make_engine(f"sqlite:///{tmp_path / 'b.db'}")
    migrate.upgrade(other)
    simulate(other, SimulationConfig(**{**SMALL.__dict__, "seed": 7}))
    assert _dump(other)["executions"] != _dump(lite)["executions"]


def test_a_second_run_adds_activity_and_keeps_counters_right(engine: Engine) -> None:
    simulate(engine, SMALL)
    before = utcnow() - timedelta(seconds=5)
    simulate(engine, SMALL)
    execs = rows(engine, "SELECT id, agent_id, execution_id, updated_at FROM executions")
    assert len(execs) == 2 * SMALL.executions
    assert len({e["execution_id"] for e in execs}) == len(execs)
    # Rows appended to a populated database carry the write time, so incremental ingest by
    # updated_at picks them up.
    newest = sorted(execs, key=lambda e: e["id"])[SMALL.executions :]
    assert all(e["updated_at"] >= before for e in newest)
    per_agent = Counter(e["agent_id"] for e in execs)
    for a in rows(engine, "SELECT id, total_executions FROM agents"):
        assert a["total_executions"] == per_agent.get(a["id"], 0)


def test_bad_rows_land_where_the_database_allows(engine: Engine) -> None:
    report = simulate(engine, SimulationConfig(**{**SMALL.__dict__, "bad_rows": 40}))
    assert sum(report.bad_rows.values()) == 40
    assert "duplicate_execution_id" in report.skipped_bad_rows
    bad = rows(engine, "SELECT * FROM executions WHERE execution_id LIKE 'bad_%'")
    by_kind = Counter(e["execution_id"].split("_")[2] for e in bad)
    assert any(e["status"] == "succeeded" for e in bad)
    assert any(e["duration_ms"] is not None and e["duration_ms"] < 0 for e in bad)
    assert any(
        e["completed_at"] and e["started_at"] and e["completed_at"] < e["started_at"] for e in bad
    )
    assert any(e["created_at"] > END + timedelta(days=1) for e in bad)
    if engine.dialect.name == "sqlite":
        assert "invalid_json" in report.bad_rows
        raw = rows(
            engine, "SELECT input_data FROM executions WHERE execution_id LIKE 'bad_%invalid_json%'"
        )
        assert raw
        for r in raw:
            with pytest.raises(json.JSONDecodeError):
                json.loads(r["input_data"])
        assert rows(
            engine, "SELECT id FROM executions WHERE agent_id NOT IN (SELECT id FROM agents)"
        )
    else:
        assert "invalid_json" in report.skipped_bad_rows
    assert by_kind  # every bad row is recognisable by its execution_id


@pytest.mark.postgres
def test_postgres_bulk_load_restores_every_index_and_constraint(pg_engine: Engine) -> None:
    catalog = (
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'executions' "
        "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'executions'::regclass ORDER BY 1"
    )
    before = rows(pg_engine, catalog)
    report = simulate(
        pg_engine,
        SimulationConfig(**{**SMALL.__dict__, "executions": 25_000, "batch_size": 10_000}),
    )
    assert rows(pg_engine, catalog) == before
    assert report.rows["executions"] == 25_000
    per_agent = Counter(r["agent_id"] for r in rows(pg_engine, "SELECT agent_id FROM executions"))
    for a in rows(pg_engine, "SELECT id, total_executions FROM agents"):
        assert a["total_executions"] == per_agent.get(a["id"], 0)


def test_refuses_an_unmigrated_database(empty_engine: Engine) -> None:
    with pytest.raises(NotMigratedError, match="agenthub db init"):
        simulate(empty_engine, SMALL)


def test_refuses_impossible_knobs() -> None:
    with pytest.raises(ValueError, match="days must be at least 1"):
        SimulationConfig(days=0).validate()
    with pytest.raises(ValueError, match="at least one hiring"):
        SimulationConfig(hirings=0).validate()
