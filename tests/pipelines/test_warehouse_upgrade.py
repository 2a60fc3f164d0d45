"""A warehouse written before the maintenance reports moved to ``ops`` keeps its reports: they
are the history of the maintenance runs and cannot be rebuilt from the platform."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.sql_files import read_sql
from pipelines.warehouse.files import MAINTENANCE_REPORTS, open_working, working_path


def test_old_marts_report_tables_move_into_ops_with_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "warehouse.sqlite"
    with duckdb.connect(str(working_path(path))) as con:
        con.execute("create schema marts")
        for name in MAINTENANCE_REPORTS:  # the old layout: the same tables under marts
            ddl = read_sql(f"ops/{name}.sql").replace("ops.", "marts.")
            for statement in con.extract_statements(ddl):
                con.execute(statement.query)
        con.execute(
            "insert into marts.maintenance_runs values"
            " ('r1', '2026-11-01 02:17', 'archive_executions', false, 120, 4096, 0.5, '{}'),"
            " ('r1', '2026-11-01 02:17', 'repair_counters', false, 3, 0, 0.1, '[]')"
        )
        con.execute(
            "insert into marts.expired_hirings values (7, 2, 5, '2026-10-30', '2026-11-01')"
        )

    con = open_working(path)
    try:
        assert con.execute(
            "select operation, rows from ops.maintenance_runs order by operation"
        ).fetchall() == [("archive_executions", 120), ("repair_counters", 3)]
        assert con.execute("select hiring_id, agent_id from ops.expired_hirings").fetchall() == [
            (7, 2)
        ]
        left = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        assert left == []
    finally:
        con.close()

    again = open_working(path)  # a second open finds nothing to move and changes nothing
    try:
        assert again.execute("select count(*) from ops.maintenance_runs").fetchone() == (2,)
    finally:
        again.close()
