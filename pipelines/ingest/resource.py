"""The platform database the ingest reads, as a Dagster resource (read only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import ClassVar

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from pipelines.env import FromEnvironment
from pipelines.ingest.extract import SourceReader, open_reader
from platform_core.config import default_database_url
from platform_core.connect import check_platform_database
from platform_core.db import make_engine


class PlatformDatabase(FromEnvironment, dg.ConfigurableResource):
    """The operational database the ingest reads (PostgreSQL or SQLite), read only."""

    ENVIRONMENT: ClassVar[dict[str, str]] = {"url": "PLATFORM_DATABASE_URL"}

    url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the platform database (PLATFORM_DATABASE_URL).",
    )
    lookback_seconds: int = Field(
        default=300,
        description="Mutable tables are re-read this far before their watermark, so rows "
        "committed late with an earlier updated_at are not missed.",
    )

    @property
    def lookback(self) -> timedelta:
        """The re-read window for mutable tables."""
        return timedelta(seconds=self.lookback_seconds)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Refuse a platform database that is not there before any step touches it: one
        message naming PLATFORM_DATABASE_URL and the next step (a misspelt SQLite path, a
        missing PostgreSQL database, a URL that does not parse, an unmigrated schema),
        instead of the same stack trace from every step, and never an empty file created."""
        check_platform_database(self.url)

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        """A SQLAlchemy engine on the platform database, disposed of afterwards."""
        engine = make_engine(self.url)
        try:
            yield engine
        finally:
            engine.dispose()

    @contextmanager
    def reader(self) -> Iterator[SourceReader]:
        """A streaming reader on the platform database, closed afterwards."""
        reader = open_reader(self.url)
        try:
            yield reader
        finally:
            reader.close()
