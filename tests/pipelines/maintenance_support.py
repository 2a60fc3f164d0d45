"""What the maintenance tests share: a simulated platform on either backend, a plain ingest of
it, and the platform and archive read the way an operator or analyst reads them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, text

from pipelines.ingest.extract import open_reader
from pipelines.ingest.load import load_table
from pipelines.ingest.tables import INGESTED_TABLES, SOURCE_TABLES
from pipelines.warehouse.files import connect_working
from platform_core import migrate
from platform_core.db import make_engine
from platform_core.simulate import SimulationConfig, simulate


def simulated_platform(
    request: pytest.FixtureRequest, tmp_path: Path, config: SimulationConfig
) -> Iterator[Engine]:
    """A migrated platform on ``request.param`` ("sqlite" or "postgres") with ``config``'s
    history, disposed afterwards (for ``yield from`` in a fixture)."""
    if request.param == "postgres":
        engine = make_engine(request.getfixturevalue("postgres").create(migrated=True))
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'platform.db'}")
        migrate.upgrade(engine)
    simulate(engine, config)
    yield engine
    engine.dispose()


def ingest(engine: Engine, warehouse: Path) -> None:
    """Load every platform table into the warehouse's raw layer, nothing else."""
    reader = open_reader(engine.url.render_as_string(hide_password=False))
    try:
        with connect_working(warehouse) as con:
            for table in INGESTED_TABLES:
                load_table(con, reader, SOURCE_TABLES[table])
    finally:
        reader.close()


def ids(engine: Engine, sql: str, **params: object) -> set[int]:
    """The first column of a platform query, as a set."""
    with engine.connect() as conn:
        return set(conn.execute(text(sql), params).scalars())


def archive_rows(archive: Path, table: str, columns: str = "id") -> list[tuple]:
    """``columns`` of every archived row of ``table``, read as analysts do: a glob over the
    Hive-partitioned folder with plain DuckDB."""
    if not list((archive / table).rglob("*.parquet")):
        return []
    return duckdb.execute(
        f"select {columns} from read_parquet(?, hive_partitioning = true)",
        [f"{archive}/{table}/**/*.parquet"],
    ).fetchall()
