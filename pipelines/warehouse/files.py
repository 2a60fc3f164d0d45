"""The working file the pipeline writes, and the atomic publish readers rely on.

DuckDB allows one writing process per file, and a reader opening a file that a writer holds
fails with "Could not set lock on file". So readers (dashboards, analysts) only ever open the
published file at ``WAREHOUSE_PATH``, read-only; the pipeline writes a private working file
beside it and, at the end of each successful run, publishes it: checkpoint and close the
working file, copy it to a temporary name in the same folder, fsync, and ``os.replace`` it over
the published path. A reader opening the path gets the old snapshot or the new one, never a
lock or a half-written file (rename within a folder is atomic on POSIX).

The working file, and so the published copy, is written in DuckDB 1.4's storage format
(``STORAGE_VERSION``): analysts open the warehouse with whatever DuckDB they have, and DuckDB
2.0's own format (version 69) opens in no 1.x client, the DuckDB CLI on PyPI included.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.sql_files import run_model
from platform_core.config import SettingError

SCHEMAS = ("raw", "staging", "intermediate", "marts", "ops")
#: The maintenance job's reports: ``ops`` tables read as ``marts`` views of the same name.
MAINTENANCE_REPORTS = (
    "maintenance_runs",
    "archive_months",
    "counter_drift",
    "orphans",
    "table_health",
    "expired_hirings",
)

#: The storage format of the warehouse files: DuckDB 1.4 and every newer client read it.
STORAGE_VERSION = "v1.4.0"


def working_path(published: Path) -> Path:
    """The pipeline's private file beside the published one: ``x.duckdb`` -> ``x.work.duckdb``."""
    return published.with_name(f"{published.stem}.work{published.suffix or '.duckdb'}")


#: Freed DuckDB blocks kept for reuse (see connect_working).
BLOCK_ALLOCATOR_MEMORY = "256MB"


@contextmanager
def connect_working(
    published: Path, *, memory_limit: str = "128MB", threads: int = 2
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the working file read-write, with bounded memory, and the layer schemas in place.

    The memory limit makes DuckDB spill instead of growing with the table, which keeps the
    ingest's peak RSS flat from a 1M- to a 5M-row table.
    """
    con = open_working(published, threads=threads)
    try:
        set_memory_limit(con, memory_limit)
        yield con
    finally:
        con.close()


def open_working(published: Path, *, threads: int = 2) -> duckdb.DuckDBPyConnection:
    """The working file's connection, converted and laid out as this version expects (the
    caller closes it; :func:`connect_working` for a block, the ``Warehouse`` resource for a
    whole Dagster run)."""
    path = working_path(published)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_waiting(path)
    if storage_version(con) != STORAGE_VERSION:
        # A working file an older pipeline wrote in DuckDB 2.0's format: converted once.
        con.close()
        convert_storage(path)
        con = _connect_waiting(path)
    try:
        con.execute(f"SET threads = {int(threads)}")
        con.execute("SET preserve_insertion_order = false")
        # Keep up to 256 MB of freed blocks for reuse instead of returning them to the OS:
        # bulk loads otherwise fault fresh pages in for every block (half the page faults
        # and ~4% of a 5M-row load's time in bench/ingest.py), for ~40 MB more peak RSS.
        con.execute(f"SET block_allocator_memory = '{BLOCK_ALLOCATOR_MEMORY}'")
        for schema in SCHEMAS:
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        move_reports_to_ops(con)
    except BaseException:
        con.close()
        raise
    return con


def move_reports_to_ops(con: duckdb.DuckDBPyConnection) -> None:
    """Move maintenance reports a warehouse keeps as ``marts`` tables into ``ops``.

    The maintenance job writes its reports to ``ops`` and the pipeline reads them as ``marts``
    views; a warehouse written before kept them as ``marts`` tables. Unlike the other marts
    they cannot be rebuilt from the platform (they are the history of the maintenance runs),
    so they are moved, not dropped: the ``ops`` table takes their rows and the view its
    place. Nothing to do (one catalog query) on any other warehouse.
    """
    tables = [
        name
        for (name,) in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database()"
            " and schema_name = 'marts' and table_name in (select unnest($names::varchar[]))",
            {"names": list(MAINTENANCE_REPORTS)},
        ).fetchall()
    ]
    for name in tables:
        con.execute("begin")
        run_model(con, f"ops/{name}.sql")  # its keys: the job's `insert or replace` needs them
        con.execute(f"insert or replace into ops.{name} by name select * from marts.{name}")
        con.execute(f"drop table marts.{name}")
        con.execute("commit")


def set_memory_limit(con: duckdb.DuckDBPyConnection, memory_limit: str) -> None:
    """DuckDB's memory limit for what follows (it spills, or evicts cached blocks, beyond)."""
    con.execute(f"SET memory_limit = '{_checked_size(memory_limit)}'")


def _lock_timeout() -> float:
    """Seconds to wait for the working file (``WAREHOUSE_LOCK_TIMEOUT_S``, default 1800)."""
    value = os.environ.get("WAREHOUSE_LOCK_TIMEOUT_S", "1800")
    variable = "WAREHOUSE_LOCK_TIMEOUT_S"
    try:
        seconds = float(value)
    except ValueError:
        raise SettingError(
            variable, f"{value!r} is not a number.", "give seconds, e.g. 1800."
        ) from None
    if not seconds >= 0:
        raise SettingError(variable, f"{value!r} is negative.", "give seconds, e.g. 1800.")
    return seconds


def _connect_waiting(path: Path, timeout_s: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the working file, waiting while another pipeline process holds its lock.

    The instance runs one job at a time (dagster_home/dagster.yaml); this covers a manual
    ``agenthub pipeline run`` or ``agenthub maintenance run`` overlapping another run: it
    waits instead of failing. A run holds the file for its whole length (a first run or a
    large purge can take minutes), hence the long default.
    """
    timeout_s = _lock_timeout() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    delay, said = 0.2, False
    while True:
        try:
            # The compatibility version decides the format of a file this creates; an
            # existing file keeps its own (see connect_working).
            return duckdb.connect(
                str(path), config={"storage_compatibility_version": STORAGE_VERSION}
            )
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            if not said:
                logging.getLogger(__name__).warning(
                    "%s is held by another pipeline or maintenance run; waiting up to %.0f s",
                    path,
                    timeout_s,
                )
                said = True
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def storage_version(con: duckdb.DuckDBPyConnection) -> str:
    """The storage format of the connection's file, e.g. ``v1.4.0`` or ``v2.0.0``."""
    tags = con.execute(
        "select tags from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]
    return str(tags.get("storage_version", "")).removesuffix("+")


def convert_storage(path: Path) -> None:
    """Rewrite the DuckDB file at ``path`` in ``STORAGE_VERSION`` (tables, views, comments).

    Written beside it and renamed over it, so a crash leaves the old file whole.
    """
    tmp = path.with_name(f".{path.name}.convert-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS old_format (READ_ONLY)", [str(path)])
        con.execute(f"ATTACH ? AS new_format (STORAGE_VERSION '{STORAGE_VERSION}')", [str(tmp)])
        con.execute("COPY FROM DATABASE old_format TO new_format")
        con.execute("DETACH new_format")
        con.execute("DETACH old_format")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, path)


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


#: Bytes 8 to 12 of every DuckDB database file.
DUCKDB_MAGIC = b"DUCK"


def _is_duckdb_file(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True  # an empty file becomes a new database
    with open(path, "rb") as handle:
        return handle.read(12)[8:12] == DUCKDB_MAGIC


def check_warehouse_path(value: str, *, default: str) -> Path:
    """``WAREHOUSE_PATH`` as a path the pipeline can publish to, or a SettingError.

    The default's folder is created (the embedded setup works with nothing set); a folder
    named by hand must exist, so a typo fails instead of growing a new tree somewhere.
    """
    path = Path(value)
    variable = "WAREHOUSE_PATH"
    if path.is_dir():
        raise SettingError(
            variable,
            f"{path} is a folder; the warehouse is a file.",
            "point it at a file, e.g. data/warehouse.duckdb.",
        )
    if value != default and not path.parent.is_dir():
        raise SettingError(
            variable,
            f"the folder {path.parent} does not exist (nothing was created).",
            f"check the path for a typo, or create the folder (mkdir -p {path.parent}).",
        )
    for candidate in (path, working_path(path)):
        if candidate.is_file() and not _is_duckdb_file(candidate):
            raise SettingError(
                variable,
                f"{candidate} exists and is not a DuckDB database.",
                "point it at another file name, or move that file away.",
            )
    folder = path.parent if path.parent.is_dir() else None
    if folder is not None and not os.access(folder, os.W_OK):
        raise SettingError(
            variable,
            f"the folder {folder} is not writable by this user.",
            "fix its permissions or choose another folder.",
        )
    return path


@dataclass(frozen=True)
class Published:
    """What a publish wrote."""

    path: Path
    bytes: int
    seconds: float


def publish(published: Path, con: duckdb.DuckDBPyConnection | None = None) -> Published:
    """Atomically replace ``published`` with a checkpointed copy of the working file.

    ``con``: the working file's connection when the caller holds it open (a Dagster run);
    after its checkpoint the file alone is complete, and nothing writes while it is copied.
    """
    started = time.perf_counter()
    source = working_path(published)
    if not source.exists():
        raise FileNotFoundError(f"no working warehouse at {source}: run the ingest first")
    own = con is None
    con = con or duckdb.connect(str(source))
    try:
        con.execute("CHECKPOINT")  # fold the WAL into the file, so the file alone is complete
        readable_by_every_client = storage_version(con) == STORAGE_VERSION
    finally:
        if own:
            con.close()
    if not readable_by_every_client:  # a working file made some other way than connect_working
        convert_storage(source)
    tmp = published.with_name(f".{published.name}.tmp-{os.getpid()}")
    try:
        shutil.copyfile(source, tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, published)
    finally:
        tmp.unlink(missing_ok=True)
    directory = os.open(published.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the rename itself durable
    finally:
        os.close(directory)
    return Published(published, published.stat().st_size, time.perf_counter() - started)
