"""intermediate.quarantine on a hand-made raw layer (read through staging): what each rebuild
keeps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.ingest.load import ensure_raw_table
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.sql_files import run_model
from pipelines.sql_models import load_graph
from pipelines.warehouse.files import connect_working

T0 = datetime(2026, 5, 4, 9, 0)


def raw_layer_with_user_and_agent(con: duckdb.DuckDBPyConnection) -> None:
    """Every raw table (and the staging views over them), empty but for user 1 and agent 1
    (ingested at T0)."""
    for table in SOURCE_TABLES.values():
        ensure_raw_table(con, table)
    for model in load_graph().sql_assets():
        if model.layer == "staging":
            run_model(con, model.relative)
    con.execute(
        "insert into raw.users (id, username, email, created_at, updated_at, _ingested_at)"
        " values (1, 'u', 'u@x.co', $t, $t, $t)",
        {"t": T0},
    )
    con.execute(
        "insert into raw.agents (id, name, status, created_at, updated_at, _ingested_at)"
        " values (1, 'a', 'approved', $t, $t, $t)",
        {"t": T0},
    )


def test_a_row_breaking_one_rule_twice_stays_two_rows_run_after_run(tmp_path: Path) -> None:
    """Both JSON documents invalid: one row per detail, and rebuilding never multiplies them
    (the rebuild keeps each row's first detected_at by joining on the whole grain)."""
    with connect_working(tmp_path / "warehouse.sqlite") as con:
        raw_layer_with_user_and_agent(con)
        con.execute(
            "insert into raw.executions (id, agent_id, user_id, status, execution_id,"
            " input_data, output_data, created_at, updated_at, _ingested_at)"
            " values (1, 1, 1, 'pending', 'e1', '{bad', '[also bad', $t, $t, $t)",
            {"t": T0},
        )
        for run in range(3):
            run_model(con, "intermediate/quarantine.sql", {"run_at": datetime(2026, 5, 5, run)})
        rows = con.execute(
            "select rule, detail, detected_at from intermediate.quarantine order by detail"
        ).fetchall()
    assert rows == [
        ("invalid_json", "input_data is not valid JSON", datetime(2026, 5, 5, 0)),
        ("invalid_json", "output_data is not valid JSON", datetime(2026, 5, 5, 0)),
    ]


def _flags(con) -> set[tuple[str, int, str]]:
    rows = con.execute("select table_name, row_key, rule from intermediate.quarantine")
    return {tuple(r) for r in rows.fetchall()}


def test_verdicts_that_change_without_the_row_changing_follow_incremental_runs(
    tmp_path: Path,
) -> None:
    """The large tables are judged incrementally, yet an orphan whose parent arrives, a
    duplicate whose twin changed its execution_id and a future timestamp the clock passed are
    all released, while an unchanged bad row keeps its finding and its detected_at."""
    t1, run0, run1 = datetime(2026, 5, 4, 12), datetime(2026, 5, 5), datetime(2026, 5, 7)
    future = datetime(2026, 5, 6)
    with connect_working(tmp_path / "warehouse.sqlite") as con:
        raw_layer_with_user_and_agent(con)
        executions = [
            (1, 1, "e1", "{}", T0),  # valid
            (2, 1, "e1", "{}", T0),  # duplicate of 1
            (3, 2, "e3", "{}", T0),  # agent 2 not there yet
            (4, 1, "e4", "{}", future),  # created after run0
            (5, 1, "e5", "{bad", T0),  # invalid JSON, never fixed
        ]
        con.executemany(
            "insert into raw.executions (id, agent_id, user_id, status, execution_id,"
            " input_data, created_at, updated_at, _ingested_at)"
            " values (?, ?, 1, 'pending', ?, ?, ?, ?, ?)",
            [(i, a, e, j, c, c, T0) for i, a, e, j, c in executions],
        )
        con.executemany(
            "insert into raw.agent_metrics (id, agent_id, metric_name, metric_value,"
            " recorded_at, _ingested_at) values (?, ?, 'latency_ms', 1.0, ?, ?)",
            [(1, 1, T0, T0), (2, 1, T0, T0), (3, 2, T0, T0)],
        )

        run_model(con, "intermediate/quarantine.sql", {"run_at": run0})
        assert _flags(con) == {
            ("executions", 2, "duplicate_execution_id"),
            ("executions", 3, "orphaned_agent"),
            ("executions", 4, "future_timestamp"),
            ("executions", 5, "invalid_json"),
            ("agent_metrics", 2, "duplicate_point"),
            ("agent_metrics", 3, "orphaned_agent"),
        }

        first = _flags(con)
        run_model(con, "intermediate/quarantine.sql", {"run_at": run0})
        assert _flags(con) == first  # nothing changed: every finding stays

        # Agent 2 arrives; execution 1 takes another execution_id. Rows 2-5 are untouched.
        con.execute(
            "insert into raw.agents (id, name, status, created_at, updated_at, _ingested_at)"
            " values (2, 'b', 'approved', $t, $t, $t)",
            {"t": t1},
        )
        con.execute(
            "update raw.executions set execution_id = 'e1b', _ingested_at = $t where id = 1",
            {"t": t1},
        )
        run_model(con, "intermediate/quarantine.sql", {"run_at": run1})
        assert _flags(con) == {
            ("executions", 5, "invalid_json"),
            ("agent_metrics", 2, "duplicate_point"),
        }
        detected = con.execute("select distinct detected_at from intermediate.quarantine")
        assert detected.fetchall() == [(run0,)]

        # A finding lost from the table is not found again while the rules stay the same
        # (row 5 did not change), and is once the rules version differs: every row judged.
        con.execute("delete from intermediate.quarantine where row_key = 5")
        run_model(con, "intermediate/quarantine.sql", {"run_at": run1})
        assert ("executions", 5, "invalid_json") not in _flags(con)
        con.execute("update ops.watermarks set last_id = 0 where table_name = 'quarantine'")
        run_model(con, "intermediate/quarantine.sql", {"run_at": run1})
        assert ("executions", 5, "invalid_json") in _flags(con)
