"""Many small incremental pipeline runs leave every mart exactly as a from-scratch build would.

The platform changes between runs the way a live one does: new activity overlapping the
history (late executions, late metric points, new reviews, new agents), executions that finish
after they were ingested, executions purged from the platform, bad rows, and orphans whose
parent arrives later. Each change is followed by ``run_pipeline`` (the real jobs, as the
hourly schedule runs them). At the end the raw layer the runs built is copied into a new lake
and every model is built once from it, in graph order; each mart must then equal, row for
row, what the incremental runs left (grain joined, doubles within 1e-9, run bookkeeping
columns such as ``applied_at`` and ``seq`` left out).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from sqlalchemy import Engine, insert, select, text

from pipelines.partitions import daily_partitions
from pipelines.run import run_pipeline
from pipelines.sql_files import run_model
from pipelines.sql_models import build_in_order, load_graph
from pipelines.trust.model import TrustParameters, update_trust
from pipelines.warehouse import extensions
from pipelines.warehouse.lake import Lake, attach, open_lake, open_published
from platform_core.models import Agent, Execution, utcnow
from platform_core.simulate import SimulationConfig, simulate
from platform_core.simulate.bad_rows import ORPHAN_ID
from tests.pipelines.location import defs_on
from tests.pipelines.marts_reference import TRUST_DAYS, TRUST_EVENTS_OF_DAYS, trust_days_from_events
from tests.worlds import simulated_engine

ROUNDS = 5
#: Columns that record when or in which order a run did its work, not what the data says.
BOOKKEEPING = {
    "applied_at",
    "seq",
    "detected_at",
    "updated_at",
    "checked_at",
    "changed_at",
    "_ingested_at",
}
#: Tables whose updated_at is the run's, not the source's.
RUN_STAMPED = {"agent_trust"}
#: The trust audit trail is append-only: a record keeps the values it was written with, so a
#: late event leaves the records after it (and the days built from them) as they were, where a
#: rebuild applies everything in order. Which events, their sources and evidence must agree;
#: the scores agree in marts.agent_trust (the state, compared in full).
AS_APPLIED = {
    "trust_events": {
        "positive_evidence",
        "negative_evidence",
        "trust_score_before",
        "trust_score_after",
        "trust_delta",
        "reason",
    },
    "agent_trust_daily": {"score_before", "score_after", "change"},
}
#: Rows compared only where they do not stand on the audit trail's values: the trust_drop
#: alert's baseline is the score before the window's first event, as it was applied.
COMPARED_ROWS = {"agent_alerts": "rule <> 'trust_drop'"}
RAW_TABLES = ("users", "agents", "hirings", "executions", "agent_metrics", "agent_reviews")


def change_the_platform(engine: Engine, round_no: int) -> None:
    """One hour of a live platform, with every kind of change the ingest must follow."""
    now = utcnow()
    simulate(
        engine,
        SimulationConfig(
            seed=1_000 + round_no,
            users=3,
            agents=1,
            hirings=8,
            executions=300,
            days=3,  # overlapping the history: late executions and late metric points
            metric_interval_minutes=180,
            bad_rows=4 if round_no % 2 == 0 else 0,
        ),
    )
    with engine.begin() as conn:
        # Executions ingested while queued or running finish now.
        open_ = conn.execute(
            select(Execution.id, Execution.created_at)
            .where(Execution.status.in_(("pending", "running")))
            .order_by(Execution.id)
            .limit(15)
        ).all()
        for i, (execution_id, created_at) in enumerate(open_):
            status = ("completed", "failed", "timeout")[i % 3]
            conn.execute(
                text(
                    "UPDATE executions SET status = :status, started_at = :started,"
                    " completed_at = :done, duration_ms = 1500, updated_at = :now,"
                    " error_message = :error WHERE id = :id"
                ),
                {
                    "status": status,
                    "started": created_at,
                    "done": created_at + timedelta(milliseconds=1500),
                    "now": now,
                    "error": None if status == "completed" else f"late failure {round_no}",
                    "id": execution_id,
                },
            )
        # The platform purges some old executions: the warehouse keeps what it ingested.
        conn.execute(
            text(
                "DELETE FROM executions WHERE id IN (SELECT id FROM executions"
                " WHERE status IN ('completed', 'failed') ORDER BY created_at LIMIT 25)"
            )
        )
        # A metric point arriving two days late for an existing agent.
        conn.execute(
            text(
                "INSERT INTO agent_metrics (agent_id, metric_name, metric_value, recorded_at)"
                " SELECT MIN(id), 'response_time_ms', 123.0 + :n, :at FROM agents"
            ),
            {"n": round_no, "at": now - timedelta(days=2, minutes=round_no)},
        )
        if round_no == 2:
            # The parent of round 0's orphaned executions arrives: they are no longer orphans.
            conn.execute(insert(Agent).values(id=ORPHAN_ID, **new_agent("late parent", now)))
        if round_no == ROUNDS - 1:
            # An active agent that never sends a heartbeat: stale in agent_liveness.
            conn.execute(insert(Agent).values(**new_agent("silent agent", now)))


def new_agent(name: str, now: object) -> dict[str, object]:
    """The columns of an active agent registered outside the simulator."""
    return {
        "name": name,
        "description": "registered between two pipeline runs",
        "author": "test",
        "email": "agent@example.com",
        "entry_point": "main.py",
        "status": "active",
        "price_per_use": 0.1,
        "created_at": now,
        "updated_at": now,
    }


def rebuild_from_raw(incremental: Path, target: Path, run_at: object) -> None:
    """Copy the raw layer the incremental runs built (the lake whose catalog is
    ``incremental``), then build every model once from it in a new lake whose catalog is
    ``target``."""
    con = open_lake(Lake.of(target))
    try:
        attach(con, Lake.of(incremental), alias="inc", read_only=True)
        for table in RAW_TABLES:
            con.execute(f"create table raw.{table} as select * from inc.raw.{table}")
        con.execute("detach inc")
        run_model(con, "ops/watermarks.sql")  # bookkeeping the ingest would have created
        days = daily_partitions.get_partition_keys()
        trust = lambda: update_trust(con, TrustParameters(), run_at)  # noqa: E731
        build_in_order(
            con,
            {
                "run_at": run_at,
                "start_day": date.fromisoformat(days[0]),
                "end_day": date.fromisoformat(days[-1]) + timedelta(days=1),
            },
            {("marts", "trust_events"): trust, ("marts", "agent_trust"): trust},
        )
    finally:
        con.close()


def differences(con: duckdb.DuckDBPyConnection, table: str, grain: tuple[str, ...]) -> list:
    """Rows of ``inc.marts.<table>`` and ``rebuilt.marts.<table>`` that disagree (up to 10)."""
    columns = con.execute(
        "select column_name, data_type from duckdb_columns()"
        " where database_name = 'rebuilt' and schema_name = 'marts' and table_name = ?",
        [table],
    ).fetchall()
    skip = set(BOOKKEEPING) - ({"updated_at"} if table not in RUN_STAMPED else set())
    skip |= AS_APPLIED.get(table, set())
    compared = [(c, t) for c, t in columns if c not in skip and c not in grain]
    on = " and ".join(f"i.{c} is not distinct from f.{c}" for c in grain)
    unequal = [
        f"abs(i.{c} - f.{c}) > 1e-9 * greatest(1, abs(f.{c})) or (i.{c} is null) <> (f.{c} is null)"
        if t == "DOUBLE"
        else f"i.{c} is distinct from f.{c}"
        for c, t in compared
    ]
    first = grain[0]
    keep = COMPARED_ROWS.get(table, "true")
    inc, rebuilt = (f"(select * from {db}.marts.{table} where {keep})" for db in ("inc", "rebuilt"))
    where = " or ".join([f"i.{first} is null", f"f.{first} is null", *(f"({u})" for u in unequal)])
    keys = ", ".join(f"coalesce(i.{c}, f.{c}) as {c}" for c in grain)
    return con.execute(
        f"select {keys}, i.{first} is null as only_in_rebuild,"
        f" f.{first} is null as only_incremental"
        f" from {inc} as i full join {rebuilt} as f on {on}"
        f" where {where} limit 10"
    ).fetchall()


@pytest.mark.slow
def test_incremental_runs_equal_a_rebuild(tmp_path: Path) -> None:
    engine = simulated_engine(
        "sqlite",
        None,
        tmp_path,
        SimulationConfig(
            users=20,
            agents=6,
            hirings=40,
            executions=3_000,
            days=5,
            bad_rows=12,
            metric_interval_minutes=60,
        ),
    )
    published = tmp_path / "warehouse.sqlite"
    defs = defs_on(engine, published)
    instance = dg.DagsterInstance.ephemeral()
    for round_no in range(ROUNDS + 1):
        if round_no:
            change_the_platform(engine, round_no - 1)
        outcome = run_pipeline(instance, defs=defs)
        assert outcome.success, outcome.failed_steps
        assert outcome.failed_checks == []
    engine.dispose()

    with open_published(published) as con:
        run_at = con.execute("select max(checked_at) from marts.data_quality").fetchall()[0][0]
        orphans_left = con.execute(
            "select count(*) from intermediate.quarantine where rule like 'orphaned%'"
            " and row_key in (select id from raw.executions where agent_id = ?)",
            [ORPHAN_ID],
        ).fetchall()[0][0]
        # The daily trust mart, rebuilt each run only for the agents and days the trust model
        # owed it (ops.trust_days_owed), follows from the events the runs left, scores too.
        events = con.execute(TRUST_EVENTS_OF_DAYS).fetchall()
        trust_days = {(r[0], r[1]): r[2:] for r in con.execute(TRUST_DAYS).fetchall()}
        owed = con.execute("select count(*) from ops.trust_days_owed").fetchall()[0][0]
    assert orphans_left == 0, "orphans whose parent arrived are still quarantined"
    assert trust_days == trust_days_from_events(events)
    assert owed == 0
    full = tmp_path / "rebuild.sqlite"
    rebuild_from_raw(published, full, run_at)

    con = extensions.connect()
    attach(con, Lake.of(published), alias="inc", read_only=True)
    attach(con, Lake.of(full), alias="rebuilt", read_only=True)
    graph = load_graph()
    # The maintenance reports are history other jobs write (ops.*, read as marts.* views and
    # marts over those), not built from raw: a rebuild has none.
    reports: set[tuple[str, str]] = set()
    marts = []
    for model in graph.in_order():
        if model.layer != "marts":
            continue
        if all(key[0] == "ops" or key in reports for key in model.reads):
            reports.add(model.key)
        else:
            marts.append(model)
    assert {k[1] for k in reports} >= {"maintenance_runs", "maintenance_run_summary"}
    assert len(marts) >= 10
    compared = 0
    for model in marts:
        table = model.key[1]
        if table == "data_quality":
            # A snapshot per run: the last incremental snapshot is the rebuild's only one.
            con.execute(
                "create temp table dq as select * from inc.marts.data_quality"
                " where checked_at = (select max(checked_at) from inc.marts.data_quality)"
            )
        # Counted over the rows compared: rows an as-applied rule produces (agent_alerts'
        # trust_drop, which sees late events when they arrived) may differ in number too.
        keep = COMPARED_ROWS.get(table, "true")
        rows_i, rows_f = con.execute(
            f"select (select count(*) from inc.marts.{table} where {keep}),"
            f" (select count(*) from rebuilt.marts.{table} where {keep})"
        ).fetchall()[0]
        if table == "data_quality":
            rows_i = con.execute("select count(*) from dq").fetchall()[0][0]
            diff = con.execute(
                "select table_name, rule, quarantined_rows, table_rows from dq except all"
                " select table_name, rule, quarantined_rows, table_rows"
                " from rebuilt.marts.data_quality"
            ).fetchall()
        elif not model.grain and ("intermediate", table) not in graph.models:
            # No grain (marts.execution_durations: a row per execution, equal rows allowed):
            # the two must hold the same rows, as multisets.
            diff = con.execute(
                f"(select * from inc.marts.{table} except all"
                f" select * from rebuilt.marts.{table}) union all"
                f" (select * from rebuilt.marts.{table} except all"
                f" select * from inc.marts.{table}) limit 10"
            ).fetchall()
        else:
            # A published view has the grain of the intermediate table behind it.
            grain = model.grain or graph.model("intermediate", table).grain
            diff = differences(con, table, grain)
        assert rows_f > 0, f"the rebuild left marts.{table} empty"
        assert (rows_i, diff) == (rows_f, []), f"marts.{table} differs from a rebuild"
        compared += 1
    assert compared == len(marts)
