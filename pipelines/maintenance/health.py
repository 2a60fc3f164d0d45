"""What the maintenance run looks at on the platform: orphaned rows, table health, VACUUM.

* :func:`find_orphans`: per foreign-key relation of the schema, the rows whose parent is
  missing (PostgreSQL enforces the keys, SQLite only when a connection asks; bulk loads and
  restores can bypass both).
* :func:`table_health`: per platform table, exact rows, total and index bytes, dead-tuple
  ratio, sequential vs index scans and never-used indexes (``pg_stat_user_tables`` /
  ``pg_stat_user_indexes``); on SQLite the pages each table and its indexes use (``dbstat``).
* :func:`vacuum_analyze`: ``VACUUM (ANALYZE)`` after a purge (PostgreSQL), so the space the
  deleted rows held is reusable and the planner's statistics see the smaller table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, exists, func, select, text

from platform_core.db import is_sqlite
from platform_core.models import Base

#: Schema tables the report covers (Alembic's own bookkeeping left out).
PLATFORM_TABLES = tuple(sorted(Base.metadata.tables))
SAMPLE = 20


@dataclass(frozen=True)
class Orphans:
    """Rows of ``child_table`` whose ``child_column`` names a missing ``parent_table`` row."""

    child_table: str
    child_column: str
    parent_table: str
    rows: int
    sample_ids: list[int] = field(default_factory=list)

    @property
    def relation(self) -> str:
        """e.g. ``executions.hiring_id -> hirings.id``."""
        return f"{self.child_table}.{self.child_column} -> {self.parent_table}.id"


def find_orphans(engine: Engine) -> list[Orphans]:
    """One row per foreign key of the schema, orphans counted (zero rows included)."""
    found: list[Orphans] = []
    with engine.connect() as conn:
        for child in (Base.metadata.tables[name] for name in PLATFORM_TABLES):
            for key in sorted(child.foreign_keys, key=lambda k: k.parent.name):
                column, parent = key.parent, key.column.table
                missing = (column.is_not(None)) & ~exists().where(key.column == column)
                rows = conn.execute(select(func.count()).where(missing)).scalar_one()
                sample = (
                    conn.execute(
                        select(child.c.id).where(missing).order_by(child.c.id).limit(SAMPLE)
                    )
                    .scalars()
                    .all()
                    if rows
                    else []
                )
                found.append(Orphans(child.name, column.name, parent.name, rows, list(sample)))
    return found


@dataclass(frozen=True)
class TableHealth:
    """One platform table's size and use at one moment."""

    table_name: str
    rows: int
    total_bytes: int | None
    index_bytes: int | None
    dead_tuple_ratio: float | None
    seq_scans: int | None
    index_scans: int | None
    unused_indexes: list[str]
    pages: int | None


_PG_TABLES = text(
    "SELECT relname, pg_total_relation_size(relid), pg_indexes_size(relid),"
    " n_live_tup, n_dead_tup, seq_scan, idx_scan"
    " FROM pg_stat_user_tables WHERE schemaname = current_schema()"
)
# Primary keys and unique constraints are used to enforce, not to scan: not "unused".
_PG_UNUSED = text(
    "SELECT s.relname, s.indexrelname FROM pg_stat_user_indexes AS s"
    " JOIN pg_index AS i ON i.indexrelid = s.indexrelid"
    " WHERE s.schemaname = current_schema() AND s.idx_scan = 0"
    " AND NOT i.indisprimary AND NOT i.indisunique ORDER BY 1, 2"
)


def table_health(engine: Engine) -> list[TableHealth]:
    """The health of every platform table, now."""
    with engine.connect() as conn:
        counts = {
            name: conn.execute(
                select(func.count()).select_from(Base.metadata.tables[name])
            ).scalar_one()
            for name in PLATFORM_TABLES
        }
        if is_sqlite(engine):
            try:
                stats = conn.execute(
                    text(
                        "SELECT coalesce(m.tbl_name, d.name), count(*), sum(d.pgsize)"
                        " FROM dbstat AS d LEFT JOIN sqlite_schema AS m ON m.name = d.name"
                        " GROUP BY 1"
                    )
                ).all()
                pages = {name: n for name, n, _size in stats}
                sizes = {name: size for name, _n, size in stats}
            except Exception:  # a SQLite built without the dbstat table: rows only
                pages, sizes = {}, {}
            return [
                TableHealth(
                    name, counts[name], sizes.get(name), None, None, None, None, [], pages.get(name)
                )
                for name in PLATFORM_TABLES
            ]
        stats = {r[0]: r[1:] for r in conn.execute(_PG_TABLES)}
        unused: dict[str, list[str]] = {}
        for table, index in conn.execute(_PG_UNUSED):
            unused.setdefault(table, []).append(index)
    health = []
    for name in PLATFORM_TABLES:
        total, index, live, dead, seq, idx = stats.get(name, (None,) * 6)
        ratio = dead / (live + dead) if live is not None and (live + dead) else 0.0
        health.append(
            TableHealth(
                name, counts[name], total, index, ratio, seq, idx, unused.get(name, []), None
            )
        )
    return health


def vacuum_analyze(engine: Engine, tables: list[str]) -> None:
    """``VACUUM (ANALYZE)`` the tables (PostgreSQL; SQLite's VACUUM rewrites the whole file
    under an exclusive lock, so it is left to the operator there)."""
    if is_sqlite(engine) or not tables:
        return
    preparer = engine.dialect.identifier_preparer
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            if table not in PLATFORM_TABLES:
                raise ValueError(f"{table!r} is not a platform table")
            # VACUUM takes no bound identifier; the name is one of the schema's, quoted.
            conn.execute(text(f"VACUUM (ANALYZE) {preparer.quote(table)}"))
