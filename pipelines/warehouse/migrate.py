"""``agenthub warehouse migrate``: move a warehouse kept in one DuckDB file into the DuckLake.

Before the DuckLake the pipeline wrote ``data/warehouse.work.duckdb`` and published copies of
it to ``data/warehouse.duckdb``. Everything in it could be rebuilt from the platform and the
archive ("Nothing lost"), except the history nothing else keeps: the maintenance reports,
the ingest runs, the capture cursors and the trust audit trail's sequence. So the tables are
copied as they are (the maintenance reports a very old file kept under ``marts`` go to
``ops``, where maintenance writes them now), views are left for the next run to create, and
the result is published: readers see the migrated warehouse at once, and the next run goes
on incrementally from the copied cursors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.sql_files import one_transaction
from pipelines.warehouse.files import MAINTENANCE_REPORTS, open_working, publish
from pipelines.warehouse.lake import SCHEMAS, Lake, sql_literal


@dataclass(frozen=True)
class Migrated:
    """What a migration copied."""

    tables: int
    rows: int
    snapshot: int
    seconds: float


def default_source() -> Path | None:
    """The old pipeline's working file, else its published copy, if either is there."""
    for candidate in (Path("data/warehouse.work.duckdb"), Path("data/warehouse.duckdb")):
        if candidate.is_file():
            return candidate
    return None


def migrate(source: Path, lake: Lake, say=print) -> Migrated:
    """Copy every table of the DuckDB file ``source`` into ``lake`` and publish.

    Refuses a lake that already holds tables: a migration runs once, into an empty lake.
    """
    if not source.is_file():
        raise FileNotFoundError(f"no DuckDB warehouse file at {source}")
    started = time.perf_counter()
    working = open_working(lake)
    con = working.con
    try:
        existing = con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database()"
        ).fetchall()[0][0]
        if existing:
            raise RuntimeError(
                f"the warehouse at {lake.name} already holds {existing} tables; a migration "
                "copies into an empty one (move its catalog and data folder away first)"
            )
        con.execute(f"ATTACH {sql_literal(str(source.resolve()))} AS old_file (READ_ONLY)")
        tables = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables()"
            " where database_name = 'old_file' and schema_name in (select unnest(?::varchar[]))"
            " order by schema_name, table_name",
            [list(SCHEMAS)],
        ).fetchall()
        rows = 0
        with one_transaction(con):  # one snapshot: readers never see half a migration
            for schema, table, _ in tables:
                target = "ops" if schema == "marts" and table in MAINTENANCE_REPORTS else schema
                con.execute(
                    f'CREATE TABLE {target}."{table}" AS SELECT * FROM old_file.{schema}."{table}"'
                )
                count = con.execute(f'SELECT count(*) FROM {target}."{table}"').fetchall()[0][0]
                rows += count
                say(f"  {schema}.{table} -> {target}.{table}: {count:,} rows")
        con.execute("DETACH old_file")
        published = publish(con, lake, published_by=f"migrate {source}")
    finally:
        working.close()
    return Migrated(len(tables), rows, published.snapshot, time.perf_counter() - started)
