"""Bulk write paths for the simulator: PostgreSQL COPY and batched SQLite transactions.

Both take Polars frames whose column names are table columns. The ORM is far too slow for
millions of rows (seed-000 executions through SQLAlchemy run at about 840 rows/s here), so
these talk to the driver directly: psycopg's ``COPY ... FROM STDIN`` fed with CSV that Polars
writes in native code, and ``sqlite3.executemany`` inside explicit transactions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import numpy as np
import polars as pl
import psycopg
from sqlalchemy import Engine

from platform_core.db import is_sqlite

# The text form SQLAlchemy's SQLite DateTime type reads and writes.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"
COPY_CHUNK = 1 << 20


class Increment(NamedTuple):
    """How much one parent row's counter grows, and the times to raise it to."""

    id: int
    n: int
    last: datetime
    stamp: datetime


@dataclass(frozen=True)
class Encoded:
    """Rows already in the driver's input form, made off the writing thread."""

    columns: tuple[str, ...]
    payload: Any
    height: int


class BulkWriter(Protocol):
    """What the simulator needs from a database connection."""

    def transaction(self) -> Any:
        """Context manager: one transaction, rolled back on error."""

    def encode(self, frame: pl.DataFrame) -> Encoded:
        """Turn a frame into input for :meth:`insert`; touches no connection (thread-safe)."""

    def insert(self, table: str, rows: pl.DataFrame | Encoded) -> None:
        """Append the rows to ``table``."""

    def insert_with_ids(self, table: str, frame: pl.DataFrame) -> np.ndarray:
        """Append rows and return their new ids, in frame order."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (``?`` placeholders)."""

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement (``?`` placeholders) for each parameter row."""

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """First column of the first row."""

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """All rows."""

    def bulk_load(self, table: str, new_rows: int) -> Any:
        """Context manager around a large load into ``table``; yields True when the whole
        load runs in one transaction (see PostgresWriter)."""

    def increment(
        self, table: str, column: str, rows: Sequence[Increment], last_column: str | None = None
    ) -> None:
        """Per row: ``column += n``, ``last_column`` and ``updated_at`` raised to the times."""

    def close(self) -> None:
        """Release the connection."""


class PostgresWriter:
    """COPY-based writer on its own psycopg connection."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql")
        # Autocommit outside explicit blocks, so each transaction() is a real BEGIN/COMMIT.
        self.conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.conn.transaction():
            yield

    def encode(self, frame: pl.DataFrame) -> Encoded:
        data = frame.write_csv(
            include_header=False, datetime_format="%Y-%m-%d %H:%M:%S%.6f", null_value=""
        ).encode()
        return Encoded(tuple(frame.columns), data, frame.height)

    def insert(self, table: str, rows: pl.DataFrame | Encoded) -> None:
        batch = rows if isinstance(rows, Encoded) else self.encode(rows)
        if not batch.height:
            return
        columns = ", ".join(batch.columns)
        with (
            self.conn.cursor() as cur,
            cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
        ):
            view = memoryview(batch.payload)
            for offset in range(0, len(view), COPY_CHUNK):
                copy.write(view[offset : offset + COPY_CHUNK])

    def insert_with_ids(self, table: str, frame: pl.DataFrame) -> np.ndarray:
        if frame.is_empty():
            return np.empty(0, dtype=np.int64)
        # Holding EXCLUSIVE (readers still read) means no one else draws from the id sequence
        # until commit, so the rows just copied are the newest ``n`` ids, in frame order.
        with self.conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        self.insert(table, frame)
        rows = self.fetch(f"SELECT id FROM {table} ORDER BY id DESC LIMIT %s", (frame.height,))
        return np.array([r[0] for r in reversed(rows)], dtype=np.int64)

    @contextmanager
    def bulk_load(self, table: str, new_rows: int) -> Iterator[bool]:
        """Load at least as many rows as the table holds without maintaining its indexes.

        Measured here for 1M executions: COPY into the bare table takes 4.3 s; with seed 000's
        eight indexes 21.5 s, with its three foreign keys 15 s; building the indexes afterwards
        3.7 s. So when the load is at least as large as the table, this drops the table's
        indexes and constraints (keeping their definitions from the catalog), lets the load
        run, and recreates them exactly, validating every foreign key, all in one transaction:
        a failure rolls the whole load back, and no one sees the table without its indexes
        (the ACCESS EXCLUSIVE lock that DROP INDEX takes holds other sessions off until commit).
        Smaller loads into big tables keep the indexes, where maintaining them is cheaper.
        """
        existing = self.scalar(
            "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE oid = ?::regclass",
            (table,),
        )
        if new_rows < max(int(existing or 0), 10_000):
            yield False
            return
        with self.conn.transaction():
            # Room to sort in memory, and for PostgreSQL's parallel index build workers.
            self.execute("SET LOCAL maintenance_work_mem = '512MB'")
            constraints = self.fetch(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint"
                " WHERE conrelid = ?::regclass AND contype IN ('p', 'u', 'f')"
                " ORDER BY contype DESC, conname",
                (table,),
            )
            indexes = self.fetch(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ?"
                " AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint"
                " c WHERE c.conindid = (quote_ident(i.schemaname) || '.' ||"
                " quote_ident(i.indexname))::regclass AND c.contype IN ('p', 'u'))",
                (table,),
            )
            for name, _definition, _kind in constraints:
                self.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                self.execute(f'DROP INDEX "{name}"')
            yield True
            # Keys first, then plain indexes, then foreign keys (validated against parents).
            for name, definition, kind in constraints:
                if kind != "f":
                    self.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for _name, definition in indexes:
                self.execute(definition)
            for name, definition, kind in constraints:
                if kind == "f":
                    self.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            self.execute(f"ANALYZE {table}")

    def increment(
        self, table: str, column: str, rows: Sequence[Increment], last_column: str | None = None
    ) -> None:
        # One set-based statement per batch instead of a round trip per parent row.
        if not rows:
            return
        last = f", {last_column} = GREATEST(t.{last_column}, d.last)" if last_column else ""
        self.execute(
            f"UPDATE {table} AS t SET {column} = t.{column} + d.n{last},"
            " updated_at = GREATEST(t.updated_at, d.stamp)"
            " FROM unnest(?::int[], ?::int[], ?::timestamp[], ?::timestamp[])"
            " AS d(id, n, last, stamp) WHERE t.id = d.id",
            [list(col) for col in zip(*rows, strict=True)],
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql.replace("?", "%s"), params)

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self.conn.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), rows)

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql.replace("?", "%s"), params).fetchone()
        return row[0] if row else None

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql.replace("?", "%s"), params).fetchall()

    def close(self) -> None:
        self.conn.close()


class SqliteWriter:
    """Batched-transaction writer on its own sqlite3 connection (autocommit off by hand)."""

    def __init__(self, engine: Engine) -> None:
        self.conn = sqlite3.connect(
            engine.url.database or ":memory:", isolation_level=None, timeout=60
        )
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA journal_mode=WAL")
        self._capture: dict[str, bool] = {}

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so max(id) read inside stays ours.
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def encode(self, frame: pl.DataFrame) -> Encoded:
        frame = frame.with_columns(pl.col(pl.Datetime).dt.strftime(SQLITE_DATETIME))
        return Encoded(tuple(frame.columns), frame.rows(), frame.height)

    def insert(self, table: str, rows: pl.DataFrame | Encoded) -> None:
        batch = rows if isinstance(rows, Encoded) else self.encode(rows)
        if not batch.height:
            return
        columns, payload = batch.columns, batch.payload
        if "change_id" not in columns and self._captured(table):
            # Change capture (migration 0004): reserve a block of the commit counter for the
            # batch, in this write transaction, instead of the per-row trigger (which would
            # run two more statements per row: the demo's simulation took twice as long).
            top = self.conn.execute(
                "UPDATE change_clock SET value = value + ? WHERE id = 1 RETURNING value",
                (batch.height,),
            ).fetchone()[0]
            first = top - batch.height + 1
            columns = (*columns, "change_id")
            payload = [(*row, first + i) for i, row in enumerate(payload)]
        placeholders = ", ".join("?" * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
        self.conn.executemany(sql, payload)

    def _captured(self, table: str) -> bool:
        """Whether ``table`` has the change_id column (platform migration 0004)."""
        if table not in self._capture:
            names = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
            self._capture[table] = "change_id" in names
        return self._capture[table]

    def insert_with_ids(self, table: str, frame: pl.DataFrame) -> np.ndarray:
        # Each new row gets an id above every id in the table, and the IMMEDIATE transaction
        # keeps other writers out, so the rows just inserted hold the newest ``n`` ids, in
        # frame order (with AUTOINCREMENT the range may start above max(id) + 1).
        self.insert(table, frame)
        rows = self.fetch(f"SELECT id FROM {table} ORDER BY id DESC LIMIT ?", (frame.height,))
        return np.array([r[0] for r in reversed(rows)], dtype=np.int64)

    @contextmanager
    def bulk_load(self, table: str, new_rows: int) -> Iterator[bool]:
        """No special path: SQLite loads in batched transactions with its indexes in place."""
        yield False

    def increment(
        self, table: str, column: str, rows: Sequence[Increment], last_column: str | None = None
    ) -> None:
        last = (
            f", {last_column} = CASE WHEN {last_column} IS NULL OR {last_column} < :last"
            f" THEN :last ELSE {last_column} END"
            if last_column
            else ""
        )
        sql = (
            f"UPDATE {table} SET {column} = {column} + :n{last},"
            " updated_at = CASE WHEN updated_at < :stamp THEN :stamp ELSE updated_at END"
            " WHERE id = :id"
        )
        self.conn.executemany(
            sql,
            [
                {
                    "id": r.id,
                    "n": r.n,
                    "last": _sqlite_value(r.last),
                    "stamp": _sqlite_value(r.stamp),
                }
                for r in rows
            ],
        )

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.conn.execute(sql, _sqlite_params(params))

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.executemany(sql, [_sqlite_params(r) for r in rows])

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.conn.execute(sql, _sqlite_params(params)).fetchone()
        return row[0] if row else None

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, _sqlite_params(params)).fetchall()

    def close(self) -> None:
        self.conn.close()


def _sqlite_value(value: Any) -> Any:
    # sqlite3's own datetime adapter is deprecated; store SQLAlchemy's text form instead.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value


def _sqlite_params(params: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_sqlite_value(p) for p in params)


def open_writer(engine: Engine) -> BulkWriter:
    """The bulk writer for the engine's database."""
    return SqliteWriter(engine) if is_sqlite(engine) else PostgresWriter(engine)
