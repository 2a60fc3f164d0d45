"""intermediate.quarantine on a hand-made raw layer: what each rebuild keeps."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipelines.ingest.load import ensure_raw_table
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.sql_files import run_model
from pipelines.warehouse.files import connect_working

T0 = datetime(2026, 5, 4, 9, 0)


def test_a_row_breaking_one_rule_twice_stays_two_rows_run_after_run(tmp_path: Path) -> None:
    """Both JSON documents invalid: one row per detail, and rebuilding never multiplies them
    (the rebuild keeps each row's first detected_at by joining on the whole grain)."""
    with connect_working(tmp_path / "warehouse.duckdb") as con:
        for table in SOURCE_TABLES.values():
            ensure_raw_table(con, table)
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
