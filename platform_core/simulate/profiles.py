"""Knobs of the workload simulator and the per-agent behaviour profiles it draws from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from platform_core.models import utcnow

METRIC_NAMES = ("cpu_usage", "memory_mb", "queue_depth", "heartbeat")
CATEGORIES = ("utility", "text", "data", "code", "search", "finance", "support", "vision")
ERROR_MESSAGES = (
    "upstream API returned 503",
    "invalid input: missing field 'message'",
    "agent raised ValueError: could not parse response",
    "out of memory while loading model",
    "rate limited by provider",
)


@dataclass(frozen=True)
class SimulationConfig:
    """Sizes and shape of one simulated history. Same config and database state, same rows."""

    seed: int = 42
    users: int = 200
    agents: int = 30
    hirings: int = 600
    executions: int = 50_000
    days: int = 14
    #: Minutes between two points of each agent metric series.
    metric_interval_minutes: int = 15
    #: Share of hirings (with a user) that leave a review.
    review_share: float = 0.3
    #: Share of agents whose failure rate and latency grow over the period.
    degrading_share: float = 0.1
    #: Share of agents that stop sending heartbeats some hours before the end.
    dead_share: float = 0.07
    bad_rows: int = 0
    #: Rows per write batch (one COPY or one SQLite transaction each).
    batch_size: int = 100_000
    #: End of the simulated period (naive UTC); None means now, to the minute.
    end: datetime | None = None

    def validate(self) -> None:
        """Refuse knobs that cannot make a history, with the reason."""
        for name in ("users", "agents", "hirings", "executions", "days", "bad_rows"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative, got {getattr(self, name)}")
        if self.days < 1:
            raise ValueError("days must be at least 1")
        if self.executions and self.hirings < 1:
            raise ValueError("executions need at least one hiring (--hirings >= 1)")
        if self.metric_interval_minutes < 1:
            raise ValueError("metric_interval_minutes must be at least 1")
        if not 1_000 <= self.batch_size <= 5_000_000:
            raise ValueError("batch_size must be between 1,000 and 5,000,000")
        for name in ("review_share", "degrading_share", "dead_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")


@dataclass
class AgentProfiles:
    """Per-agent behaviour, one array entry per simulated agent (aligned with ``ids``)."""

    ids: np.ndarray
    popularity: np.ndarray
    median_latency_ms: np.ndarray
    failure_rate: np.ndarray
    timeout_rate: np.ndarray
    timeout_ms: np.ndarray
    degrading: np.ndarray
    dead_at: np.ndarray  # datetime64[ms]; NaT for agents that stay alive
    cpu_base: np.ndarray
    memory_base: np.ndarray
    price_per_use: np.ndarray

    @classmethod
    def draw(
        cls,
        rng: np.random.Generator,
        ids: np.ndarray,
        price_per_use: np.ndarray,
        config: SimulationConfig,
        end: datetime,
    ) -> AgentProfiles:
        """Draw skewed popularity (Zipf-like), latency, failure, timeout and decay profiles."""
        n = len(ids)
        ranks = rng.permutation(n) + 1
        popularity = 1.0 / ranks.astype(float) ** 1.1
        degrading = rng.random(n) < config.degrading_share
        dead = rng.random(n) < config.dead_share
        hours_dead = rng.uniform(3, 48, n)
        dead_at = np.where(
            dead,
            np.datetime64(end, "ms") - (hours_dead * 3_600_000).astype("timedelta64[ms]"),
            np.datetime64("NaT", "ms"),
        )
        return cls(
            ids=ids,
            popularity=popularity / popularity.sum() if n else popularity,
            median_latency_ms=np.exp(rng.normal(np.log(800), 0.8, n)),
            failure_rate=rng.beta(1.5, 30, n),
            timeout_rate=rng.beta(1.0, 150, n),
            timeout_ms=rng.choice(np.array([10_000, 30_000, 60_000]), n),
            degrading=degrading,
            dead_at=dead_at,
            cpu_base=rng.uniform(5, 60, n),
            memory_base=np.exp(rng.normal(np.log(256), 0.6, n)),
            price_per_use=price_per_use,
        )


def period(config: SimulationConfig) -> tuple[datetime, datetime]:
    """The simulated period [start, end): ``days`` days ending at ``end`` (default: now)."""
    end = config.end
    if end is None:
        end = utcnow().replace(second=0, microsecond=0)
    return end - timedelta(days=config.days), end
