"""The warehouse with its DuckLake catalog in PostgreSQL (the several-machines layout, on one
machine): the pipeline, maintenance and its upkeep, the daily checks and the analyst's shell
all work on it, and nothing they print or record shows the catalog's password."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from pipelines.warehouse.lake import Lake, open_published
from tests.pipelines.maintenance_support import Agenthub, executions_kept

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

SECRET = "s3cret-catalog-pw"


def test_pipeline_maintenance_and_sql_on_a_postgresql_catalog(postgres, tmp_path: Path) -> None:
    platform_url = postgres.create(migrated=True)
    catalog = make_url(postgres.create(migrated=False)).set(password=SECRET)
    data = tmp_path / "lake"
    agenthub = Agenthub(platform_url, tmp_path)
    agenthub.env["WAREHOUSE_CATALOG"] = catalog.render_as_string(hide_password=False)
    agenthub.env["WAREHOUSE_DATA_PATH"] = str(data)
    outputs = [
        agenthub.run("simulate", "--users", "10", "--agents", "4", "--hirings", "30",
                     "--executions", "3000", "--days", "8"),
        agenthub.run("pipeline", "run"),
        agenthub.run("simulate", "--users", "2", "--agents", "1", "--hirings", "3",
                     "--executions", "500", "--days", "1"),
        agenthub.run("pipeline", "run"),
        agenthub.run("maintenance", "run"),
        agenthub.run("pipeline", "run"),
        agenthub.run("checks", "run"),
    ]  # fmt: skip
    assert "checks passed" in outputs[-1]

    on_platform, archived = executions_kept(platform_url, agenthub.archive)
    assert archived > 0, "maintenance archived nothing"

    lake = Lake(catalog.render_as_string(hide_password=False), str(data))
    with open_published(lake) as con:
        total, distinct = con.execute(
            "select count(*), count(distinct id) from marts.executions_all"
        ).fetchone()
        upkeep = con.execute(
            "select count(*) from marts.maintenance_runs where operation = 'warehouse_upkeep'"
        ).fetchone()[0]
    assert total == distinct == on_platform + archived
    assert upkeep == 1
    assert list(data.rglob("*.parquet")), "no data file under WAREHOUSE_DATA_PATH"

    shell = agenthub.run(
        "sql", "--format", "csv", "-c", "select count(*) as n from marts.executions_all"
    )
    outputs.append(shell)
    assert shell.strip().splitlines()[-2:] == ["n", str(total)]
    for output in outputs:
        assert SECRET not in output
