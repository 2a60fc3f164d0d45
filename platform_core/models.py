"""SQLAlchemy models of the operational schema.

``users``, ``agents``, ``hirings`` and ``executions`` follow seed 000 exactly: names, types,
nullability, defaults, unique constraints and the indexes it lists and recommends. What the
platform grew later (seeds 001, 003, 004) is added beside them, every added column nullable
or defaulted so that a row written by any seed-000 client stays valid.

Timestamps are naive UTC, as seed 000's ``datetime.utcnow`` defaults make them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    FetchedValue,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    """Naive UTC now, the representation every timestamp column uses."""
    return datetime.now(UTC).replace(tzinfo=None)


# Stable constraint names make migrations reproducible across PostgreSQL and SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON columns hold SQL NULL for Python None, not the JSON literal 'null'.
Json = JSON(none_as_null=True)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ChangeCaptured:
    """``change_id``: set by the database itself on every insert and update, in the order
    transactions commit (migration 0004), so the warehouse's ingest reads every committed
    change exactly once, however late it commits. Never written by the application."""

    change_id: Mapped[int | None] = mapped_column(
        BigInteger,
        nullable=True,
        index=True,
        server_default=FetchedValue(),
        server_onupdate=FetchedValue(),
    )


class SeedBase(ChangeCaptured, Base):
    """Seed 000's common fields: ``id`` (indexed), ``created_at``, ``updated_at``; and the
    change capture every mirrored table carries."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class User(SeedBase):
    """A user account (seed 000 ``users``)."""

    __tablename__ = "users"
    # Deleted rows' ids are never handed out again on SQLite (migration 0004).
    __table_args__ = ({"sqlite_autoincrement": True},)

    username: Mapped[str] = mapped_column(String(50), unique=True, index=True, nullable=False)
    email: Mapped[str] = mapped_column(String(255), unique=True, index=True, nullable=False)
    full_name: Mapped[str | None] = mapped_column(String(255))
    hashed_password: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )
    is_verified: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    bio: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))
    preferences: Mapped[Any | None] = mapped_column(Json)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime)


class Agent(SeedBase):
    """An agent listing (seed 000 ``agents``, plus trust and heartbeat from seeds 004 and 001)."""

    __tablename__ = "agents"
    __table_args__ = (
        Index("idx_agents_status_public", "status", "is_public"),
        CheckConstraint("trust_score >= 0 AND trust_score <= 1", name="trust_score_range"),
        {"sqlite_autoincrement": True},
    )

    name: Mapped[str] = mapped_column(String(255), index=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str] = mapped_column(
        String(50), default="1.0.0", server_default="1.0.0", nullable=False
    )
    author: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str] = mapped_column(String(255), nullable=False)
    entry_point: Mapped[str] = mapped_column(String(255), nullable=False)
    requirements: Mapped[Any | None] = mapped_column(Json)
    config_schema: Mapped[Any | None] = mapped_column(Json)
    code_zip_url: Mapped[str | None] = mapped_column(String(500))
    code_hash: Mapped[str | None] = mapped_column(String(64))
    docker_image: Mapped[str | None] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(Text)
    file_path: Mapped[str | None] = mapped_column(String(500))
    tags: Mapped[Any | None] = mapped_column(Json)
    category: Mapped[str | None] = mapped_column(String(100))
    pricing_model: Mapped[str | None] = mapped_column(String(50))
    price_per_use: Mapped[float | None] = mapped_column(Float)
    monthly_price: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(
        String(20), default="draft", server_default="draft", nullable=False
    )
    is_public: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    validation_errors: Mapped[Any | None] = mapped_column(Json)
    total_hires: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), nullable=False
    )
    total_executions: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), nullable=False
    )
    average_rating: Mapped[float] = mapped_column(
        Float, default=0.0, server_default=text("0.0"), nullable=False
    )
    # Seed 004: the routing reputation, written back by the pipeline's trust model.
    trust_score: Mapped[float] = mapped_column(
        Float, default=0.5, server_default=text("0.5"), nullable=False
    )
    # Seed 001: when the agent last reported alive.
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class Hiring(SeedBase):
    """A user's hiring of an agent (seed 000 ``hirings``)."""

    __tablename__ = "hirings"
    __table_args__ = (
        # The ingest reads hirings by an (updated_at, id) watermark.
        Index("idx_hirings_updated_id", "updated_at", "id"),
        {"sqlite_autoincrement": True},
    )

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True, nullable=False)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(20), default="active", server_default="active", nullable=False
    )
    hired_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    config: Mapped[Any | None] = mapped_column(Json)
    acp_endpoint: Mapped[str | None] = mapped_column(String(500))
    total_executions: Mapped[int] = mapped_column(
        Integer, default=0, server_default=text("0"), nullable=False
    )
    last_executed_at: Mapped[datetime | None] = mapped_column(DateTime)
    billing_cycle: Mapped[str | None] = mapped_column(String(20))
    next_billing_date: Mapped[datetime | None] = mapped_column(DateTime)


class Execution(SeedBase):
    """One run of an agent (seed 000 ``executions``)."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("idx_executions_agent_created", "agent_id", "created_at"),
        Index("idx_executions_user_created", "user_id", "created_at"),
        # The ingest reads executions by an (updated_at, id) watermark.
        Index("idx_executions_updated_id", "updated_at", "id"),
        # Maintenance purges executions; on SQLite an id must not be handed out again
        # (migration 0003 says why). PostgreSQL's sequence never reuses one.
        {"sqlite_autoincrement": True},
    )

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True, nullable=False)
    hiring_id: Mapped[int | None] = mapped_column(ForeignKey("hirings.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(20), default="pending", server_default="pending", nullable=False
    )
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    input_data: Mapped[Any | None] = mapped_column(Json)
    output_data: Mapped[Any | None] = mapped_column(Json)
    error_message: Mapped[str | None] = mapped_column(Text)
    cpu_usage: Mapped[float | None] = mapped_column(Float)
    memory_usage: Mapped[float | None] = mapped_column(Float)
    disk_usage: Mapped[float | None] = mapped_column(Float)
    execution_id: Mapped[str] = mapped_column(String(64), unique=True, index=True, nullable=False)
    acp_session_id: Mapped[str | None] = mapped_column(String(64))


class AgentMetric(ChangeCaptured, Base):
    """One point of an agent's metric time series (seed 001 ``metrics``, keyed to agents).

    Append-only: points are never updated, so the ingest reads them by ``id``.
    """

    __tablename__ = "agent_metrics"
    __table_args__ = (
        Index("idx_agent_metrics_agent_metric", "agent_id", "metric_name"),
        Index("idx_agent_metrics_recorded_at", text("recorded_at DESC")),
        {"sqlite_autoincrement": True},  # purged by maintenance, read by id: see 0003
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), nullable=False)
    metric_name: Mapped[str] = mapped_column(String(100), nullable=False)
    metric_value: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    tags: Mapped[Any | None] = mapped_column(Json)


class TrustRecord(ChangeCaptured, Base):
    """One change of an agent's trust score (seed 004 ``trust_records``, the audit trail).

    ``record_id`` is derived from the source event, so writing the same change twice is
    refused by the unique constraint instead of double-counting.
    """

    __tablename__ = "trust_records"
    __table_args__ = (
        Index("idx_trust_records_agent", "agent_id"),
        Index("idx_trust_records_agent_date", "agent_id", text("created_at DESC")),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    # The source execution's execution_id (not a foreign key: executions get purged).
    execution_id: Mapped[str | None] = mapped_column(String(64))
    # The source review, for review-driven changes.
    review_id: Mapped[int | None] = mapped_column(Integer)
    trust_delta: Mapped[float] = mapped_column(Float, nullable=False)
    trust_score_before: Mapped[float] = mapped_column(Float, nullable=False)
    trust_score_after: Mapped[float] = mapped_column(Float, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(512))
    # Version of the trust-model parameters that produced the change.
    model_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)


class AgentReview(SeedBase):
    """A user's review of an agent (seed 003 ``agent_reviews``): one per agent per reviewer."""

    __tablename__ = "agent_reviews"
    __table_args__ = (
        UniqueConstraint("agent_id", "reviewer_id", name="uq_agent_reviews_agent_reviewer"),
        CheckConstraint("rating >= 1 AND rating <= 5", name="rating_range"),
        Index("idx_agent_reviews_agent_id", "agent_id"),
        Index("idx_agent_reviews_reviewer_id", "reviewer_id"),
        Index("idx_agent_reviews_rating", "rating"),
        Index("idx_reviews_agent_rating", "agent_id", "rating"),
        Index("idx_agent_reviews_updated_id", "updated_at", "id"),
        {"sqlite_autoincrement": True},
    )

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), nullable=False)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    comment: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=true(), nullable=False
    )


SEED_000_TABLES = ("users", "agents", "hirings", "executions")
