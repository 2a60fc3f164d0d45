"""The simulated platforms the tests run on: a migrated platform database, SQLite or a fresh
PostgreSQL database, holding a :class:`SimulationConfig`'s history. Each test module picks the
size of its world (a config); how a world is made is written once, here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from platform_core import migrate
from platform_core.db import make_engine
from platform_core.simulate import SimulationConfig, simulate


def simulated_engine(
    backend: str,
    request: pytest.FixtureRequest | None,
    folder: Path,
    config: SimulationConfig,
) -> Engine:
    """A platform at the newest schema on ``backend`` ("sqlite": ``folder/platform.db``;
    "postgres": a database of the test run's server, through ``request``'s ``postgres``
    fixture) with ``config``'s history. The caller disposes of the engine."""
    if backend == "postgres":
        assert request is not None, "a PostgreSQL platform needs the test's request"
        engine = make_engine(request.getfixturevalue("postgres").create(migrated=True))
    elif backend == "sqlite":
        engine = make_engine(f"sqlite:///{folder / 'platform.db'}")
        migrate.upgrade(engine)
    else:
        raise ValueError(f"backend {backend!r}: 'sqlite' or 'postgres'")
    simulate(engine, config)
    return engine


def simulated_platform(
    request: pytest.FixtureRequest, tmp_path: Path, config: SimulationConfig
) -> Iterator[Engine]:
    """:func:`simulated_engine` on ``request.param``'s backend, disposed afterwards (for
    ``yield from`` in a fixture parametrized over the backends)."""
    engine = simulated_engine(request.param, request, tmp_path, config)
    yield engine
    engine.dispose()
