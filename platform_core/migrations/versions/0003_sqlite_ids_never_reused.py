"""SQLite: executions and agent_metrics never hand out an id twice (AUTOINCREMENT).

Without AUTOINCREMENT, SQLite gives a new row max(rowid) + 1, so once maintenance purges the
newest rows of a table, the next insert takes an id an archived row already has. The warehouse
keeps purged rows by id (the mirror and the archive), so such a row hid the archived one: the
clean-clone test's second `make demo` counted 302,052 executions for 302,053 (id 300,053 was
both an archived bad row and a new execution). Metric points are read by id, so a reused id
below the ingest's cursor would never be read at all. PostgreSQL's sequences never reuse an
id, so this revision changes nothing there.

SQLite cannot add AUTOINCREMENT to a table in place: batch mode rebuilds the two tables (copy,
drop, rename), keeping their rows and ids. SQLite does not reflect expression indexes, so the
``recorded_at DESC`` index is created again after the rebuild.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables maintenance purges rows from (pipelines/maintenance/archive.py).
PURGED_TABLES = ("executions", "agent_metrics")
RECORDED_AT_INDEX = "idx_agent_metrics_recorded_at"


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in PURGED_TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    op.execute(f"DROP INDEX IF EXISTS {RECORDED_AT_INDEX}")
    op.create_index(RECORDED_AT_INDEX, "agent_metrics", [sa.text("recorded_at DESC")])


def upgrade() -> None:
    """Rebuild the purged tables with AUTOINCREMENT (SQLite only)."""
    _rebuild(autoincrement=True)


def downgrade() -> None:
    """Rebuild them without it (SQLite only)."""
    _rebuild(autoincrement=False)
