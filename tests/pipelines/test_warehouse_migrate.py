"""``agenthub warehouse migrate`` moves a one-file DuckDB warehouse into the DuckLake, once."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.sql_files import read_sql
from pipelines.warehouse.lake import open_published


def old_warehouse(path: Path) -> None:
    """A warehouse file as the pipeline wrote it before the DuckLake (reports under marts)."""
    with duckdb.connect(str(path)) as con:
        for schema in ("raw", "marts", "ops"):
            con.execute(f"create schema {schema}")
        con.execute("create table raw.executions as select range as id from range(1234)")
        ddl = read_sql("ops/maintenance_runs.sql").replace("ops.", "marts.")
        for statement in con.extract_statements(ddl):
            con.execute(statement.query)
        con.execute(
            "insert into marts.maintenance_runs values"
            " ('r1', '2026-11-01 02:17', 'archive_executions', false, 120, 4096, 0.5, '{}')"
        )
        con.execute("create view marts.v as select 1")  # views: the next run makes its own


def test_migrate_copies_tables_moves_reports_to_ops_and_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    old_warehouse(tmp_path / "data" / "warehouse.work.duckdb")
    result = CliRunner().invoke(app, ["warehouse", "migrate"])
    assert result.exit_code == 0, result.output
    assert "2 tables, 1,235 rows" in result.output
    con = open_published(tmp_path / "data" / "warehouse.sqlite")
    try:
        assert con.execute("select count(*), sum(id) from raw.executions").fetchall() == [
            (1234, sum(range(1234)))
        ]
        assert con.execute("select operation, rows from ops.maintenance_runs").fetchall() == [
            ("archive_executions", 120)
        ]
    finally:
        con.close()
    again = CliRunner().invoke(app, ["warehouse", "migrate"])
    assert again.exit_code == 2 and "already holds" in again.output
