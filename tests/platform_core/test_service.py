"""The service layer: each operation's effect, and refused requests leave no trace."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, inspect, text

from platform_core.errors import ConflictError, NotFoundError, PlatformError, ValidationError
from platform_core.service import PlatformService

T0 = datetime(2026, 3, 1, 12, 0, 0)


class Clock:
    """A settable clock so durations and expiry are exact."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def svc(engine: Engine, clock: Clock) -> PlatformService:
    return PlatformService(engine, clock=clock)


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every platform table, for before/after comparisons."""
    tables = [t for t in inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in tables
        }


def live_agent(svc: PlatformService, name: str = "Echo", **kwargs) -> int:
    agent = svc.register_agent(
        name,
        description="echoes",
        author="me",
        email="me@example.com",
        entry_point="echo.py:main",
        **kwargs,
    )
    svc.set_agent_status(agent.id, "submitted")
    svc.set_agent_status(agent.id, "approved")
    return agent.id


@pytest.fixture
def world(svc: PlatformService) -> dict[str, int]:
    """One user, one approved per-use agent, one hiring."""
    user = svc.create_user("alice", "alice@example.com")
    agent = live_agent(svc, pricing_model="per_use", price_per_use=0.1)
    hiring = svc.hire_agent(agent, user.id, config={"prefix": "x"})
    return {"user": user.id, "agent": agent, "hiring": hiring.id}


def scalar(engine: Engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_execution_lifecycle_moves_counters_and_measures_duration(
    svc: PlatformService, engine: Engine, clock: Clock, world: dict[str, int]
) -> None:
    ex = svc.create_execution(world["hiring"], input_data={"message": "hi"}, execution_id="e-1")
    assert ex.status == "pending" and ex.user_id == world["user"]
    clock.advance(seconds=1)
    svc.start_execution("e-1")
    clock.advance(milliseconds=1500)
    done = svc.finish_execution(
        "e-1", "completed", output_data={"ok": True}, cpu_usage=2.5, memory_usage=15.2
    )
    assert done.duration_ms == 1500
    assert done.completed_at == T0 + timedelta(seconds=2.5)
    assert (
        scalar(engine, "SELECT total_executions FROM agents WHERE id = :a", a=world["agent"]) == 1
    )
    assert scalar(engine, "SELECT total_hires FROM agents WHERE id = :a", a=world["agent"]) == 1
    assert (
        scalar(engine, "SELECT total_executions FROM hirings WHERE id = :h", h=world["hiring"]) == 1
    )
    # A finished execution never changes state again.
    with pytest.raises(ConflictError, match="cannot go from 'completed'"):
        svc.cancel_execution("e-1")


def test_failure_needs_a_message_and_a_pending_execution_can_be_cancelled(
    svc: PlatformService, world: dict[str, int]
) -> None:
    svc.create_execution(world["hiring"], execution_id="e-2")
    svc.start_execution("e-2")
    with pytest.raises(ValidationError, match="needs an error_message"):
        svc.finish_execution("e-2", "failed")
    assert svc.finish_execution("e-2", "timeout", error_message="30s").status == "timeout"
    svc.create_execution(world["hiring"], execution_id="e-3")
    cancelled = svc.cancel_execution("e-3")
    assert cancelled.status == "cancelled" and cancelled.duration_ms is None


def test_reviews_keep_the_average_rating(
    svc: PlatformService, engine: Engine, world: dict[str, int]
) -> None:
    bob = svc.create_user("bob", "bob@example.com")
    svc.review_agent(world["agent"], world["user"], 5)
    svc.review_agent(world["agent"], bob.id, 2, comment="slow")
    assert scalar(
        engine, "SELECT average_rating FROM agents WHERE id = :a", a=world["agent"]
    ) == pytest.approx(3.5)


def test_agent_lifecycle_follows_the_seed_statuses(svc: PlatformService) -> None:
    agent = svc.register_agent("A", description="d", author="a", email="a@b.co", entry_point="m:f")
    assert agent.status == "draft"
    with pytest.raises(ConflictError, match="cannot go from 'draft' to 'approved'"):
        svc.set_agent_status(agent.id, "approved")
    svc.set_agent_status(agent.id, "submitted")
    svc.set_agent_status(agent.id, "rejected")
    svc.set_agent_status(agent.id, "draft")
    with pytest.raises(ValidationError, match="must be one of"):
        svc.set_agent_status(agent.id, "published")


def test_heartbeat_and_metrics(
    svc: PlatformService, engine: Engine, clock: Clock, world: dict[str, int]
) -> None:
    svc.heartbeat(world["agent"])
    svc.record_metric(world["agent"], "cpu_usage", 42.5, tags={"host": "n1"})
    assert scalar(engine, "SELECT COUNT(*) FROM agent_metrics") == 2
    assert (
        scalar(engine, "SELECT last_heartbeat_at FROM agents WHERE id = :a", a=world["agent"])
        is not None
    )


def test_hiring_expiry_is_enforced(
    svc: PlatformService, clock: Clock, world: dict[str, int]
) -> None:
    hiring = svc.hire_agent(world["agent"], world["user"], expires_at=T0 + timedelta(days=1))
    clock.advance(days=2)
    with pytest.raises(ConflictError, match="expired"):
        svc.create_execution(hiring.id)


def _none(s: PlatformService, w: dict[str, int]) -> None:
    return None


def _draft(s: PlatformService, w: dict[str, int]) -> None:
    w["draft"] = s.register_agent(
        "D", description="d", author="a", email="a@b.co", entry_point="m:f"
    ).id


def _queued(execution_id: str):
    def setup(s: PlatformService, w: dict[str, int]) -> None:
        s.create_execution(w["hiring"], execution_id=execution_id)
        if execution_id == "neg":
            s.start_execution("neg")

    return setup


# case: (valid set-up, the refused call, error type, message pattern)
BAD_REQUESTS = {
    "unknown agent": (
        _none,
        lambda s, w: s.hire_agent(999_999, w["user"]),
        NotFoundError,
        "agent 999999 does not exist",
    ),
    "unknown user": (
        _none,
        lambda s, w: s.hire_agent(w["agent"], 999_999),
        NotFoundError,
        "user 999999 does not exist",
    ),
    "rating 7": (
        _none,
        lambda s, w: s.review_agent(w["agent"], w["user"], 7),
        ValidationError,
        "rating must be an integer from 1 to 5",
    ),
    "rating 0": (
        _none,
        lambda s, w: s.review_agent(w["agent"], w["user"], 0),
        ValidationError,
        "from 1 to 5",
    ),
    "second review": (
        lambda s, w: s.review_agent(w["agent"], w["user"], 4),
        lambda s, w: s.review_agent(w["agent"], w["user"], 3),
        ConflictError,
        "already reviewed",
    ),
    "hiring a draft agent": (
        _draft,
        lambda s, w: s.hire_agent(w["draft"], w["user"]),
        ConflictError,
        "only approved or active agents can be hired",
    ),
    "hiring an inactive agent": (
        lambda s, w: s.set_agent_status(w["agent"], "inactive"),
        lambda s, w: s.hire_agent(w["agent"], w["user"]),
        ConflictError,
        "'inactive'",
    ),
    "duplicate execution_id": (
        _queued("dup"),
        lambda s, w: s.create_execution(w["hiring"], execution_id="dup"),
        ConflictError,
        "execution_id 'dup' already exists",
    ),
    "duplicate username": (
        _none,
        lambda s, w: s.create_user("alice", "other@example.com"),
        ConflictError,
        "username 'alice' is already taken",
    ),
    "bad email": (
        _none,
        lambda s, w: s.create_user("carol", "not-an-email"),
        ValidationError,
        "not a valid address",
    ),
    "expiry in the past": (
        _none,
        lambda s, w: s.hire_agent(w["agent"], w["user"], expires_at=T0 - timedelta(days=1)),
        ValidationError,
        "not in the future",
    ),
    "negative cpu": (
        _queued("neg"),
        lambda s, w: s.finish_execution("neg", "completed", cpu_usage=-1),
        ValidationError,
        "cpu_usage cannot be negative",
    ),
    "unknown execution": (
        _none,
        lambda s, w: s.start_execution("nope"),
        NotFoundError,
        "execution 'nope' does not exist",
    ),
    "non-final status": (
        _queued("nf"),
        lambda s, w: s.finish_execution("nf", "running"),
        ValidationError,
        "not a final status",
    ),
    "finish before start": (
        _queued("fb"),
        lambda s, w: s.finish_execution("fb", "completed"),
        ConflictError,
        "cannot go from 'pending' to 'completed'",
    ),
    "unknown pricing model": (
        _none,
        lambda s, w: s.register_agent(
            "P",
            description="d",
            author="a",
            email="a@b.co",
            entry_point="m:f",
            pricing_model="barter",
        ),
        ValidationError,
        "pricing_model must be one of",
    ),
    "metric NaN": (
        _none,
        lambda s, w: s.record_metric(w["agent"], "cpu_usage", float("nan")),
        ValidationError,
        "finite number",
    ),
    "cancelled hiring": (
        lambda s, w: s.cancel_hiring(w["hiring"]),
        lambda s, w: s.create_execution(w["hiring"]),
        ConflictError,
        "'cancelled', not active",
    ),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_input_gets_a_clear_error_and_changes_nothing(
    svc: PlatformService, engine: Engine, world: dict[str, int], case: str
) -> None:
    setup, call, error, message = BAD_REQUESTS[case]
    setup(svc, world)
    before = snapshot(engine)
    with pytest.raises(error, match=message) as info:
        call(svc, world)
    assert isinstance(info.value, PlatformError)
    assert snapshot(engine) == before
