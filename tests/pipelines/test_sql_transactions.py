"""A model's statements commit together: one DuckLake snapshot, or nothing when one fails."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.sql_files import execute_script, in_transaction, one_transaction
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
