"""Engines and sessions for the platform database, the same for PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from platform_core.config import database_url


def is_sqlite(engine_or_url: Engine | str) -> bool:
    """True when the engine (or URL) points at SQLite."""
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else make_url(engine_or_url)
    return url.get_backend_name() == "sqlite"


def redacted(url: str) -> str:
    """The URL with any password masked, for logs and error messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # SQLite ignores foreign keys unless asked, per connection; WAL lets readers (the ingest)
    # work while the platform writes, and the busy timeout turns lock contention into a wait.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    # SQLAlchemy emits BEGIN itself (_sqlite_begin), so a transaction can take the write
    # lock at its start: pysqlite's own BEGIN is always DEFERRED.
    dbapi_connection.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def for_writing(engine: Engine) -> Engine:
    """The engine whose transactions read and then write, safely on both databases.

    SQLite allows one writer; a DEFERRED transaction takes the write lock only at its first
    write, so what it read before may have changed by then (a counter repaired from a value
    a concurrent execution had already moved). Transactions of this engine begin IMMEDIATE:
    they hold the lock from their first read, and other writers wait for them. PostgreSQL
    gets its locks from the statements (``SELECT ... FOR UPDATE``); nothing changes there.
    """
    return engine.execution_options(sqlite_begin="IMMEDIATE") if is_sqlite(engine) else engine


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (resolved through :func:`database_url`).

    For a SQLite file the parent folder is created, so the embedded default works on a
    fresh checkout.
    """
    resolved = database_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose sessions do not expire objects on commit (services return them)."""
    return sessionmaker(engine, expire_on_commit=False)
