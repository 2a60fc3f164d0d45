"""Rows deleted on the platform by hand: what an operator does for a fraudulent listing (an
agent with all its rows) must never stop the product. Both databases."""

from __future__ import annotations

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from pipelines.jobs import CHECKS_JOB, PIPELINE_JOB
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import Lake, open_lake
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.location import defs_on
from tests.pipelines.test_trust_writeback import Platform

HISTORY = SimulationConfig(users=12, agents=5, hirings=40, executions=2_500, days=6)
RESEND = {"ops": {"platform__trust_records": {"config": {"resend_all": True}}}}


def delete_agent(engine: Engine, agent: int) -> int:
    """Delete an agent and every row that points at it, children first; its trust records."""
    with engine.begin() as conn:
        records = conn.execute(
            text("SELECT count(*) FROM trust_records WHERE agent_id = :a"), {"a": agent}
        ).scalar_one()
        for statement in (
            "DELETE FROM trust_records WHERE agent_id = :a",
            "DELETE FROM agent_metrics WHERE agent_id = :a",
            "DELETE FROM agent_reviews WHERE agent_id = :a",
            "DELETE FROM executions WHERE agent_id = :a"
            " OR hiring_id IN (SELECT id FROM hirings WHERE agent_id = :a)",
            "DELETE FROM hirings WHERE agent_id = :a",
            "DELETE FROM agents WHERE id = :a",
        ):
            conn.execute(text(statement), {"a": agent})
    return int(records)


@pytest.fixture
def platform(engine: Engine, tmp_path) -> Platform:
    simulate(engine, HISTORY)
    p = Platform(engine, tmp_path / "warehouse.sqlite")
    p.run()
    return p


def _writeback(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    (event,) = [
        e
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "platform/trust_records"
    ]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_an_agent_deleted_with_its_rows_never_fails_the_write_back(platform: Platform) -> None:
    with platform.engine.connect() as conn:
        agent = conn.execute(
            text(
                "SELECT agent_id FROM trust_records GROUP BY agent_id"
                " ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
    assert delete_agent(platform.engine, agent) > 0
    # More activity for the others, then the runs an operator would see.
    simulate(
        platform.engine, SimulationConfig(**{**HISTORY.__dict__, "executions": 300, "seed": 5})
    )
    platform.run()
    platform.run()
    # The self-healing resend of every event: the deleted agent's records are left out,
    # said in the metadata and counted by the data-quality mart on the next run.
    defs = defs_on(platform.engine, platform.warehouse)
    result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=RESEND
    )
    assert result.success
    meta = _writeback(result)
    assert meta["agents_gone"] == [agent]
    assert meta["records_dropped_agent_gone"] > 0
    with platform.engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM trust_records WHERE agent_id = :a"), {"a": agent}
            ).scalar_one()
            == 0
        )
    platform.run()
    rejected = platform.warehouse_query(
        "select quarantined_rows from marts.data_quality where table_name = 'trust_records'"
        " and rule = 'agent_deleted_on_platform'"
        " and checked_at = (select max(checked_at) from marts.data_quality)"
    )
    assert rejected == [(meta["records_dropped_agent_gone"],)]


def delete_user(engine: Engine, user: int) -> str:
    """Delete a user and every row that points at them (an erasure request); their email."""
    with engine.begin() as conn:
        email = conn.execute(
            text("SELECT email FROM users WHERE id = :u"), {"u": user}
        ).scalar_one()
        for statement in (
            "DELETE FROM agent_reviews WHERE reviewer_id = :u",
            "DELETE FROM executions WHERE user_id = :u"
            " OR hiring_id IN (SELECT id FROM hirings WHERE user_id = :u)",
            "DELETE FROM hirings WHERE user_id = :u",
            "DELETE FROM users WHERE id = :u",
        ):
            conn.execute(text(statement), {"u": user})
    return str(email)


def a_day_passes(platform: Platform) -> None:
    """Move the last id comparison a day back, as if the next run came a day later."""
    with connect_working(platform.warehouse) as con:
        con.execute(
            "update ops.watermarks set advanced_at = advanced_at - interval 25 hour"
            " where table_name like 'deletions:%'"
        )


def mentions(platform: Platform, needle: str) -> list[str]:
    """Every warehouse table and text column that holds ``needle`` somewhere."""
    con = open_lake(Lake.of(platform.warehouse), read_only=True)
    try:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns()"
            " where data_type = 'VARCHAR' and schema_name not in ('information_schema',"
            " 'pg_catalog') and database_name = current_database()"
        ).fetchall()
        found = []
        for schema, table, column in columns:
            hit = con.execute(
                f'select count(*) from "{schema}"."{table}" where contains("{column}", ?)',
                [needle],
            ).fetchall()[0][0]
            if hit:
                found.append(f"{schema}.{table}.{column}")
        return found
    finally:
        con.close()


def test_rows_deleted_on_the_platform_leave_the_warehouse_within_a_day(
    platform: Platform,
) -> None:
    engine = platform.engine
    with engine.connect() as conn:
        agent = conn.execute(text("SELECT min(agent_id) FROM executions")).scalar_one()
        user = conn.execute(
            text("SELECT max(user_id) FROM executions WHERE agent_id <> :a"), {"a": agent}
        ).scalar_one()
    delete_agent(engine, agent)
    email = delete_user(engine, user)
    assert mentions(platform, email)  # the warehouse holds the user's email until then
    with engine.connect() as conn:
        executions = set(conn.execute(text("SELECT id FROM executions")).scalars())
    platform.run()  # the same day: not compared yet
    a_day_passes(platform)
    outcome = platform.run()
    assert outcome.materializations["raw/executions"]["rows_deleted_on_platform"] > 0
    # Gone from every layer: raw, executions_all, the day marts, trust, the user marts.
    assert {r[0] for r in platform.warehouse_query("select id from raw.executions")} == executions
    assert {
        r[0] for r in platform.warehouse_query("select id from marts.executions_all")
    } == executions
    for sql in (
        "select count(*) from marts.agent_usage_daily where agent_id = ?",
        "select count(*) from marts.agent_usage_summary where agent_id = ?",
        "select count(*) from marts.agent_trust where agent_id = ?",
        "select count(*) from marts.trust_events where agent_id = ?",
        "select count(*) from marts.agent_trust_daily where agent_id = ?",
    ):
        assert platform.warehouse_query(sql, [agent]) == [(0,)], sql
    assert platform.warehouse_query(
        "select count(*) from marts.user_activity where user_id = ?", [user]
    ) == [(0,)]
    assert mentions(platform, email) == []
    # The day marts agree with what is left, and every daily check passes.
    defs = defs_on(engine, platform.warehouse)
    daily = defs.resolve_job_def(CHECKS_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert [e.check_name for e in daily.get_asset_check_evaluations() if not e.passed] == []
