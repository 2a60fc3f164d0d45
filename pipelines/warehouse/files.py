"""How the pipeline writes the warehouse and publishes it; the optional export file.

The warehouse is a DuckLake (:mod:`pipelines.warehouse.lake`). A run opens it read-write
through :func:`open_working` once, writes in blocks that each hold the writer lock
(:meth:`Working.hold`: a pipeline step, a maintenance operation), and at its end
:func:`publish` records the snapshot the commits end on as the one readers open. Nothing is
copied: readers attach the catalog at that snapshot.

Clients that cannot load the DuckLake extension (DuckDB older than 1.5.5, BI tools) read an
export instead: when ``WAREHOUSE_PATH`` is set, each publish also writes the published
snapshot to that single DuckDB file, in DuckDB 1.4's storage format so every client since
1.4 opens it, by writing a temporary file beside it and renaming it over the path (a reader
opening the path gets the old export or the new one, never a half-written file).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.warehouse.lake import (
    Lake,
    WriterLock,
    lock_timeout,
    open_lake,
    open_published,
    record_published,
    sql_literal,
)
from platform_core.config import SettingError

#: The maintenance job's reports: ``ops`` tables read as ``marts`` views of the same name.
MAINTENANCE_REPORTS = (
    "maintenance_runs",
    "archive_months",
    "counter_drift",
    "orphans",
    "table_health",
    "expired_hirings",
)

#: The storage format of the export file: DuckDB 1.4 and every newer client read it.
STORAGE_VERSION = "v1.4.0"


#: Freed DuckDB blocks kept for reuse (see open_working).
BLOCK_ALLOCATOR_MEMORY = "256MB"


@dataclass
class Working:
    """A run's read-write connection to the warehouse, and the writer lock its blocks hold.

    The connection stays open for the run (opening and attaching costs ~0.3 s); the lock is
    held only while a block writes (:meth:`hold`), so another run's blocks (maintenance
    while the pipeline runs) go in between instead of waiting for the whole run.
    """

    con: duckdb.DuckDBPyConnection
    lock: WriterLock
    _depth: int = 0

    @contextmanager
    def hold(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Hold the writer lock for a block (re-entrant), waiting up to
        ``WAREHOUSE_LOCK_TIMEOUT_S`` while another run's block writes.

        Every commit a block makes then starts and ends while no other writer commits: a
        transaction on a SQLite catalog fails at its commit when another process committed
        since it began (measured: 27 of 60 two-writer transactions on disjoint tables), and
        on either catalog two transactions that change one table conflict. A block that
        fails rolls back its open transaction before letting the next writer in.
        """
        if self._depth == 0:
            self.lock.acquire(lock_timeout())
        self._depth += 1
        try:
            yield self.con
        except BaseException:
            if self._depth == 1:
                with suppress(duckdb.Error):  # raised when no transaction was open
                    self.con.rollback()
            raise
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.lock.release()

    def close(self) -> None:
        """Close the connection (and let the next writer in, if a block still held it)."""
        try:
            self.con.close()
        finally:
            self._depth = 0
            self.lock.release()


@contextmanager
def connect_working(
    lake: Lake | str | Path, *, memory_limit: str = "128MB", threads: int = 2
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The warehouse read-write for a block that holds the writer lock, with bounded memory
    and the layer schemas.

    The memory limit makes DuckDB spill instead of growing with the table, which keeps the
    ingest's peak RSS flat from a 1M- to a 5M-row table.
    """
    working = open_working(lake, threads=threads)
    try:
        set_memory_limit(working.con, memory_limit)
        with working.hold() as con:
            yield con
    finally:
        working.close()


def open_working(lake: Lake | str | Path, *, threads: int = 2) -> Working:
    """The warehouse read-write (the caller closes it; :func:`connect_working` for a block,
    the ``Warehouse`` resource for a whole run), its writes in :meth:`Working.hold` blocks.

    Opening holds the writer lock too (it may create the schemas and set the lake's
    options), waiting while another run's block writes, up to ``WAREHOUSE_LOCK_TIMEOUT_S``.
    """
    lake = Lake.of(lake)
    lock = WriterLock(lake)
    lock.acquire(lock_timeout())
    try:
        con = open_lake(lake, threads=threads)
    finally:
        lock.release()
    try:
        con.execute("SET preserve_insertion_order = false")
        # Keep up to 256 MB of freed blocks for reuse instead of returning them to the OS:
        # bulk loads otherwise fault fresh pages in for every block (half the page faults
        # and ~4% of a 5M-row load's time in bench/ingest.py), for ~40 MB more peak RSS.
        con.execute(f"SET block_allocator_memory = '{BLOCK_ALLOCATOR_MEMORY}'")
    except BaseException:
        Working(con, lock).close()
        raise
    return Working(con, lock)


def set_memory_limit(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """DuckDB's memory limit for what follows (it spills, or evicts cached blocks, beyond)."""
    con.execute(f"SET memory_limit = '{_checked_size(memory_limit)}'")


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]I?B)\s*$", re.IGNORECASE)
_UNIT_BYTES = {
    **{f"{u}B": 1000 ** (i + 1) for i, u in enumerate("KMGT")},
    **{f"{u}IB": 1024 ** (i + 1) for i, u in enumerate("KMGT")},
}
#: Below this, DuckDB cannot hold the pipeline's working set even when spilling.
MIN_MEMORY_LIMIT_BYTES = 64 * 1000**2


def _checked_size(value: str, variable: str = "memory_limit") -> str:
    """A plain size like 512MB or 2GB (settings cannot be bound as parameters, so nothing
    else may reach the SET statement), or a SettingError naming ``variable``."""
    match = _SIZE.match(value)
    if not match:
        raise SettingError(variable, f"{value!r} is not a size.", "give a size like 512MB or 2GB.")
    number, unit = float(match.group(1)), match.group(2).upper()
    if number * _UNIT_BYTES[unit] < MIN_MEMORY_LIMIT_BYTES:
        raise SettingError(
            variable,
            f"{value!r} is too small for the pipeline (DuckDB needs at least 64MB here).",
            "give a size like 512MB or 2GB.",
        )
    return f"{match.group(1)}{unit}"


def check_memory_limit(value: str, variable: str) -> str:
    """``value`` as a DuckDB memory limit, or a SettingError naming ``variable``."""
    return _checked_size(value, variable)


def check_export_path(value: str) -> Path | None:
    """``WAREHOUSE_PATH`` (the optional export file) as a path a publish can write, or a
    SettingError; None when it is not set."""
    if not value:
        return None
    path = Path(value)
    variable = "WAREHOUSE_PATH"
    if path.is_dir():
        raise SettingError(
            variable,
            f"{path} is a folder; the export is a file.",
            "point it at a file, e.g. data/warehouse.duckdb, or unset it.",
        )
    if not path.parent.is_dir():
        raise SettingError(
            variable,
            f"the folder {path.parent} does not exist (nothing was created).",
            f"check the path for a typo, or create the folder (mkdir -p {path.parent}).",
        )
    if path.is_file() and path.stat().st_size and not _is_duckdb_file(path):
        raise SettingError(
            variable,
            f"{path} exists and is not a DuckDB database.",
            "point it at another file name, or move that file away.",
        )
    if not os.access(path.parent, os.W_OK):
        raise SettingError(
            variable,
            f"the folder {path.parent} is not writable by this user.",
            "fix its permissions or choose another folder.",
        )
    return path


#: Bytes 8 to 12 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"


def _is_duckdb_file(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(12)[8:12] == DUCKDB_MAGIC


@dataclass(frozen=True)
class Published:
    """What a publish recorded (and exported)."""

    snapshot: int
    seconds: float
    export: Path | None = None
    export_bytes: int = 0


def publish(
    con: duckdb.DuckDBPyConnection,
    lake: Lake | str | Path,
    *,
    published_by: str = "pipeline",
    export: Path | None = None,
) -> Published:
    """Record the snapshot the run ends on as published; with ``export``, also write that
    snapshot to the single DuckDB file at ``export`` (atomically, by rename)."""
    started = time.perf_counter()
    snapshot = record_published(con, published_by)
    size = 0
    if export is not None:
        size = export_snapshot(Lake.of(lake), snapshot, export)
    return Published(snapshot, time.perf_counter() - started, export, size)


def export_snapshot(lake: Lake, snapshot: int, path: Path) -> int:
    """Write ``snapshot`` of the lake to the DuckDB file ``path``; its size in bytes."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    reader = open_published(lake, snapshot)
    try:
        reader.execute(
            f"ATTACH {sql_literal(str(tmp))} AS export (STORAGE_VERSION '{STORAGE_VERSION}')"
        )
        reader.execute("COPY FROM DATABASE warehouse TO export")
        reader.execute("DETACH export")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        reader.close()
    with open(tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
    return path.stat().st_size
