"""The grain checks of tables that grow with the history: each run checks the keys it wrote,
the daily_checks job every row. A duplicate the run wrote fails the run's check; one it did
not write is left to the daily check, which finds it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine

from pipelines.jobs import CHECKS_JOB, DAILY_JOB
from pipelines.run import run_pipeline
from pipelines.warehouse.files import connect_working
from platform_core.models import utcnow
from platform_core.simulate import SimulationConfig
from tests.pipelines.location import defs_on
from tests.worlds import simulated_engine

END = utcnow().replace(minute=0, second=0, microsecond=0)
HISTORY = SimulationConfig(users=10, agents=4, hirings=20, executions=1_500, days=3, end=END)


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = simulated_engine("sqlite", request, tmp_path, HISTORY)
    yield engine
    engine.dispose()


def _checks(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def _sql(warehouse: Path, statement: str) -> None:
    """Change the pipeline's working file (what the checks read), as a broken build would."""
    with connect_working(warehouse) as con:
        con.execute(statement)


def test_a_partition_run_checks_its_days_and_the_daily_job_every_day(
    platform: Engine, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.sqlite"
    defs = defs_on(platform, warehouse)
    assert run_pipeline(dg.DagsterInstance.ephemeral(), defs=defs).success
    oldest = (END - timedelta(days=2)).date()
    # A duplicate on the oldest day, as a broken build would leave it.
    _sql(
        warehouse,
        "insert into marts.agent_usage_daily select * from marts.agent_usage_daily"
        f" where day = date '{oldest}' limit 1",
    )
    today = END.date().isoformat()
    result = defs.resolve_job_def(DAILY_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=today, raise_on_error=False
    )
    check = _checks(result)[("marts/agent_usage_daily", "unique_grain")]
    assert check.passed  # today's rows are unique; the old day is not this run's
    assert check.metadata["scope"].value == "the rows this run wrote"
    daily = defs.resolve_job_def(CHECKS_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    whole = _checks(daily)[("marts/agent_usage_daily", "unique_grain_whole_table")]
    assert not whole.passed, whole.metadata
    assert whole.metadata["duplicate_keys"].value == 1
    # The run that rebuilds the old day checks it, and its rebuild leaves it unique.
    result = defs.resolve_job_def(DAILY_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=oldest.isoformat()
    )
    assert _checks(result)[("marts/agent_usage_daily", "unique_grain")].passed


def test_the_run_check_of_executions_all_covers_the_rows_it_wrote(
    platform: Engine, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.sqlite"
    defs = defs_on(platform, warehouse)
    assert run_pipeline(dg.DagsterInstance.ephemeral(), defs=defs).success
    checks = [
        c
        for c in defs.get_repository_def().asset_checks_defs_by_key.values()
        if {(k.asset_key.to_user_string(), k.name) for k in c.check_keys}
        == {("intermediate/executions_all", "unique_grain")}
    ]
    (check,) = set(checks)  # bound to the warehouse resource by the Definitions

    def evaluate() -> dg.AssetCheckResult:
        return check(dg.build_asset_check_context())

    assert evaluate().passed
    # A copy of a row the last run wrote, with that run's changed_at: the run check fails.
    _sql(
        warehouse,
        "insert into intermediate.executions_all select * from intermediate.executions_all"
        " where changed_at = (select max(changed_at) from intermediate.executions_all) limit 1",
    )
    result = evaluate()
    assert not result.passed and result.metadata["duplicate_keys"].value == 1
    # The copy repeats a row the run wrote: found even when the copy itself is stamped as
    # an older run's row, since the run's keys are looked up in the whole table.
    _sql(
        warehouse,
        "update intermediate.executions_all set changed_at = timestamp '2000-01-01'"
        " where rowid = (select max(rowid) from intermediate.executions_all)",
    )
    assert not evaluate().passed
    # Both copies from an older run: not this run's rows, so the daily check's to find.
    _sql(
        warehouse,
        "update intermediate.executions_all set changed_at = timestamp '2000-01-01'"
        " where id in (select id from intermediate.executions_all group by id"
        " having count(*) > 1)",
    )
    assert evaluate().passed
    daily = defs.resolve_job_def(CHECKS_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    whole = _checks(daily)[("intermediate/executions_all", "unique_grain_whole_table")]
    assert not whole.passed and whole.metadata["duplicate_keys"].value == 1
