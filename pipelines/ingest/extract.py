"""Readers that stream platform rows out as Arrow, in bounded batches.

PostgreSQL: ADBC's driver (libpq ``COPY ... TO STDOUT (FORMAT binary)`` decoded to Arrow in
C++), handed to DuckDB as one ``RecordBatchReader`` so DuckDB pulls batches while the driver
fetches the next ones. Measured against the other readers in ``bench/ingest.py``; ADBC is the
fastest of them into DuckDB here and keeps memory flat.

SQLite (the embedded default, small by nature): ADBC's SQLite driver infers a column's type
from its first values and fails on a later mismatch, which SQLite's loose typing allows, so
this reader uses ``sqlite3`` and builds each Arrow batch itself, falling back to text for a
column whose values do not fit its declared type. Every batch is cast again in DuckDB with
``TRY_CAST``, so a stray value becomes NULL instead of failing the run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import adbc_driver_postgresql.dbapi as adbc_pg
import pyarrow as pa
from psycopg import sql
from sqlalchemy.engine import make_url

from pipelines.ingest.tables import SourceTable
from platform_core.config import database_url

#: Rows per Arrow batch on SQLite; about 16 MB of executions.
SQLITE_BATCH_ROWS = 50_000
#: ADBC's batch size hint on PostgreSQL (bytes); 4 MB measured fastest into DuckDB.
PG_BATCH_BYTES = 4 * 1024 * 1024

_ARROW_TYPES = {
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "VARCHAR": pa.string(),
    "TIMESTAMP": pa.string(),  # SQLite keeps timestamps as text; DuckDB parses them
}


@dataclass(frozen=True)
class Watermark:
    """How far a table has been read: the last ``(updated_at, id)``, or ``id`` alone."""

    updated_at: datetime | None
    last_id: int


class SourceReader(Protocol):
    """What the ingest needs from the platform database."""

    def capture_bound(self, table: SourceTable) -> int | None:
        """Taken just before a read: a ``change_id`` at or below which every row that commits
        later will be (None when the table has no change capture). The next read asks for
        ``change_id >= bound``."""

    def batches(
        self,
        table: SourceTable,
        since: Watermark | None,
        lookback: timedelta,
        changed_from: int | None = None,
    ) -> Iterator[pa.RecordBatchReader | pa.Table]:
        """The rows changed since ``changed_from`` (change capture), else the rows after
        ``since`` (all rows when both are None), as Arrow, in bounded batches."""

    def count(self, table: SourceTable) -> int:
        """The source table's current row count."""

    def ids(self, table: SourceTable) -> pa.Table:
        """Every ``id`` (and ``updated_at`` for mutable tables) in the source table."""

    def fork(self) -> SourceReader:
        """Another reader on its own connection to the same database (for other threads)."""

    def close(self) -> None:
        """Release the connection."""


def _filter(
    table: SourceTable,
    since: Watermark | None,
    lookback: timedelta,
    mark: Callable[[int], str],
    changed_from: int | None = None,
) -> tuple[str, list[object]]:
    """The WHERE clause (with bound parameters) that selects rows newer than ``since``.

    Mutable tables are re-read from ``lookback`` before the watermark: a transaction that
    stamped ``updated_at`` earlier but committed later than the last read would otherwise be
    skipped for ever. Re-read rows merge by key, so reading them twice is harmless.
    """
    if changed_from is not None:
        return f" WHERE change_id >= {mark(1)}", [changed_from]
    if since is None:
        return "", []
    if table.mode == "append" or since.updated_at is None:
        return f" WHERE id > {mark(1)}", [since.last_id]
    if lookback > timedelta(0):
        return f" WHERE updated_at >= {mark(1)}", [since.updated_at - lookback]
    return (
        f" WHERE (updated_at > {mark(1)} OR (updated_at = {mark(2)} AND id > {mark(3)}))",
        [since.updated_at, since.updated_at, since.last_id],
    )


class PostgresReader:
    """ADBC (binary COPY, decoded in C++) reader for PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = adbc_pg.connect(libpq)

    def fork(self) -> PostgresReader:
        return PostgresReader(self.url)

    def _select(self, table: SourceTable) -> str:
        # json is read as its text, so malformed or odd documents arrive exactly as stored.
        cols = ", ".join(
            f'"{c}"::text AS "{c}"' if c in table.json_columns else f'"{c}"'
            for c in table.column_names
        )
        return f'SELECT {cols} FROM "{table.name}"'

    def capture_bound(self, table: SourceTable) -> int | None:
        # Every transaction still running now has an id at or above this snapshot's xmin, and
        # the data read that follows takes a later snapshot: whatever it cannot see yet has
        # change_id >= this bound (migration 0004 stamps rows with their transaction's id).
        if "change_id" not in table.column_names:
            return None
        with self.conn.cursor() as cur:
            cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            return int(cur.fetchone()[0])

    def batches(
        self,
        table: SourceTable,
        since: Watermark | None,
        lookback: timedelta,
        changed_from: int | None = None,
    ) -> Iterator[pa.RecordBatchReader]:
        where, params = _filter(table, since, lookback, lambda i: f"${i}", changed_from)
        # ADBC streams a query through binary COPY only when it has no bound parameters
        # (a prepared statement fetches rows the slow way: 5x slower here for 50,000 rows), and
        # COPY takes no parameters. So the watermark values, typed datetimes and ints from our
        # own ops table, are inlined as literals quoted by psycopg's own adapter.
        for i, value in enumerate(params, start=1):
            where = where.replace(f"${i}", sql.Literal(value).as_string(None))
        cur = self.conn.cursor()
        cur.adbc_statement.set_options(
            **{"adbc.postgresql.batch_size_hint_bytes": str(PG_BATCH_BYTES)}
        )
        try:
            cur.execute(self._select(table) + where)
            yield cur.fetch_record_batch()
        finally:
            cur.close()

    def count(self, table: SourceTable) -> int:
        with self.conn.cursor() as cur:
            cur.execute(f'SELECT count(*) FROM "{table.name}"')
            return int(cur.fetchone()[0])

    def ids(self, table: SourceTable) -> pa.Table:
        cols = "id, updated_at" if table.mode == "mutable" else "id"
        with self.conn.cursor() as cur:
            cur.execute(f'SELECT {cols} FROM "{table.name}"')
            return cur.fetch_arrow_table()

    def close(self) -> None:
        self.conn.close()


class SqliteReader:
    """``sqlite3`` reader building typed Arrow batches, tolerant of SQLite's loose typing."""

    def __init__(self, path: str) -> None:
        # ``mode=rw``, not ``ro``: a WAL database whose last writer has closed has no -shm
        # file, and a read-only open cannot create it; the ingest only ever reads through this
        # connection. Not the default ``rwc`` either: a misspelt path must fail, not create an
        # empty database.
        self.path = path
        uri = f"{Path(path).absolute().as_uri()}?mode=rw"
        self.conn = sqlite3.connect(uri, uri=True, timeout=30)
        self.conn.text_factory = _decode_tolerant

    def fork(self) -> SqliteReader:
        return SqliteReader(self.path)

    def capture_bound(self, table: SourceTable) -> int | None:
        # One writer at a time: the counter is raised inside the writing transaction, which
        # holds the lock until it commits, so every later commit gets a higher number.
        if "change_id" not in table.column_names:
            return None
        row = self.conn.execute("SELECT value FROM change_clock WHERE id = 1").fetchone()
        return int(row[0]) + 1

    def batches(
        self,
        table: SourceTable,
        since: Watermark | None,
        lookback: timedelta,
        changed_from: int | None = None,
    ) -> Iterator[pa.Table]:
        where, params = _filter(table, since, lookback, lambda _i: "?", changed_from)
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        cursor = self.conn.execute(
            f'SELECT {cols} FROM "{table.name}"{where}',
            [p.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(p, datetime) else p for p in params],
        )
        while rows := cursor.fetchmany(SQLITE_BATCH_ROWS):
            yield _arrow_batch(table, rows)

    def count(self, table: SourceTable) -> int:
        return int(self.conn.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])

    def ids(self, table: SourceTable) -> pa.Table:
        if table.mode == "mutable":
            rows = self.conn.execute(f'SELECT id, updated_at FROM "{table.name}"').fetchall()
            ids, stamps = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [])
            return pa.table(
                {"id": pa.array(ids, pa.int64()), "updated_at": pa.array(stamps, pa.string())}
            )
        ids = [r[0] for r in self.conn.execute(f'SELECT id FROM "{table.name}"')]
        return pa.table({"id": pa.array(ids, pa.int64())})

    def close(self) -> None:
        self.conn.close()


def _decode_tolerant(raw: bytes) -> str:
    """Decode SQLite text as UTF-8, replacing bytes that are not UTF-8 with U+FFFD.

    SQLite stores whatever bytes a client hands it (a C client can write invalid UTF-8), and
    ``sqlite3``'s default decoder raises on them, which would stop the ingest at that row on
    every run. Replaced, the bad bytes stay visible and the row lands in raw, where the
    ``invalid_utf8`` quarantine rule (sql/marts/quarantine.sql) keeps it out of the marts.
    Costs about 0.1 s per 50,000 executions over the default decoder.
    """
    return raw.decode("utf-8", "replace")


def _arrow_batch(table: SourceTable, rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True))
    arrays = {}
    for (name, kind), values in zip(table.columns, columns, strict=True):
        try:
            arrays[name] = pa.array(values, _ARROW_TYPES[kind])
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            # A value that does not fit the declared type: keep the batch, as text.
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    return pa.table(arrays)


def open_reader(url: str | None) -> SourceReader:
    """The reader for the platform database at ``url`` (resolved like the platform does)."""
    resolved = make_url(database_url(url))
    if resolved.get_backend_name() == "sqlite":
        if not resolved.database or resolved.database == ":memory:":
            raise ValueError("the ingest needs a SQLite file, not an in-memory database")
        return SqliteReader(resolved.database)
    if resolved.get_backend_name() == "postgresql":
        return PostgresReader(resolved.render_as_string(hide_password=False))
    raise ValueError(f"unsupported platform database: {resolved.get_backend_name()}")
