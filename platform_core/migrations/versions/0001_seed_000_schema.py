"""Seed 000's schema: users, agents, hirings, executions, with the indexes it lists and recommends.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON(none_as_null=True)


def _seed_base() -> list[sa.Column]:
    """The common fields of seed 000's Base model."""
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    ]


def upgrade() -> None:
    """Create the four seed-000 tables."""
    op.create_table(
        "users",
        *_seed_base(),
        sa.Column("username", sa.String(length=50), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=255), nullable=True),
        sa.Column("hashed_password", sa.String(length=255), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_verified", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("avatar_url", sa.String(length=500), nullable=True),
        sa.Column("bio", sa.Text(), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("preferences", JSON, nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.Column("email_verified_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_id"), "users", ["id"])
    op.create_index(op.f("ix_users_username"), "users", ["username"], unique=True)
    op.create_index(op.f("ix_users_email"), "users", ["email"], unique=True)

    op.create_table(
        "agents",
        *_seed_base(),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=50), server_default="1.0.0", nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("entry_point", sa.String(length=255), nullable=False),
        sa.Column("requirements", JSON, nullable=True),
        sa.Column("config_schema", JSON, nullable=True),
        sa.Column("code_zip_url", sa.String(length=500), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("docker_image", sa.String(length=255), nullable=True),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("tags", JSON, nullable=True),
        sa.Column("category", sa.String(length=100), nullable=True),
        sa.Column("pricing_model", sa.String(length=50), nullable=True),
        sa.Column("price_per_use", sa.Float(), nullable=True),
        sa.Column("monthly_price", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="draft", nullable=False),
        sa.Column("is_public", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("validation_errors", JSON, nullable=True),
        sa.Column("total_hires", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("total_executions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("average_rating", sa.Float(), server_default=sa.text("0.0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
    )
    op.create_index(op.f("ix_agents_id"), "agents", ["id"])
    op.create_index(op.f("ix_agents_name"), "agents", ["name"])
    op.create_index("idx_agents_status_public", "agents", ["status", "is_public"])

    op.create_table(
        "hirings",
        *_seed_base(),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("hired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("config", JSON, nullable=True),
        sa.Column("acp_endpoint", sa.String(length=500), nullable=True),
        sa.Column("total_executions", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_executed_at", sa.DateTime(), nullable=True),
        sa.Column("billing_cycle", sa.String(length=20), nullable=True),
        sa.Column("next_billing_date", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_hirings_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_hirings_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hirings")),
    )
    op.create_index(op.f("ix_hirings_id"), "hirings", ["id"])
    op.create_index(op.f("ix_hirings_agent_id"), "hirings", ["agent_id"])
    op.create_index(op.f("ix_hirings_user_id"), "hirings", ["user_id"])
    op.create_index("idx_hirings_updated_id", "hirings", ["updated_at", "id"])

    op.create_table(
        "executions",
        *_seed_base(),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("hiring_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("input_data", JSON, nullable=True),
        sa.Column("output_data", JSON, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("cpu_usage", sa.Float(), nullable=True),
        sa.Column("memory_usage", sa.Float(), nullable=True),
        sa.Column("disk_usage", sa.Float(), nullable=True),
        sa.Column("execution_id", sa.String(length=64), nullable=False),
        sa.Column("acp_session_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_executions_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["hiring_id"], ["hirings.id"], name=op.f("fk_executions_hiring_id_hirings")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_executions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_executions")),
    )
    op.create_index(op.f("ix_executions_id"), "executions", ["id"])
    op.create_index(op.f("ix_executions_agent_id"), "executions", ["agent_id"])
    op.create_index(op.f("ix_executions_hiring_id"), "executions", ["hiring_id"])
    op.create_index(op.f("ix_executions_user_id"), "executions", ["user_id"])
    op.create_index(op.f("ix_executions_execution_id"), "executions", ["execution_id"], unique=True)
    op.create_index("idx_executions_agent_created", "executions", ["agent_id", "created_at"])
    op.create_index("idx_executions_user_created", "executions", ["user_id", "created_at"])
    op.create_index("idx_executions_updated_id", "executions", ["updated_at", "id"])


def downgrade() -> None:
    """Drop the four seed-000 tables, children first."""
    for table in ("executions", "hirings", "agents", "users"):
        op.drop_table(table)
