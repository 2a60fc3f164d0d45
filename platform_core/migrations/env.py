"""Alembic environment: runs the platform migrations against the configured database.

The URL comes from the Alembic config (set by :mod:`platform_core.migrate`) or, when the
``alembic`` command is used directly, from ``PLATFORM_DATABASE_URL``.
"""

from __future__ import annotations

from alembic import context

from platform_core.db import is_sqlite, make_engine
from platform_core.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on a live connection (or the one handed over in ``attributes``)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER constraints in place: batch mode recreates the table.
        render_as_batch=is_sqlite(connection.engine),  # type: ignore[attr-defined]
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
run_migrations_online()
