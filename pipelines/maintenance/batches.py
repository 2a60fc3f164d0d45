"""The platform side of one archive batch: lock the next keyset slice, delete what is held and
get the deleted rows back, all in one platform transaction.

PostgreSQL goes through ADBC: ``SELECT ... FOR UPDATE`` and ``DELETE ... RETURNING`` stream
through binary COPY decoded to Arrow in C++, about 3x faster here than fetching the rows
through SQLAlchemy and building Arrow in Python (bench/maintenance.py). ADBC uses COPY only
for statements without bound parameters, so the values (integers and timestamps the pipeline
itself produced) are inlined as literals quoted by psycopg's adapter, as the ingest does.
SQLite (the embedded default, small by nature) uses SQLAlchemy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import adbc_driver_postgresql.dbapi as adbc_pg
import pyarrow as pa
from psycopg import sql
from sqlalchemy import JSON, Engine, Text, cast, delete, select
from sqlalchemy.engine import make_url

from pipelines.ingest.tables import SOURCE_TABLES
from platform_core.db import is_sqlite


class BatchSource(Protocol):
    """One platform transaction per batch: ``next_keys`` opens it, ``commit``/``rollback``
    end it."""

    def next_keys(self, after_id: int, limit: int) -> pa.Table:
        """The key columns of the next old rows after ``after_id`` (locked when writing)."""

    def delete_returning(self, ids: list[int]) -> pa.Table:
        """Delete these rows; every platform column of the rows deleted."""

    def commit(self) -> None:
        """Commit the batch's transaction."""

    def rollback(self) -> None:
        """Roll the batch's transaction back."""

    def close(self) -> None:
        """Release the connection."""


def _literal(value: object) -> str:
    return sql.Literal(value).as_string(None)


class PostgresBatches:
    """ADBC on PostgreSQL (see the module docstring)."""

    def __init__(self, url: str, spec: object, cutoff: datetime, *, lock: bool) -> None:
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = adbc_pg.connect(libpq)
        self.spec, self.lock = spec, lock
        self.where = spec.old_sql.replace("$cutoff", _literal(cutoff))
        table = SOURCE_TABLES[spec.table]
        self.columns = ", ".join(
            f'"{c}"::text AS "{c}"' if c in table.json_columns else f'"{c}"'
            for c in table.column_names
        )

    def _arrow(self, query: str) -> pa.Table:
        with self.conn.cursor() as cur:
            cur.execute(query)
            return cur.fetch_arrow_table()

    def next_keys(self, after_id: int, limit: int) -> pa.Table:
        keys = ", ".join(f'"{c}"' for c in self.spec.key_columns)
        query = (
            f'SELECT {keys} FROM "{self.spec.table}" WHERE {self.where}'
            f" AND id > {_literal(int(after_id))} ORDER BY id LIMIT {int(limit)}"
        )
        return self._arrow(query + (" FOR UPDATE" if self.lock else ""))

    def delete_returning(self, ids: list[int]) -> pa.Table:
        listed = _literal("{" + ",".join(str(int(i)) for i in ids) + "}")
        rows = self._arrow(
            f'DELETE FROM "{self.spec.table}" WHERE id = ANY({listed}::bigint[])'
            f" RETURNING {self.columns}"
        )
        return rows.select(self.spec.schema.names).cast(self.spec.schema)

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


class SqliteBatches:
    """SQLAlchemy on SQLite: the whole database is locked on the first write anyway."""

    def __init__(self, engine: Engine, spec: object, cutoff: datetime) -> None:
        self.spec, self.cutoff = spec, cutoff
        self.conn = engine.connect()
        self.tx = None

    def next_keys(self, after_id: int, limit: int) -> pa.Table:
        model = self.spec.model
        if self.tx is None:
            self.tx = self.conn.begin()
        rows = self.conn.execute(
            select(*(getattr(model, c) for c in self.spec.key_columns))
            .where(self.spec.old(self.cutoff), model.id > after_id)
            .order_by(model.id)
            .limit(limit)
        ).all()
        return _arrow(rows, self.spec.key_schema)

    def delete_returning(self, ids: list[int]) -> pa.Table:
        table = self.spec.model.__table__
        columns = [
            cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c
            for c in (table.c[n] for n in self.spec.schema.names)
        ]
        rows = self.conn.execute(delete(table).where(table.c.id.in_(ids)).returning(*columns))
        return _arrow(rows.all(), self.spec.schema).sort_by("id")

    def commit(self) -> None:
        if self.tx is not None:
            self.tx.commit()
            self.tx = None

    def rollback(self) -> None:
        if self.tx is not None:
            self.tx.rollback()
            self.tx = None

    def close(self) -> None:
        self.rollback()
        self.conn.close()


def _arrow(rows: list, schema: pa.Schema) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.table(
        [pa.array(list(values), type=f.type) for values, f in zip(columns, schema, strict=True)],
        schema=schema,
    )


def open_batches(engine: Engine, spec: object, cutoff: datetime, *, lock: bool) -> BatchSource:
    """The batch source for the engine's database."""
    if is_sqlite(engine):
        return SqliteBatches(engine, spec, cutoff)
    return PostgresBatches(
        engine.url.render_as_string(hide_password=False), spec, cutoff, lock=lock
    )
