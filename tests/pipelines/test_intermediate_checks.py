"""The blocking check on executions_all, on hand-built warehouse tables: it passes on a
consistent warehouse and fails when an id names two executions (a purged id handed out again
by the platform), though every count still matches."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.intermediate.checks import every_raw_execution_once
from pipelines.warehouse.resource import Warehouse


def warehouse_with(tmp_path: Path, raw: list[tuple[int, str]], archived: list[tuple[int, str]]):
    """raw.executions, ops.archived_executions and executions_all as the pipeline would leave
    them: the mirror's row for an id in both, the archive's otherwise."""
    warehouse = Warehouse(catalog=str(tmp_path / "warehouse.sqlite"))
    with warehouse.connect(marts=True) as con:
        for schema in ("raw", "ops", "intermediate"):
            con.execute(f"create schema if not exists {schema}")
        for table in ("raw.executions", "ops.archived_executions"):
            con.execute(f"create table {table} (id bigint, execution_id varchar)")
        con.executemany("insert into raw.executions values (?, ?)", raw)
        con.executemany("insert into ops.archived_executions values (?, ?)", archived)
        con.execute(
            "create table intermediate.executions_all as"
            " select * from raw.executions union all"
            " select * from ops.archived_executions"
            " where id not in (select id from raw.executions)"
        )
    return warehouse


@pytest.mark.parametrize(
    ("archived", "passed"),
    [
        # id 3 was archived and is still in the mirror (purged after the last ingest): one
        # execution, seen twice.
        ([(1, "sim_1"), (3, "sim_3")], True),
        # id 3 was an archived bad row; the platform gave id 3 to a new execution.
        ([(1, "sim_1"), (3, "bad_3")], False),
    ],
)
def test_an_id_naming_two_executions_fails_the_check(
    tmp_path: Path, archived: list[tuple[int, str]], passed: bool
) -> None:
    warehouse = warehouse_with(tmp_path, [(2, "sim_2"), (3, "sim_3")], archived)
    result = every_raw_execution_once(warehouse=warehouse)
    assert result.passed is passed
    assert result.metadata["missing"].value == 0  # the counts alone cannot tell
    assert result.metadata["ids_naming_two_executions"].value == (0 if passed else 1)
