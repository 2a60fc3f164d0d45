"""The status vocabularies of seed 000 and the transitions the platform allows.

The database does not constrain these columns (seed 000 does not), so rows written by
other clients may carry values outside them; the warehouse quarantines those.
"""

from __future__ import annotations

from enum import StrEnum


class AgentStatus(StrEnum):
    """Lifecycle of an agent listing (seed 000, "Agent Status Values")."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    ACTIVE = "active"
    INACTIVE = "inactive"


class HiringStatus(StrEnum):
    """State of a hiring (seed 000, "Hiring Status Values")."""

    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


class ExecutionStatus(StrEnum):
    """State of an execution (seed 000, "Execution Status Values")."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


class PricingModel(StrEnum):
    """How an agent is charged for (seed 000, agents.pricing_model)."""

    FREE = "free"
    PER_USE = "per_use"
    SUBSCRIPTION = "subscription"


#: Where an agent may go from each status: review (submitted -> approved/rejected), a rejected
#: draft goes back to editing, and an approved agent is switched on and off by its owner.
AGENT_TRANSITIONS: dict[AgentStatus, frozenset[AgentStatus]] = {
    AgentStatus.DRAFT: frozenset({AgentStatus.SUBMITTED}),
    AgentStatus.SUBMITTED: frozenset({AgentStatus.APPROVED, AgentStatus.REJECTED}),
    AgentStatus.REJECTED: frozenset({AgentStatus.DRAFT}),
    AgentStatus.APPROVED: frozenset({AgentStatus.ACTIVE, AgentStatus.INACTIVE}),
    AgentStatus.ACTIVE: frozenset({AgentStatus.INACTIVE}),
    AgentStatus.INACTIVE: frozenset({AgentStatus.ACTIVE}),
}

#: Agents in these states can be hired and executed.
HIREABLE_AGENT_STATUSES = frozenset({AgentStatus.APPROVED, AgentStatus.ACTIVE})

#: Statuses an execution ends in; it never leaves them.
TERMINAL_EXECUTION_STATUSES = frozenset(
    {
        ExecutionStatus.COMPLETED,
        ExecutionStatus.FAILED,
        ExecutionStatus.TIMEOUT,
        ExecutionStatus.CANCELLED,
    }
)

#: Where an execution may go from each non-terminal status.
EXECUTION_TRANSITIONS: dict[ExecutionStatus, frozenset[ExecutionStatus]] = {
    ExecutionStatus.PENDING: frozenset({ExecutionStatus.RUNNING, ExecutionStatus.CANCELLED}),
    ExecutionStatus.RUNNING: TERMINAL_EXECUTION_STATUSES,
}
