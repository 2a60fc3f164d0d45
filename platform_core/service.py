"""The platform's write path: what users and agents do, each operation one transaction.

Every method validates its input before writing and raises a :class:`PlatformError` with a
clear message; the transaction is rolled back, so a refused request leaves the database as it
was. The denormalised counters of seed 000 (``agents.total_hires``, ``total_executions``,
``average_rating``; ``hirings.total_executions``, ``last_executed_at``) are kept in the same
transaction as the row that changes them, with set-based ``UPDATE ... SET x = x + 1`` so that
concurrent writers do not lose increments.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from platform_core.errors import ConflictError, NotFoundError, ValidationError
from platform_core.feedback import FeedbackWrites
from platform_core.models import (
    Agent,
    AgentMetric,
    Execution,
    Hiring,
    User,
)
from platform_core.statuses import (
    AGENT_TRANSITIONS,
    EXECUTION_TRANSITIONS,
    HIREABLE_AGENT_STATUSES,
    TERMINAL_EXECUTION_STATUSES,
    AgentStatus,
    ExecutionStatus,
    HiringStatus,
    PricingModel,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")


def new_execution_id() -> str:
    """A fresh unique execution id in the seed's ``exec_<hex>`` form."""
    return f"exec_{uuid.uuid4().hex}"


class PlatformService(FeedbackWrites):
    """The operations a platform performs on its operational database.

    ``clock`` returns naive UTC "now"; tests and the simulator inject their own.
    """

    # -- users -----------------------------------------------------------------------------

    def create_user(
        self,
        username: str,
        email: str,
        *,
        full_name: str | None = None,
        hashed_password: str | None = None,
        is_verified: bool = False,
        preferences: dict[str, Any] | None = None,
    ) -> User:
        """Create a user account; usernames and emails are unique."""
        if not _USERNAME.match(username or ""):
            raise ValidationError(
                f"username must be 3-50 letters, digits, '_', '.' or '-', got {username!r}"
            )
        if not _EMAIL.match(email or "") or len(email) > 255:
            raise ValidationError(f"email is not a valid address: {email!r}")
        now = self._clock()
        with self._transaction() as s:
            if s.scalar(select(User.id).where(User.username == username)) is not None:
                raise ConflictError(f"username {username!r} is already taken")
            if s.scalar(select(User.id).where(User.email == email)) is not None:
                raise ConflictError(f"email {email!r} is already registered")
            user = User(
                username=username,
                email=email,
                full_name=full_name,
                hashed_password=hashed_password,
                is_verified=is_verified,
                email_verified_at=now if is_verified else None,
                preferences=preferences,
                created_at=now,
                updated_at=now,
            )
            s.add(user)
            s.flush()
            return user

    # -- agents ----------------------------------------------------------------------------

    def register_agent(
        self,
        name: str,
        *,
        description: str,
        author: str,
        email: str,
        entry_point: str,
        version: str = "1.0.0",
        category: str | None = None,
        tags: list[str] | None = None,
        requirements: list[str] | None = None,
        pricing_model: str = PricingModel.FREE,
        price_per_use: float | None = None,
        monthly_price: float | None = None,
        is_public: bool = False,
        code: str | None = None,
    ) -> Agent:
        """Register an agent as a ``draft``; it must be submitted and approved to be hired."""
        for label, value in (
            ("name", name),
            ("description", description),
            ("author", author),
            ("entry_point", entry_point),
        ):
            if not value or not value.strip():
                raise ValidationError(f"agent {label} must not be empty")
        if not _EMAIL.match(email or ""):
            raise ValidationError(f"agent email is not a valid address: {email!r}")
        if pricing_model not in set(PricingModel):
            raise ValidationError(
                f"pricing_model must be one of {sorted(PricingModel)}, got {pricing_model!r}"
            )
        if pricing_model == PricingModel.PER_USE and (price_per_use is None or price_per_use < 0):
            raise ValidationError("a per_use agent needs a price_per_use of 0 or more")
        if pricing_model == PricingModel.SUBSCRIPTION and (
            monthly_price is None or monthly_price < 0
        ):
            raise ValidationError("a subscription agent needs a monthly_price of 0 or more")
        now = self._clock()
        with self._transaction() as s:
            agent = Agent(
                name=name,
                description=description,
                author=author,
                email=email,
                entry_point=entry_point,
                version=version,
                category=category,
                tags=tags or [],
                requirements=requirements or [],
                pricing_model=str(pricing_model),
                price_per_use=price_per_use,
                monthly_price=monthly_price,
                is_public=is_public,
                code=code,
                status=AgentStatus.DRAFT.value,
                created_at=now,
                updated_at=now,
            )
            s.add(agent)
            s.flush()
            return agent

    def set_agent_status(self, agent_id: int, status: str) -> Agent:
        """Move an agent along its lifecycle (see ``statuses.AGENT_TRANSITIONS``)."""
        try:
            target = AgentStatus(status)
        except ValueError:
            raise ValidationError(
                f"agent status must be one of {[s.value for s in AgentStatus]}, got {status!r}"
            ) from None
        with self._transaction() as s:
            agent = self._get(s, Agent, agent_id, lock=True)
            current = AgentStatus(agent.status)
            if target not in AGENT_TRANSITIONS.get(current, frozenset()):
                allowed = sorted(AGENT_TRANSITIONS.get(current, frozenset()))
                raise ConflictError(
                    f"agent {agent_id} cannot go from {current.value!r} to {target.value!r}"
                    f" (allowed: {allowed})"
                )
            agent.status = target.value
            agent.updated_at = self._clock()
            return agent

    def heartbeat(self, agent_id: int, at: datetime | None = None) -> None:
        """Record that an agent is alive: ``last_heartbeat_at`` and a ``heartbeat`` point."""
        at = at or self._clock()
        with self._transaction() as s:
            agent = self._get(s, Agent, agent_id, lock=True)
            if agent.last_heartbeat_at is None or at > agent.last_heartbeat_at:
                agent.last_heartbeat_at = at
            s.add(
                AgentMetric(
                    agent_id=agent_id, metric_name="heartbeat", metric_value=1.0, recorded_at=at
                )
            )

    # -- hirings ---------------------------------------------------------------------------

    def hire_agent(
        self,
        agent_id: int,
        user_id: int | None,
        *,
        expires_at: datetime | None = None,
        config: dict[str, Any] | None = None,
        billing_cycle: str | None = None,
        acp_endpoint: str | None = None,
    ) -> Hiring:
        """Hire an approved or active agent for an active user, or anonymously (no user)."""
        now = self._clock()
        if expires_at is not None and expires_at <= now:
            raise ValidationError(f"expires_at {expires_at.isoformat()} is not in the future")
        if config is not None and not isinstance(config, dict):
            raise ValidationError("hiring config must be a JSON object (a dict)")
        with self._transaction() as s:
            agent = self._get(s, Agent, agent_id)
            if agent.status not in HIREABLE_AGENT_STATUSES:
                raise ConflictError(
                    f"agent {agent_id} is {agent.status!r}; only approved or active agents"
                    " can be hired"
                )
            if user_id is not None:
                user = self._get(s, User, user_id)
                if not user.is_active:
                    raise ConflictError(f"user {user_id} is deactivated and cannot hire agents")
            hiring = Hiring(
                agent_id=agent_id,
                user_id=user_id,
                status=HiringStatus.ACTIVE.value,
                hired_at=now,
                expires_at=expires_at,
                config=config,
                billing_cycle=billing_cycle,
                acp_endpoint=acp_endpoint,
                created_at=now,
                updated_at=now,
            )
            s.add(hiring)
            s.execute(
                update(Agent)
                .where(Agent.id == agent_id)
                .values(total_hires=Agent.total_hires + 1, updated_at=now)
            )
            s.flush()
            return hiring

    def cancel_hiring(self, hiring_id: int) -> Hiring:
        """Cancel an active or suspended hiring."""
        with self._transaction() as s:
            hiring = self._get(s, Hiring, hiring_id, lock=True)
            if hiring.status not in (HiringStatus.ACTIVE, HiringStatus.SUSPENDED):
                raise ConflictError(f"hiring {hiring_id} is already {hiring.status!r}")
            hiring.status = HiringStatus.CANCELLED.value
            hiring.updated_at = self._clock()
            return hiring

    def expired_hirings(self, now: datetime | None = None) -> list[Hiring]:
        """Active hirings whose ``expires_at`` has passed (what :meth:`expire_hirings` does)."""
        at = now or self._clock()
        with self._transaction() as s:
            return list(
                s.scalars(
                    select(Hiring)
                    .where(Hiring.status == HiringStatus.ACTIVE.value, Hiring.expires_at < at)
                    .order_by(Hiring.id)
                )
            )

    def expire_hirings(self, now: datetime | None = None, batch_size: int = 1_000) -> list[Hiring]:
        """Mark active hirings past ``expires_at`` as ``expired`` (``updated_at`` set).

        Only ``active`` hirings expire: a suspended or cancelled one keeps its status. Each
        batch is its own short transaction that re-checks the status under a row lock, so a
        hiring cancelled meanwhile is left alone and the platform's writers wait briefly.
        """
        at = now or self._clock()
        expired: list[Hiring] = []
        last_id = 0
        while True:
            with self._transaction() as s:
                batch = list(
                    s.scalars(
                        select(Hiring)
                        .where(
                            Hiring.status == HiringStatus.ACTIVE.value,
                            Hiring.expires_at < at,
                            Hiring.id > last_id,
                        )
                        .order_by(Hiring.id)
                        .limit(batch_size)
                        .with_for_update()
                    )
                )
                for hiring in batch:
                    hiring.status = HiringStatus.EXPIRED.value
                    hiring.updated_at = at
                expired += batch
            if len(batch) < batch_size:
                return expired
            last_id = batch[-1].id

    # -- executions ------------------------------------------------------------------------

    def create_execution(
        self,
        hiring_id: int,
        *,
        input_data: dict[str, Any] | None = None,
        execution_id: str | None = None,
        acp_session_id: str | None = None,
    ) -> Execution:
        """Queue an execution (``pending``) under an active, unexpired hiring."""
        execution_id = execution_id or new_execution_id()
        if not execution_id or len(execution_id) > 64:
            raise ValidationError("execution_id must be 1-64 characters")
        now = self._clock()
        with self._transaction() as s:
            hiring = self._get(s, Hiring, hiring_id)
            if hiring.status != HiringStatus.ACTIVE:
                raise ConflictError(f"hiring {hiring_id} is {hiring.status!r}, not active")
            if hiring.expires_at is not None and hiring.expires_at <= now:
                raise ConflictError(
                    f"hiring {hiring_id} expired at {hiring.expires_at.isoformat()}"
                )
            agent = self._get(s, Agent, hiring.agent_id)
            if agent.status not in HIREABLE_AGENT_STATUSES:
                raise ConflictError(f"agent {agent.id} is {agent.status!r} and cannot run")
            if s.scalar(select(Execution.id).where(Execution.execution_id == execution_id)):
                raise ConflictError(f"execution_id {execution_id!r} already exists")
            execution = Execution(
                agent_id=hiring.agent_id,
                hiring_id=hiring.id,
                user_id=hiring.user_id,
                status=ExecutionStatus.PENDING.value,
                input_data=input_data,
                execution_id=execution_id,
                acp_session_id=acp_session_id,
                created_at=now,
                updated_at=now,
            )
            s.add(execution)
            s.execute(
                update(Agent)
                .where(Agent.id == hiring.agent_id)
                # updated_at too: the warehouse reads agents by an updated_at watermark
                .values(total_executions=Agent.total_executions + 1, updated_at=now)
            )
            s.execute(
                update(Hiring)
                .where(Hiring.id == hiring.id)
                .values(
                    total_executions=Hiring.total_executions + 1,
                    last_executed_at=now,
                    updated_at=now,
                )
            )
            s.flush()
            return execution

    def start_execution(self, execution_id: str) -> Execution:
        """Move a pending execution to ``running`` and stamp ``started_at``."""
        return self._transition(execution_id, ExecutionStatus.RUNNING)

    def finish_execution(
        self,
        execution_id: str,
        status: str,
        *,
        output_data: dict[str, Any] | None = None,
        error_message: str | None = None,
        cpu_usage: float | None = None,
        memory_usage: float | None = None,
        disk_usage: float | None = None,
    ) -> Execution:
        """End an execution as completed, failed, timeout or cancelled.

        ``duration_ms`` is measured from ``started_at``; failures and timeouts need an error
        message, and resource usage cannot be negative.
        """
        try:
            target = ExecutionStatus(status)
        except ValueError:
            raise ValidationError(
                f"execution status must be one of {[s.value for s in ExecutionStatus]},"
                f" got {status!r}"
            ) from None
        if target not in TERMINAL_EXECUTION_STATUSES:
            raise ValidationError(f"{target.value!r} is not a final status")
        if target in (ExecutionStatus.FAILED, ExecutionStatus.TIMEOUT) and not error_message:
            raise ValidationError(f"a {target.value} execution needs an error_message")
        for label, value in (
            ("cpu_usage", cpu_usage),
            ("memory_usage", memory_usage),
            ("disk_usage", disk_usage),
        ):
            if value is not None and value < 0:
                raise ValidationError(f"{label} cannot be negative, got {value}")
        return self._transition(
            execution_id,
            target,
            output_data=output_data,
            error_message=error_message,
            cpu_usage=cpu_usage,
            memory_usage=memory_usage,
            disk_usage=disk_usage,
        )

    def cancel_execution(self, execution_id: str) -> Execution:
        """Cancel a pending or running execution."""
        return self._transition(execution_id, ExecutionStatus.CANCELLED)

    def _transition(self, execution_id: str, target: ExecutionStatus, **fields: Any) -> Execution:
        now = self._clock()
        with self._transaction() as s:
            execution = s.scalar(
                select(Execution).where(Execution.execution_id == execution_id).with_for_update()
            )
            if execution is None:
                raise NotFoundError(f"execution {execution_id!r} does not exist")
            try:
                current = ExecutionStatus(execution.status)
            except ValueError:
                raise ConflictError(
                    f"execution {execution_id!r} has unknown status {execution.status!r}"
                ) from None
            if target not in EXECUTION_TRANSITIONS.get(current, frozenset()):
                raise ConflictError(
                    f"execution {execution_id!r} cannot go from {current.value!r}"
                    f" to {target.value!r}"
                )
            execution.status = target.value
            execution.updated_at = now
            if target == ExecutionStatus.RUNNING:
                execution.started_at = now
            else:
                execution.completed_at = now
                if execution.started_at is not None:
                    delta = now - execution.started_at
                    execution.duration_ms = int(delta.total_seconds() * 1000)
                for key, value in fields.items():
                    if value is not None:
                        setattr(execution, key, value)
            return execution
