"""Shared fixtures: throwaway platform databases on real PostgreSQL and SQLite.

PostgreSQL is the server on 127.0.0.1:5432 (``TEST_POSTGRES_URL`` overrides it). Each test run
creates its own databases with a random prefix and drops them at the end; under pytest-xdist
each worker process has its own prefix, template and databases. When the server is
unreachable the PostgreSQL cases are skipped locally but fail under CI (``CI=true``), so a
green CI run always means PostgreSQL was exercised.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from filelock import FileLock
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from platform_core import migrate
from platform_core.db import make_engine

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUN_PREFIX = f"agenthub_test_{uuid.uuid4().hex[:8]}"
BACKENDS = ("sqlite", "postgres")


class PostgresServer:
    """Creates and drops throwaway databases for this test run."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._created: list[str] = []
        self._template: str | None = None

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(sql)

    def url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def create(self, *, migrated: bool) -> str:
        """A new database; migrated ones are cloned from a template migrated once per run."""
        name = f"{RUN_PREFIX}_{len(self._created)}"
        if migrated:
            template = self._migrated_template()
            self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            self._admin(f'CREATE DATABASE "{name}"')
        self._created.append(name)
        return self.url(name)

    def _migrated_template(self) -> str:
        if self._template is None:
            name = f"{RUN_PREFIX}_template"
            self._admin(f'CREATE DATABASE "{name}"')
            self._created.append(name)
            engine = make_engine(self.url(name))
            migrate.upgrade(engine)
            engine.dispose()  # a template must have no open connections
            self._template = name
        return self._template

    def drop_all(self) -> None:
        for name in reversed(self._created):
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server, or a skip (a failure under CI) when it is not running."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {make_url(ADMIN_URL)!r}: {exc}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(ADMIN_URL)
    yield server
    server.drop_all()


def _engine_for(backend: str, request: pytest.FixtureRequest, tmp_path, *, migrated: bool):
    if backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres")
        engine = make_engine(server.create(migrated=migrated))
    else:
        engine = make_engine(f"sqlite:///{tmp_path / 'platform.db'}")
        if migrated:
            migrate.upgrade(engine)
    return engine


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A fresh platform database at the newest schema, on SQLite and on PostgreSQL."""
    eng = _engine_for(request.param, request, tmp_path, migrated=True)
    yield eng
    eng.dispose()


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[Engine]:
    """A fresh, unmigrated database on SQLite and on PostgreSQL."""
    eng = _engine_for(request.param, request, tmp_path, migrated=False)
    yield eng
    eng.dispose()


@pytest.fixture
def pg_engine(postgres: PostgresServer) -> Iterator[Engine]:
    """A fresh migrated PostgreSQL database, for tests of PostgreSQL-only paths."""
    eng = make_engine(postgres.create(migrated=True))
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def published(tmp_path_factory: pytest.TempPathFactory, worker_id: str):
    """The published warehouse the dashboards and the SQL examples read (tests/dashboards/
    conftest.py ``build``), built once per test run: the first xdist worker to ask builds it
    under a lock in the folder all workers share, the others read what it wrote."""
    from tests.dashboards.conftest import Published, build

    if worker_id == "master":  # not under xdist (-n 0)
        yield build(tmp_path_factory.mktemp("dashboards"))
        return
    root = tmp_path_factory.getbasetemp().parent / "dashboards-published"
    with FileLock(f"{root}.lock"):
        done = root / "built.json"
        if not done.exists():
            root.mkdir(exist_ok=True)
            built = build(root)
            done.write_text(
                json.dumps({"warehouse": str(built.warehouse), "platform_url": built.platform_url})
            )
        recorded = json.loads(done.read_text())
    yield Published(Path(recorded["warehouse"]), recorded["platform_url"])
