"""Engines and sessions for the platform database, the same for PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
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
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(resolved, **kwargs)


def session_factory(engine: Engine) -> sessionmaker:
    """A session factory whose sessions do not expire objects on commit (services return them)."""
    return sessionmaker(engine, expire_on_commit=False)
