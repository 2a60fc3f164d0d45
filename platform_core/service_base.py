"""What every platform write shares: the engine, one transaction per operation, the clock, and
the lookup that turns a missing row into a clear error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from platform_core.db import for_writing, session_factory
from platform_core.errors import ConflictError, NotFoundError, ValidationError
from platform_core.models import utcnow


class ServiceBase:
    """The engine, the transaction and the clock a platform service writes with."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        # Service transactions read, then write (counters, statuses): on SQLite they take
        # the write lock at BEGIN, so nothing they read can change before they write.
        self._sessions = session_factory(for_writing(engine))
        self._clock = clock

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """One transaction; a unique-constraint race surfaces as a ConflictError."""
        try:
            with self._sessions.begin() as session:
                yield session
        except IntegrityError as exc:
            raise ConflictError(f"refused by a database constraint: {exc.orig}") from exc

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _get(session: Session, model: type, key: int, *, lock: bool = False) -> Any:
        if not isinstance(key, int) or isinstance(key, bool):
            raise ValidationError(f"{model.__tablename__} id must be an integer, got {key!r}")
        row = session.get(model, key, with_for_update=lock or None)
        if row is None:
            singular = model.__tablename__.rstrip("s").replace("_", " ")
            raise NotFoundError(f"{singular} {key} does not exist")
        return row
