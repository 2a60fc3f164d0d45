"""Change capture: every row the warehouse mirrors carries ``change_id``, set by the database
in commit order, so the ingest never skips a row that commits late.

Ids and ``updated_at`` are drawn before a transaction commits: a transaction that stamps a row
and commits after the ingest has read past its id or timestamp was skipped for ever (a metric
point in an open transaction while a later one committed; an update stamped more than the
300 s lookback before its commit). ``change_id`` is ordered the way commits are:

* PostgreSQL: the id of the writing transaction (``pg_current_xact_id()``), as the column's
  default and from a trigger on update. Every transaction still running when the ingest reads
  has an id at or above the reader's snapshot ``xmin``, so reading ``change_id >= xmin of the
  previous read`` misses nothing that committed since (pipelines/ingest/extract.py).
* SQLite (one writer at a time): a counter in ``change_clock``, raised by triggers inside the
  writing transaction, which holds the write lock until it commits; a later commit always
  gets a higher number. A writer that sets ``change_id`` itself (the simulator's bulk path
  reserves a block) is left as it is.

Rows written before this revision keep ``change_id`` NULL until they change; the first ingest
after it reads the way it did before once more and starts from there.

SQLite also stops handing out the ids of deleted rows again in the other mirrored tables
(0003 did it for executions and metric points, which maintenance purges): an agent deleted
by hand with its reviews gave its review ids to the next reviews, and the warehouse, which
keys rows by id, took a new review for the deleted one (two trust events, one record_id).
Those tables are rebuilt with AUTOINCREMENT, rows and ids kept.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Mirrored tables without AUTOINCREMENT on SQLite yet (0003 rebuilt the other two).
REBUILT_ON_SQLITE = ("users", "agents", "hirings", "agent_reviews", "trust_records")
#: SQLite cannot reflect expression indexes: the rebuild drops them, so they are made again.
EXPRESSION_INDEXES = {
    "trust_records": ("idx_trust_records_agent_date", "agent_id, created_at DESC")
}

#: The platform tables the warehouse mirrors (pipelines/ingest/tables.py).
CAPTURED = (
    "users",
    "agents",
    "hirings",
    "executions",
    "agent_reviews",
    "agent_metrics",
    "trust_records",
)

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION agenthub_stamp_change_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.change_id := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END
$$
"""


def _sqlite_triggers(table: str) -> list[str]:
    stamp = (
        "UPDATE change_clock SET value = value + 1 WHERE id = 1; "
        f"UPDATE {table} SET change_id = (SELECT value FROM change_clock WHERE id = 1)"
        " WHERE rowid = NEW.rowid;"
    )
    return [
        f"CREATE TRIGGER trg_{table}_change_id_insert AFTER INSERT ON {table}"
        f" FOR EACH ROW WHEN NEW.change_id IS NULL BEGIN {stamp} END",
        # Not when the statement set change_id itself, and not for the trigger's own update
        # (SQLite does not fire triggers recursively unless asked).
        f"CREATE TRIGGER trg_{table}_change_id_update AFTER UPDATE ON {table}"
        f" FOR EACH ROW WHEN NEW.change_id IS OLD.change_id BEGIN {stamp} END",
    ]


def upgrade() -> None:
    """Add ``change_id``, its index, and what sets it."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.create_table(
            "change_clock",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("value", sa.BigInteger(), nullable=False),
            sa.CheckConstraint("id = 1", name=op.f("ck_change_clock_one_row")),
            sa.PrimaryKeyConstraint("id", name=op.f("pk_change_clock")),
        )
        op.execute("INSERT INTO change_clock (id, value) VALUES (1, 0)")
    else:
        op.execute(PG_FUNCTION)
    for table in CAPTURED:
        column = sa.Column("change_id", sa.BigInteger(), nullable=True)
        if sqlite and table in REBUILT_ON_SQLITE:
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ) as batch:
                batch.add_column(column)
            if table in EXPRESSION_INDEXES:
                name, columns = EXPRESSION_INDEXES[table]
                op.execute(f"DROP INDEX IF EXISTS {name}")
                op.execute(f"CREATE INDEX {name} ON {table} ({columns})")
        else:
            # Nullable, no default in the ADD: PostgreSQL adds it without rewriting the table.
            op.add_column(table, column)
        op.create_index(f"ix_{table}_change_id", table, ["change_id"])
        if sqlite:
            for statement in _sqlite_triggers(table):
                op.execute(statement)
        else:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN change_id"
                " SET DEFAULT pg_current_xact_id()::text::bigint"
            )
            op.execute(
                f"CREATE TRIGGER trg_{table}_change_id BEFORE UPDATE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION agenthub_stamp_change_id()"
            )


def downgrade() -> None:
    """Remove them."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in CAPTURED:
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_change_id_insert")
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_change_id_update")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS trg_{table}_change_id ON {table}")
        op.drop_index(f"ix_{table}_change_id", table_name=table)
        # In place on both (SQLite 3.35+): a batch rebuild would lose 0003's AUTOINCREMENT.
        op.execute(f"ALTER TABLE {table} DROP COLUMN change_id")
    if sqlite:
        op.drop_table("change_clock")
    else:
        op.execute("DROP FUNCTION IF EXISTS agenthub_stamp_change_id()")
