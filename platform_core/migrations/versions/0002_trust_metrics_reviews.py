"""What the platform grew after seed 000: trust score and heartbeat on agents (seeds 004, 001),
the agent_metrics time series (001), the trust_records audit trail (004), agent_reviews (003).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True)


def upgrade() -> None:
    """Add the columns and tables; every added column is nullable or defaulted."""
    # Batch mode: SQLite cannot add a CHECK constraint to an existing table in place.
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("trust_score", sa.Float(), server_default=sa.text("0.5"), nullable=False)
        )
        batch.add_column(sa.Column("last_heartbeat_at", sa.DateTime(), nullable=True))
        batch.create_check_constraint("trust_score_range", "trust_score >= 0 AND trust_score <= 1")

    op.create_table(
        "agent_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("metric_name", sa.String(length=100), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("tags", JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_metrics_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_metrics")),
    )
    op.create_index("idx_agent_metrics_agent_metric", "agent_metrics", ["agent_id", "metric_name"])
    op.create_index("idx_agent_metrics_recorded_at", "agent_metrics", [sa.text("recorded_at DESC")])

    op.create_table(
        "trust_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=64), nullable=True),
        sa.Column("review_id", sa.Integer(), nullable=True),
        sa.Column("trust_delta", sa.Float(), nullable=False),
        sa.Column("trust_score_before", sa.Float(), nullable=False),
        sa.Column("trust_score_after", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=512), nullable=True),
        sa.Column("model_version", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_trust_records_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_records")),
        sa.UniqueConstraint("record_id", name=op.f("uq_trust_records_record_id")),
    )
    op.create_index("idx_trust_records_agent", "trust_records", ["agent_id"])
    op.create_index(
        "idx_trust_records_agent_date",
        "trust_records",
        ["agent_id", sa.text("created_at DESC")],
    )

    op.create_table(
        "agent_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("is_public", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.CheckConstraint(
            "rating >= 1 AND rating <= 5", name=op.f("ck_agent_reviews_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_reviews_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["users.id"], name=op.f("fk_agent_reviews_reviewer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_reviews")),
        sa.UniqueConstraint("agent_id", "reviewer_id", name="uq_agent_reviews_agent_reviewer"),
    )
    op.create_index(op.f("ix_agent_reviews_id"), "agent_reviews", ["id"])
    op.create_index("idx_agent_reviews_agent_id", "agent_reviews", ["agent_id"])
    op.create_index("idx_agent_reviews_reviewer_id", "agent_reviews", ["reviewer_id"])
    op.create_index("idx_agent_reviews_rating", "agent_reviews", ["rating"])
    op.create_index("idx_reviews_agent_rating", "agent_reviews", ["agent_id", "rating"])
    op.create_index("idx_agent_reviews_updated_id", "agent_reviews", ["updated_at", "id"])


def downgrade() -> None:
    """Drop what this revision added."""
    for table in ("agent_reviews", "trust_records", "agent_metrics"):
        op.drop_table(table)
    with op.batch_alter_table("agents") as batch:
        batch.drop_constraint(op.f("ck_agents_trust_score_range"), type_="check")
        batch.drop_column("last_heartbeat_at")
        batch.drop_column("trust_score")
