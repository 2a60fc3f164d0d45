"""Dagster resources: the platform database the ingest reads and the warehouse it writes.

Both are configured from environment variables through ``EnvVar`` when they are set, and fall
back to the embedded defaults (the SQLite file ``agenthub db init`` makes, and
``data/warehouse.duckdb``) when they are not, so ``dagster dev`` works with no configuration.
Values that come from ``EnvVar`` are shown in the Dagster UI by variable name only, so a
password in ``PLATFORM_DATABASE_URL`` never appears there, in logs or in run metadata.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine

from pipelines.ingest.extract import SourceReader, open_reader
from pipelines.trust.model import TrustParameters
from pipelines.warehouse.files import (
    Published,
    check_memory_limit,
    check_warehouse_path,
    connect_working,
    open_working,
    publish,
    set_memory_limit,
)
from platform_core.config import SettingError, default_database_url
from platform_core.connect import check_platform_database
from platform_core.db import make_engine

DEFAULT_WAREHOUSE_PATH = "data/warehouse.duckdb"
#: DuckDB memory limits while ingesting and while building marts (Warehouse says why).
DEFAULT_MEMORY_LIMIT = "128MB"
DEFAULT_MARTS_MEMORY_LIMIT = "1GB"


def env_or_default(name: str, default: str) -> str:
    """``EnvVar(name)`` when the variable is set, else ``default``.

    Dagster's ``EnvVar`` has no default of its own (dagster-io/dagster#16232), and an unset
    one fails the run; this keeps the embedded setup working with nothing set.
    """
    return dg.EnvVar(name) if os.environ.get(name) else default


class PlatformDatabase(dg.ConfigurableResource):
    """The operational database the ingest reads (PostgreSQL or SQLite), read only."""

    url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the platform database (PLATFORM_DATABASE_URL).",
    )
    lookback_seconds: int = Field(
        default=300,
        description="Mutable tables are re-read this far before their watermark, so rows "
        "committed late with an earlier updated_at are not missed.",
    )

    @property
    def lookback(self) -> timedelta:
        """The re-read window for mutable tables."""
        return timedelta(seconds=self.lookback_seconds)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse a platform database that is not there before any step touches it: one
        message naming PLATFORM_DATABASE_URL and the next step (a misspelt SQLite path, a
        missing PostgreSQL database, a URL that does not parse, an unmigrated schema),
        instead of the same stack trace from every step, and never an empty file created."""
        check_platform_database(self.url)

    def engine(self) -> Engine:
        """A SQLAlchemy engine on the platform database (the caller disposes of it)."""
        return make_engine(self.url)

    @contextmanager
    def reader(self) -> Iterator[SourceReader]:
        """A streaming reader on the platform database, closed afterwards."""
        reader = open_reader(self.url)
        try:
            yield reader
        finally:
            reader.close()


def _number(value: str, variable: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingError(variable, f"{value!r} is not a number.", "give a number.") from None
    if not math.isfinite(number):
        raise SettingError(variable, f"{value!r} is not finite.", "give a finite number.")
    return number


class TrustModel(dg.ConfigurableResource):
    """Parameters of the trust model (pipelines/trust/model.py); they make up its version.

    Each is set from its environment variable when present (``TRUST_HALF_LIFE_DAYS``,
    ``TRUST_TIMEOUT_WEIGHT``, ``TRUST_REVIEW_WEIGHT``). The fields hold the numbers' text
    because Dagster's ``EnvVar`` has no float form (only ``EnvVar.int``, dagster#13681): a
    float field refuses an ``EnvVar``, and the UI should show the variable, not its value.
    Changing any of them starts a new model version: every agent is recomputed and its
    platform score and audit records rewritten by the next run.
    """

    half_life_days: str = Field(
        default="7", description="Evidence half-life in days, > 0 (TRUST_HALF_LIFE_DAYS)."
    )
    timeout_weight: str = Field(
        default="1.5", description="Weight of a timed-out execution, >= 0 (TRUST_TIMEOUT_WEIGHT)."
    )
    review_weight: str = Field(
        default="0.5", description="Weight of a review, >= 0 (TRUST_REVIEW_WEIGHT)."
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse a parameter that is not a number before any step runs."""
        _ = self.parameters

    @property
    def parameters(self) -> TrustParameters:
        """The model parameters; a clear error naming the variable for a bad value."""
        return TrustParameters(
            _number(self.half_life_days, "TRUST_HALF_LIFE_DAYS"),
            _number(self.timeout_weight, "TRUST_TIMEOUT_WEIGHT"),
            _number(self.review_weight, "TRUST_REVIEW_WEIGHT"),
        )


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse: the pipeline's working file and the published snapshot."""

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
