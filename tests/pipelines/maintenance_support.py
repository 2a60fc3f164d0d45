"""What the maintenance tests share: a simulated platform on either backend, a plain ingest of
it, the ``agenthub`` command started on it as operators start it, and the platform and archive
read the way an operator or analyst reads them."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
from sqlalchemy import Engine, text

from pipelines.ingest.extract import open_reader
from pipelines.ingest.load import load_table
from pipelines.ingest.tables import INGESTED_TABLES, SOURCE_TABLES
from pipelines.warehouse.files import connect_working
from platform_core.db import make_engine


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


def executions_kept(url: str, archive: Path) -> tuple[int, int]:
    """(executions on the platform, executions archived): every execution there is."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            on_platform = conn.execute(text("SELECT count(*) FROM executions")).scalar_one()
    finally:
        engine.dispose()
    return on_platform, len(archive_rows(archive, "executions"))


REPO = Path(__file__).resolve().parents[2]
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))


@dataclass
class Started:
    """One ``agenthub`` process; its output goes to a file (a pipe could fill and stall it)."""

    process: subprocess.Popen
    log: Path

    @property
    def running(self) -> bool:
        """Whether it has not exited yet."""
        return self.process.poll() is None

    @property
    def output(self) -> str:
        """What it printed so far."""
        return self.log.read_text()

    def finish(self, timeout: float = 900) -> int:
        """Wait for it; its exit code."""
        return self.process.wait(timeout=timeout)


class Agenthub:
    """``agenthub`` on one test platform, as operators run it: the warehouse and archive under
    ``root``, retention short enough for a simulated week (executions 4 days, metric points 3),
    no DAGSTER_HOME (an ephemeral instance per command)."""

    def __init__(self, url: str, root: Path) -> None:
        self.root = root
        self.warehouse, self.archive = root / "warehouse.sqlite", root / "archive"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PLATFORM_DATABASE_URL": url,
            "WAREHOUSE_CATALOG": str(self.warehouse),
            "ARCHIVE_DIR": str(self.archive),
            "EXECUTION_RETENTION_DAYS": "4",
            "METRICS_RETENTION_DAYS": "3",
        }
        self.env.pop("DAGSTER_HOME", None)
        self._started = 0

    def start(self, *args: str) -> Started:
        """Start ``agenthub *args`` without waiting."""
        self._started += 1
        log = self.root / f"agenthub-{self._started}-{'-'.join(args)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [AGENTHUB, *args], env=self.env, cwd=self.root, stdout=out, stderr=out
            )
        return Started(process, log)

    def run(self, *args: str) -> str:
        """Run ``agenthub *args`` to its end, which must be a success; its output."""
        started = self.start(*args)
        assert started.finish() == 0, started.output
        return started.output
