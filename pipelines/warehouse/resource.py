"""The DuckDB warehouse as a Dagster resource: the pipeline's working file and the published
snapshot readers open (pipelines/warehouse/files.py says how they relate)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr

from pipelines.env import FromEnvironment
from pipelines.warehouse.files import (
    Published,
    check_memory_limit,
    check_warehouse_path,
    connect_working,
    open_working,
    publish,
    set_memory_limit,
)

DEFAULT_WAREHOUSE_PATH = "data/warehouse.duckdb"
#: DuckDB memory limits while ingesting and while building marts (Warehouse says why).
DEFAULT_MEMORY_LIMIT = "128MB"
DEFAULT_MARTS_MEMORY_LIMIT = "1GB"


class Warehouse(FromEnvironment, dg.ConfigurableResource):
    """The DuckDB warehouse: the pipeline's working file and the published snapshot."""

    ENVIRONMENT: ClassVar[dict[str, str]] = {
        "path": "WAREHOUSE_PATH",
        "memory_limit": "WAREHOUSE_MEMORY_LIMIT",
        "marts_memory_limit": "WAREHOUSE_MARTS_MEMORY_LIMIT",
    }

    path: str = Field(
        default=DEFAULT_WAREHOUSE_PATH,
        description="Published warehouse file readers open, read only (WAREHOUSE_PATH).",
    )
    memory_limit: str = Field(
        default=DEFAULT_MEMORY_LIMIT,
        description="DuckDB memory limit while ingesting (WAREHOUSE_MEMORY_LIMIT); it spills "
        "beyond it, so peak memory stays flat as tables grow (bench/ingest.py: same speed as "
        "512MB, flat RSS).",
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

    #: Within a Dagster run: the working file's one connection, shared by every step.
    _run_connection: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _in_run: bool = PrivateAttr(default=False)

    @property
    def published_path(self) -> Path:
        """Where readers open the warehouse."""
        return Path(self.path)

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable: a folder that does not
        exist, a file that is not DuckDB's, a memory limit DuckDB cannot use."""
        check_warehouse_path(self.path, default=DEFAULT_WAREHOUSE_PATH)
        check_memory_limit(self.memory_limit, "WAREHOUSE_MEMORY_LIMIT")
        check_memory_limit(self.marts_memory_limit, "WAREHOUSE_MARTS_MEMORY_LIMIT")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Check the settings; a run opens the working file once, at its first use, for all
        its steps.

        Opening and closing the file in each of a run's ~50 steps cost 0.1-0.2 s apiece at
        500k executions (catalog load, checkpoint at close; bench/pipeline.py). Steps run one
        after another in one process (in_process_executor, one run at a time), and DuckDB
        allows one writing process per file anyway.
        """
        self.check()
        self._in_run = True

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """Close the run's connection (DuckDB checkpoints the WAL into the file)."""
        if self._run_connection is not None:
            self._run_connection.close()
            self._run_connection = None
        self._in_run = False

    @contextmanager
    def connect(self, *, marts: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to the private working file (``marts``: the larger limit).

        Outside a Dagster run (scripts, tests) each block opens and closes the file.
        """
        limit = self.marts_memory_limit if marts else self.memory_limit
        if not self._in_run:
            with connect_working(
                self.published_path, memory_limit=limit, threads=self.threads
            ) as con:
                yield con
            return
        if self._run_connection is None:
            self._run_connection = open_working(self.published_path, threads=self.threads)
        con = self._run_connection
        set_memory_limit(con, limit)
        try:
            yield con
        except BaseException:
            # A step that failed inside a transaction must not leave it open for the next.
            with suppress(duckdb.Error):  # raised when no transaction was open
                con.rollback()
            raise

    def publish(self) -> Published:
        """Atomically publish the working file to ``path``."""
        return publish(self.published_path, self._run_connection)
