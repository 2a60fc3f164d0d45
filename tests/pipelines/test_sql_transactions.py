"""A model's statements commit together: one DuckLake snapshot, or nothing when one fails;
DDL-only files commit only when they change."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.ingest.load import ensure_raw_table
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.sql_files import (
    ddl_relation,
    execute_script,
    in_transaction,
    one_transaction,
    read_sql,
    run_model,
    sql_version,
)
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import current_snapshot

SCRIPT = """
create table raw.a as select 1 as v;
create table raw.b as select 2 as v;
insert into raw.a values ($v);
"""


def test_a_script_is_one_snapshot_or_nothing(tmp_path: Path) -> None:
    with connect_working(tmp_path / "warehouse.sqlite") as con:
        before = current_snapshot(con)
        with one_transaction(con):
            execute_script(con, SCRIPT, {"v": 3})
        assert current_snapshot(con) == before + 1
        assert con.execute("select sum(v) from raw.a").fetchall() == [(4,)]
        with pytest.raises(duckdb.Error), one_transaction(con):
            execute_script(con, "insert into raw.a values (5); select * from raw.missing;")
        assert con.execute("select sum(v) from raw.a").fetchall() == [(4,)]
        assert current_snapshot(con) == before + 1
        # Inside the caller's transaction, the caller commits (and may roll everything back).
        with pytest.raises(RuntimeError), one_transaction(con):
            assert in_transaction(con)
            with one_transaction(con):
                con.execute("insert into raw.b values (7)")
            raise RuntimeError("the caller fails after the inner block")
        assert not in_transaction(con)
        assert con.execute("select sum(v) from raw.b").fetchall() == [(2,)]


def test_a_ddl_file_is_applied_once_per_version(tmp_path: Path) -> None:
    """A view or bookkeeping file the warehouse already holds at its version commits
    nothing; a changed file, or a relation dropped by hand, is applied again."""
    with connect_working(tmp_path / "warehouse.sqlite") as con:
        ensure_raw_table(con, SOURCE_TABLES["users"])  # raw.users and the ingest's ops tables
        run_model(con, "staging/stg_users.sql")  # a view over raw.users
        applied = current_snapshot(con)
        for _ in range(3):
            run_model(con, "ops/watermarks.sql")
            run_model(con, "staging/stg_users.sql")
        assert current_snapshot(con) == applied, "restating unchanged DDL committed"
        versions = dict(con.execute("select model, sql_version from ops.model_versions").fetchall())
        assert versions["ops/watermarks.sql"] == sql_version(read_sql("ops/watermarks.sql"))
        assert versions["staging/stg_users.sql"] == sql_version(read_sql("staging/stg_users.sql"))

        # An older version of the file is recorded: the file runs again, once.
        con.execute("update ops.model_versions set sql_version = 1")
        older = current_snapshot(con)
        run_model(con, "staging/stg_users.sql")
        assert current_snapshot(con) == older + 1
        run_model(con, "staging/stg_users.sql")
        assert current_snapshot(con) == older + 1

        con.execute("drop view staging.stg_users")
        run_model(con, "staging/stg_users.sql")
        assert con.execute(
            "select count(*) from duckdb_views() where view_name = 'stg_users'"
        ).fetchall() == [(1,)]
        # A file that builds data runs every time.
        assert ddl_relation("marts/agent_usage_summary.sql") is None
        assert ddl_relation("ops/watermarks.sql") == ("ops", "watermarks")
