"""The warehouse is a DuckLake: a catalog database plus Parquet files, every commit a snapshot.

Where it lives (``WAREHOUSE_CATALOG``, ``WAREHOUSE_DATA_PATH``):

- the catalog is a SQLite file on one machine (default ``data/warehouse.sqlite``) or a
  PostgreSQL database across machines (a ``postgresql://`` URL);
- the data files go to ``WAREHOUSE_DATA_PATH``, by default a folder named after the SQLite
  catalog beside it (``data/warehouse/``), or ``data/warehouse/`` with a PostgreSQL catalog.

Readers and writers:

- A pipeline or maintenance run writes through :func:`open_lake` with the catalog attached as
  ``warehouse``; each statement or transaction it commits is a DuckLake snapshot (a SQL
  model commits as one: ``pipelines.sql_files.one_transaction``). Runs go side by side, and
  their blocks of writes (a pipeline step, a maintenance operation) take turns through the
  :class:`WriterLock`: with a SQLite catalog a transaction that overlaps another process's
  commit fails at its own ("database is locked", not retried by DuckLake: 27 of 60
  two-writer transactions on disjoint tables), and on either catalog two transactions that
  change the same table conflict. Taking turns, no commit of ours can conflict with
  another's; the pipeline and maintenance write disjoint tables, so a publish sees the other
  run's operations whole.
- At its end a run records the snapshot it ends on in ``ops.published_snapshots``
  (:func:`record_published`). Readers (dashboards, ``agenthub sql``, the export, tests)
  attach the catalog read-only *at that snapshot* (:func:`open_published`): they never see
  half a run, never wait for a writer, and never block one. Any earlier published snapshot
  stays readable until maintenance expires it (time travel).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import duckdb

from pipelines.warehouse import extensions
from platform_core.config import SettingError

#: The name the catalog is attached under; every SQL file writes ``raw.x``, ``marts.y``
#: against it (``USE warehouse``).
ALIAS = "warehouse"
DEFAULT_CATALOG = "data/warehouse.sqlite"
SCHEMAS = ("raw", "staging", "intermediate", "marts", "ops")
#: DuckLake retries a commit the catalog refused for a moment (SQLite: "database is locked"
#: while another process commits) every 100 ms for up to a minute (its default backoff of
#: 1.5x would wait hours by the 30th try). A conflict between two transactions that changed
#: the same table is not retried: it fails the later commit (measured on both catalogs).
COMMIT_RETRIES = 600
COMMIT_RETRY_WAIT_MS = 100


def is_postgres_url(value: str) -> bool:
    """Whether ``value`` names a PostgreSQL catalog rather than a SQLite file."""
    return value.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


@dataclass(frozen=True)
class Lake:
    """Where the warehouse lives: its catalog and its data folder."""

    catalog: str = DEFAULT_CATALOG
    data_path: str = ""

    @classmethod
    def of(cls, value: str | Path | Lake, data_path: str = "") -> Lake:
        """A Lake from a catalog path or URL (tests and scripts pass a path)."""
        if isinstance(value, Lake):
            return value
        return cls(str(value), data_path)

    @classmethod
    def from_env(cls) -> Lake:
        """The lake ``WAREHOUSE_CATALOG`` and ``WAREHOUSE_DATA_PATH`` name (defaults: under
        ``data/``), as the Dagster resource reads them."""
        return cls(
            os.environ.get("WAREHOUSE_CATALOG") or DEFAULT_CATALOG,
            os.environ.get("WAREHOUSE_DATA_PATH", ""),
        )

    @property
    def postgres(self) -> bool:
        """Whether the catalog is a PostgreSQL database."""
        return is_postgres_url(self.catalog)

    @property
    def data_folder(self) -> Path:
        """``WAREHOUSE_DATA_PATH``, or the default beside the SQLite catalog."""
        if self.data_path:
            return Path(self.data_path)
        if self.postgres:
            return Path("data/warehouse")
        catalog = Path(self.catalog)
        return catalog.with_name(catalog.stem)

    @property
    def name(self) -> str:
        """A short description for logs and messages (never a password)."""
        if self.postgres:
            parts = urlsplit(self.catalog)
            return f"postgresql://{parts.hostname or ''}:{parts.port or 5432}{parts.path}"
        return self.catalog

    def ducklake_uri(self) -> str:
        """The ``ducklake:`` URI DuckDB attaches."""
        if self.postgres:
            url = self.catalog.replace("postgresql+psycopg://", "postgresql://", 1)
            return f"ducklake:postgres:{url}"
        return f"ducklake:sqlite:{Path(self.catalog).resolve()}"

    def exists(self) -> bool:
        """Whether a catalog is there to read (a SQLite file; a PostgreSQL catalog is assumed)."""
        return self.postgres or Path(self.catalog).is_file()


def sql_literal(value: str) -> str:
    """``value`` as a SQL string literal: ATTACH and SET take no bound parameters."""
    return "'" + value.replace("'", "''") + "'"


def attach_statement(
    lake: Lake, *, alias: str = ALIAS, read_only: bool = False, snapshot: int | None = None
) -> str:
    """The ATTACH statement for ``lake`` as ``alias`` (``snapshot``: pinned at that version);
    the snapshot is an int, the paths are quoted literals."""
    options = [f"DATA_PATH {sql_literal(str(lake.data_folder.resolve()) + os.sep)}"]
    if read_only:
        options.append("READ_ONLY")
    if snapshot is not None:
        options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
    return f"ATTACH {sql_literal(lake.ducklake_uri())} AS {alias} ({', '.join(options)})"


def attach(
    con: duckdb.DuckDBPyConnection,
    lake: Lake,
    *,
    alias: str = ALIAS,
    read_only: bool = False,
    snapshot: int | None = None,
) -> None:
    """Attach ``lake`` to ``con`` as ``alias`` (``snapshot``: pinned at that version)."""
    con.execute(attach_statement(lake, alias=alias, read_only=read_only, snapshot=snapshot))


def use_wal(catalog: Path) -> None:
    """Put the SQLite catalog in WAL mode (once; the mode is kept in the file).

    In SQLite's default rollback-journal mode a reader's open transaction blocks every
    commit: four dashboard processes reading in a loop starved a pipeline run's commits for
    minutes (tests/dashboards/test_concurrency.py). In WAL mode readers never block the
    writer and the writer never blocks readers.
    """
    import sqlite3

    with contextlib.closing(sqlite3.connect(catalog, timeout=60)) as db:
        if db.execute("pragma journal_mode").fetchone()[0] != "wal":
            db.execute("pragma journal_mode = wal")


def open_lake(
    lake: Lake, *, read_only: bool = False, snapshot: int | None = None, threads: int = 2
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with ``lake`` attached as ``warehouse`` and in use (temporary
    tables stay in memory; every layer's table is in the lake)."""
    if not read_only:
        lake.data_folder.mkdir(parents=True, exist_ok=True)
        if not lake.postgres:
            Path(lake.catalog).parent.mkdir(parents=True, exist_ok=True)
            use_wal(Path(lake.catalog))
    con = extensions.connect(catalog="postgres" if lake.postgres else "sqlite")
    try:
        con.execute(f"SET threads = {int(threads)}")
        # Never a nested loop for an ASOF join: DuckDB 1.5.5 picks one when it estimates the
        # left side at <= 64 rows, and its estimates for tables a run builds are often far
        # off: trust's late-event join ran as a loop over 17,259 x 324,820 rows (9.5 s of a
        # 300k-execution hourly run; the ASOF operator takes 0.1 s).
        con.execute("SET asof_loop_join_threshold = 0")
        con.execute(f"SET ducklake_max_retry_count = {COMMIT_RETRIES}")
        con.execute(f"SET ducklake_retry_wait_ms = {COMMIT_RETRY_WAIT_MS}")
        con.execute("SET ducklake_retry_backoff = 1.0")
        attach(con, lake, read_only=read_only, snapshot=snapshot)
        con.execute(f"USE {ALIAS}")
        if not read_only:
            _set_options(con)
            have = {
                name
                for (name,) in con.execute(
                    "select schema_name from duckdb_schemas() where database_name = ?", [ALIAS]
                ).fetchall()
            }
            for schema in SCHEMAS:
                if schema not in have:  # CREATE SCHEMA IF NOT EXISTS would commit each time
                    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    except BaseException:
        con.close()
        raise
    return con


#: DuckLake options every warehouse gets. ZSTD: the JSON documents are long and unique per
#: row, and DuckDB's default Snappy stores them larger for no gain in speed. No data
#: inlining: it reserves the column name ``row_id``, which ``marts.counter_drift`` has
#: (a contract), and small commits' files are merged by the maintenance upkeep anyway.
LAKE_OPTIONS = {"parquet_compression": "zstd", "data_inlining_row_limit": "0"}


def _set_options(con: duckdb.DuckDBPyConnection) -> None:
    """Set :data:`LAKE_OPTIONS` where the catalog does not have them yet (once per lake)."""
    have = dict(con.execute(f"select option_name, value from {ALIAS}.options()").fetchall())
    for option, value in LAKE_OPTIONS.items():
        if have.get(option) != value:
            con.execute(f"CALL {ALIAS}.set_option(?, ?)", [option, value])


# --- Published snapshots ------------------------------------------------------------------

PUBLISHED_DDL = """
create table if not exists ops.published_snapshots (
    snapshot_id bigint not null,
    published_at timestamp not null,
    published_by varchar not null
)
"""


def current_snapshot(con: duckdb.DuckDBPyConnection) -> int:
    """The newest committed snapshot of the attached warehouse."""
    return int(con.execute(f"select id from {ALIAS}.current_snapshot()").fetchall()[0][0])


def record_published(con: duckdb.DuckDBPyConnection, published_by: str) -> int:
    """Record the snapshot the run ends on as the one readers open, and return it.

    The record is the run's last commit and names the snapshot that commit makes (DuckLake
    numbers snapshots one by one, and the writer lock keeps other writers out), so readers
    of a published snapshot find its own row in ``ops.published_snapshots``.
    """
    con.execute(PUBLISHED_DDL)
    snapshot = current_snapshot(con) + 1
    now = datetime.now(UTC).replace(tzinfo=None)  # naive UTC, like every warehouse timestamp
    con.execute(
        "insert into ops.published_snapshots values (?, ?, ?)", [snapshot, now, published_by]
    )
    made = current_snapshot(con)
    if made != snapshot:
        raise RuntimeError(
            f"the publish committed snapshot {made}, not {snapshot}: another process wrote "
            "the warehouse while this run held its writer lock"
        )
    return snapshot


def published_snapshot(con: duckdb.DuckDBPyConnection, alias: str = ALIAS) -> int | None:
    """The newest published snapshot of the lake attached as ``alias`` (None: never)."""
    found = newest_published(con, alias)
    return None if found is None else found[0]


def newest_published(
    con: duckdb.DuckDBPyConnection, alias: str = ALIAS
) -> tuple[int, datetime] | None:
    """The newest published snapshot of the lake attached (unpinned) as ``alias``, and when
    it was published (naive UTC); None before the first publish. Each call is a new
    transaction, which reads the catalog as it is now: a long-lived reader sees each publish."""
    try:
        # Asked directly, not through duckdb_tables(), which would list the tables of every
        # database attached beside (the dashboards attach their pinned snapshots there).
        rows = con.execute(
            f"select snapshot_id, published_at from {alias}.ops.published_snapshots"
            " order by snapshot_id desc limit 1"
        ).fetchall()
    except duckdb.CatalogException:
        return None  # no run has published yet
    return (int(rows[0][0]), rows[0][1]) if rows else None


class NotPublished(RuntimeError):
    """The warehouse has no published snapshot yet."""

    @classmethod
    def at(cls, lake: Lake) -> NotPublished:
        """The error for ``lake``, with the command that publishes one."""
        return cls(
            f"the warehouse at {lake.name} has no published snapshot yet: "
            "run `agenthub pipeline run` (or `make demo`) first"
        )


def _read_published(con: duckdb.DuckDBPyConnection, lake: Lake) -> int | None:
    """Attach ``lake`` unpinned on ``con`` just long enough to read its published snapshot."""
    attach(con, lake, alias="latest", read_only=True)
    try:
        return published_snapshot(con, "latest")
    finally:
        con.execute("DETACH latest")


def latest_published(lake: Lake) -> int | None:
    """The lake's newest published snapshot, read from the catalog (None: nothing yet)."""
    if not lake.exists():
        return None
    con = extensions.connect(catalog="postgres" if lake.postgres else "sqlite")
    try:
        return _read_published(con, lake)
    finally:
        con.close()


def open_published(
    lake: Lake | str | Path, snapshot: int | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection on the published snapshot (or ``snapshot``, an earlier one).

    One connection reads which snapshot is published and then attaches at it (loading the
    extensions once: ~0.25 s of a reader's ~0.3 s). Raises :class:`NotPublished` when no run
    has published yet.
    """
    lake = Lake.of(lake)
    if snapshot is not None:
        return open_lake(lake, read_only=True, snapshot=snapshot)
    if not lake.exists():
        raise NotPublished.at(lake)
    con = extensions.connect(catalog="postgres" if lake.postgres else "sqlite")
    try:
        snapshot = _read_published(con, lake)
        if snapshot is None:
            raise NotPublished.at(lake)
        attach(con, lake, read_only=True, snapshot=snapshot)
        con.execute(f"USE {ALIAS}")
    except BaseException:
        con.close()
        raise
    return con


# --- One writer at a time ------------------------------------------------------------------


class WriterLock:
    """The warehouse's writer lock, held by a block of writes (``Working.hold``).

    SQLite catalog: an ``flock`` on ``<catalog>.lock`` (released by the kernel if the process
    dies). PostgreSQL catalog: a session advisory lock on the catalog database (released when
    the session ends), so runs on different machines exclude each other too.
    """

    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._fd: int | None = None
        self._pg: Any = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free."""
        if self.lake.postgres:
            import psycopg

            if self._pg is None:
                url = self.lake.catalog.replace("postgresql+psycopg://", "postgresql://", 1)
                self._pg = psycopg.connect(url, autocommit=True)
            key = zlib.crc32(str(self.lake.data_folder.resolve()).encode()) - 2**31
            return bool(self._pg.execute("select pg_try_advisory_lock(%s)", [key]).fetchone()[0])
        if self._fd is None:
            path = Path(f"{self.lake.catalog}.lock")
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def acquire(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the lock, saying once that another run holds it."""
        deadline = time.monotonic() + timeout_s
        delay, said = 0.2, False
        while not self.try_acquire():
            if time.monotonic() > deadline:
                self.release()
                raise TimeoutError(
                    f"the warehouse at {self.lake.name} was held by another pipeline or "
                    f"maintenance run for {timeout_s:.0f} s (WAREHOUSE_LOCK_TIMEOUT_S)"
                )
            if not said:
                logging.getLogger(__name__).warning(
                    "the warehouse at %s is held by another pipeline or maintenance run; "
                    "waiting up to %.0f s",
                    self.lake.name,
                    timeout_s,
                )
                said = True
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def release(self) -> None:
        """Let the next run in."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
        if self._pg is not None:
            self._pg.close()  # ending the session drops the advisory lock
            self._pg = None


def lock_timeout() -> float:
    """Seconds to wait for the writer lock (``WAREHOUSE_LOCK_TIMEOUT_S``, default 1800)."""
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


@contextmanager
def writer_lock(lake: Lake, timeout_s: float | None = None) -> Iterator[WriterLock]:
    """Hold the writer lock for a block."""
    lock = WriterLock(lake)
    lock.acquire(lock_timeout() if timeout_s is None else timeout_s)
    try:
        yield lock
    finally:
        lock.release()


def check_lake(lake: Lake, *, archive_dir: str) -> Lake:
    """``WAREHOUSE_CATALOG`` and ``WAREHOUSE_DATA_PATH`` as a lake a run can write, or a
    SettingError naming the variable.

    The data folder may not overlap the archive (``ARCHIVE_DIR``): deleting files no snapshot
    references must never be able to touch an archive file.
    """
    if lake.postgres:
        parts = urlsplit(lake.catalog)
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingError(
                "WAREHOUSE_CATALOG",
                f"{lake.name} names no host or database.",
                "give a URL like postgresql://user@host:5432/warehouse.",
            )
    else:
        catalog = Path(lake.catalog)
        if catalog.is_dir():
            raise SettingError(
                "WAREHOUSE_CATALOG",
                f"{catalog} is a folder; the catalog is a SQLite file.",
                "point it at a file, e.g. data/warehouse.sqlite.",
            )
        if lake.catalog != DEFAULT_CATALOG and not catalog.parent.is_dir():
            raise SettingError(
                "WAREHOUSE_CATALOG",
                f"the folder {catalog.parent} does not exist (nothing was created).",
                f"check the path for a typo, or create the folder (mkdir -p {catalog.parent}).",
            )
        if catalog.is_file() and catalog.stat().st_size:
            with open(catalog, "rb") as handle:
                if handle.read(16) != b"SQLite format 3\x00":
                    raise SettingError(
                        "WAREHOUSE_CATALOG",
                        f"{catalog} exists and is not a SQLite database.",
                        "point it at another file name, or move that file away.",
                    )
    data = lake.data_folder.resolve()
    archive = Path(archive_dir).resolve()
    if data == archive or data.is_relative_to(archive) or archive.is_relative_to(data):
        raise SettingError(
            "WAREHOUSE_DATA_PATH",
            f"{lake.data_folder} overlaps the archive at {archive_dir} (ARCHIVE_DIR).",
            "give the warehouse's data files a folder of their own, e.g. data/warehouse/.",
        )
    return lake
