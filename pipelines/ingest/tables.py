"""Which platform tables the ingest mirrors, and how, derived from the platform's own models.

One rule for every table: tables with an ``updated_at`` column change in place and are read
by an ``(updated_at, id)`` watermark and merged by ``id``; the others are append-only and are
read by ``id``. Column types come from the SQLAlchemy models, so a migration that adds a
column reaches the raw layer without a second list to keep in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.types import TypeEngine

from platform_core.models import Base

#: The platform tables mirrored into ``raw``, parents first.
INGESTED_TABLES = (
    "users",
    "agents",
    "hirings",
    "executions",
    "agent_reviews",
    "agent_metrics",
    "trust_records",
)


@dataclass(frozen=True)
class SourceTable:
    """One platform table as the ingest sees it."""

    name: str
    mode: Literal["mutable", "append"]
    #: (column, DuckDB type), in the source's column order.
    columns: tuple[tuple[str, str], ...]
    #: JSON columns: read as their source text and kept as text, valid or not.
    json_columns: frozenset[str]

    @property
    def column_names(self) -> tuple[str, ...]:
        """The source columns, in order."""
        return tuple(name for name, _ in self.columns)


def duckdb_type(type_: TypeEngine) -> str:
    """The raw-layer DuckDB type of a model column type (JSON stays text: see module doc)."""
    if isinstance(type_, JSON):
        return "VARCHAR"
    if isinstance(type_, Boolean):
        return "BOOLEAN"
    if isinstance(type_, Integer):
        return "BIGINT"
    if isinstance(type_, Float):
        return "DOUBLE"
    if isinstance(type_, DateTime):
        return "TIMESTAMP"
    if isinstance(type_, String | Text):
        return "VARCHAR"
    raise TypeError(f"no raw-layer type for {type_!r}")


def source_table(name: str) -> SourceTable:
    """The ingest spec of one platform table, from the models' metadata."""
    table = Base.metadata.tables[name]
    columns = tuple((c.name, duckdb_type(c.type)) for c in table.columns)
    return SourceTable(
        name=name,
        mode="mutable" if "updated_at" in table.columns else "append",
        columns=columns,
        json_columns=frozenset(c.name for c in table.columns if isinstance(c.type, JSON)),
    )


SOURCE_TABLES: dict[str, SourceTable] = {name: source_table(name) for name in INGESTED_TABLES}
