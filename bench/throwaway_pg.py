"""Throwaway PostgreSQL databases for the benchmarks, on the local server.

``BENCH_POSTGRES_URL`` names the server's admin database (default
postgresql://postgres@127.0.0.1:5432/postgres); each benchmark run creates its own database
there and drops it afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid

import psycopg
from sqlalchemy.engine import make_url

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database() -> tuple[str, str]:
    """Create an empty database; its name and URL."""
    name = f"agenthub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def drop(name: str) -> None:
    """Drop the database, closing any session still on it."""
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
