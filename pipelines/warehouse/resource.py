"""The warehouse as a Dagster resource: where the DuckLake lives, the run's connection to it,
and the publish (pipelines/warehouse/lake.py says how readers and writers meet)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr

from pipelines.env import FromEnvironment
from pipelines.warehouse.files import (
    Published,
    Working,
    check_export_path,
    check_memory_limit,
    connect_working,
    open_working,
    publish,
    set_memory_limit,
)
from pipelines.warehouse.lake import DEFAULT_CATALOG, Lake, check_lake

#: DuckDB memory limits while ingesting and while building marts (Warehouse says why).
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_MARTS_MEMORY_LIMIT = "1GB"


class Warehouse(FromEnvironment, dg.ConfigurableResource):
    """The warehouse: a DuckLake (catalog + data files), and an optional export file."""

    ENVIRONMENT: ClassVar[dict[str, str]] = {
        "catalog": "WAREHOUSE_CATALOG",
        "data_path": "WAREHOUSE_DATA_PATH",
        "path": "WAREHOUSE_PATH",
        "memory_limit": "WAREHOUSE_MEMORY_LIMIT",
        "marts_memory_limit": "WAREHOUSE_MARTS_MEMORY_LIMIT",
    }

    catalog: str = Field(
        default=DEFAULT_CATALOG,
        description="The DuckLake catalog (WAREHOUSE_CATALOG): a SQLite file on one machine, "
        "or a postgresql:// URL across machines.",
    )
    data_path: str = Field(
        default="",
        description="Folder of the warehouse's Parquet files (WAREHOUSE_DATA_PATH); by "
        "default a folder named after the SQLite catalog beside it (data/warehouse/).",
    )
    path: str = Field(
        default="",
        description="Optional export (WAREHOUSE_PATH): each run also writes the published "
        "snapshot to this single DuckDB file, for clients without the DuckLake extension.",
    )
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit while ingesting (WAREHOUSE_MEMORY_LIMIT); it spills "
        "beyond it. 1GB, as for the marts (so the run's peak is unchanged): on the DuckLake "
        "the hourly merge into a 2M-execution history's raw.agent_metrics ran out of 128MB "
        "(bench/pipeline.py, 2026-12-01), which the DuckDB file had held.",
    )
    marts_memory_limit: str = Field(
        default=DEFAULT_MARTS_MEMORY_LIMIT,
        description="DuckDB memory limit while building marts (WAREHOUSE_MARTS_MEMORY_LIMIT). "
        "DuckDB fills memory up to its limit before it spills: at 8GB a first run over 2M "
        "executions peaked at 2.9 GB RSS (trust +2.2 GB, quarantine +0.8 GB), at 1GB at 1.3 GB "
        "for +2.1 s in the trust step (bench/pipeline.py). Raise it for histories of tens of "
        "millions, where sorts and percentiles spill more (bench/marts.py ran at 8GB).",
    )
    threads: int = Field(default=2, description="DuckDB threads for the pipeline.")

    #: Within a Dagster run: the warehouse's one connection, shared by every step.
    _run: Working | None = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)

    @property
    def lake(self) -> Lake:
        """Where the warehouse lives."""
        return Lake(self.catalog, self.data_path)

    @property
    def export_path(self) -> Path | None:
        """The export file, when WAREHOUSE_PATH is set."""
        return Path(self.path) if self.path else None

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable: a catalog folder that does
        not exist, a data folder inside the archive, a memory limit DuckDB cannot use."""
        check_lake(self.lake, archive_dir=os.environ.get("ARCHIVE_DIR", "data/archive"))
        check_export_path(self.path)
        check_memory_limit(self.memory_limit, "WAREHOUSE_MEMORY_LIMIT")
        check_memory_limit(self.marts_memory_limit, "WAREHOUSE_MARTS_MEMORY_LIMIT")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Check the settings; a run opens the warehouse once, at its first use, for all its
        steps (closed when the run ends).

        Opening and attaching in each of a run's ~50 steps would cost ~0.3 s apiece
        (extensions, catalog). Steps run one after another in one process
        (in_process_executor); each holds the writer lock only while it writes.
        """
        self.check()
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close the run's connection."""
        if self._run is not None:
            self._run.close()
            self._run = None
        self._in_run = False

    @contextmanager
    def connect(self, *, marts: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the warehouse for a block that holds the writer lock
        (``marts``: the larger memory limit).

        Within a run every block shares the run's connection, and the lock is held block by
        block: a pipeline step, a maintenance operation. Another run (maintenance beside the
        pipeline) writes between them; the published snapshot is taken in a block of its
        own, so it holds the other run's operations whole or not at all. Outside a Dagster
        run (scripts, tests) each block opens and closes its own connection.
        """
        limit = self.marts_memory_limit if marts else self.memory_limit
        if not self._in_run:
            with connect_working(self.lake, memory_limit=limit, threads=self.threads) as con:
                yield con
            return
        if self._run is None:
            self._run = open_working(self.lake, threads=self.threads)
        with self._run.hold() as con:
            set_memory_limit(con, limit)
            yield con

    def publish(self, published_by: str = "pipeline") -> Published:
        """Record the snapshot this run ends on as the one readers open (and export it)."""
        with self.connect() as con:
            return publish(con, self.lake, published_by=published_by, export=self.export_path)
