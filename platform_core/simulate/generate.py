"""Vectorised generation of simulated platform rows as Polars frames.

Nothing here touches a database: given a seeded generator and the ids already written, each
function returns the next rows. Times are handled as int64 milliseconds since the epoch
(naive UTC) and become Polars ``Datetime("ms")`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from platform_core.simulate.profiles import (
    CATEGORIES,
    ERROR_MESSAGES,
    METRIC_NAMES,
    AgentProfiles,
)

MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000
_ADJECTIVES = ("Swift", "Clever", "Quiet", "Bright", "Steady", "Nimble", "Keen", "Bold")
_NOUNS = ("Parser", "Scout", "Writer", "Analyst", "Router", "Summariser", "Coder", "Tutor")


def to_ms(value: datetime) -> int:
    """Naive-UTC datetime to epoch milliseconds."""
    return int(np.datetime64(value, "ms").astype(np.int64))


def _ms_col(values: np.ndarray, name: str) -> pl.Series:
    """Epoch-ms int64 (negative for missing) to a nullable Datetime("ms") series."""
    return _nullable(values, name).cast(pl.Datetime("ms"))


def _nullable(values: np.ndarray, name: str = "") -> pl.Series:
    """An int64 series with negative values (our "missing" marker) turned into nulls."""
    series = pl.Series(name, values, dtype=pl.Int64)
    return series.set(series < 0, None)


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """Concatenate literal text (odd positions are column names) into a string expression.

    Used to build JSON text column-wise; ``pl.format`` would read the braces as placeholders.
    """
    exprs = [
        p.cast(pl.String)
        if isinstance(p, pl.Expr)
        else (pl.col(p).cast(pl.String) if i % 2 else pl.lit(p))
        for i, p in enumerate(parts)
    ]
    return pl.concat_str(exprs)


def _empty_as_null(values: np.ndarray) -> pl.Series:
    series = pl.Series(values, dtype=pl.String)
    return series.set(series == "", None)


def floor_updated_at(frame: pl.DataFrame, floor_ms: int | None) -> pl.DataFrame:
    """Raise ``updated_at`` to the write time when appending to a populated database.

    A live platform stamps a row when it writes it; a row stamped earlier than the ingest's
    last watermark would never be read by an incremental run.
    """
    if floor_ms is None or "updated_at" not in frame.columns:
        return frame
    floor = pl.lit(floor_ms).cast(pl.Datetime("ms"))
    return frame.with_columns(pl.max_horizontal("updated_at", floor).alias("updated_at"))


def users_frame(rng: np.random.Generator, n: int, offset: int, now_ms: int) -> pl.DataFrame:
    """``n`` users with unique names continuing after ``offset`` (the highest user id so far)."""
    k = np.arange(offset + 1, offset + n + 1)
    created = now_ms - rng.integers(0, 120 * MS_PER_DAY, n)
    verified = rng.random(n) < 0.8
    return pl.DataFrame(
        {
            "username": [f"sim_user_{i}" for i in k],
            "email": [f"sim_user_{i}@example.com" for i in k],
            "full_name": [f"Simulated User {i}" for i in k],
            "is_active": rng.random(n) > 0.03,
            "is_verified": verified,
        }
    ).with_columns(
        _ms_col(created, "created_at"),
        _ms_col(created, "updated_at"),
        _ms_col(np.where(verified, created, -1), "email_verified_at"),
    )


def agents_frame(rng: np.random.Generator, n: int, offset: int, now_ms: int) -> pl.DataFrame:
    """``n`` agents: mostly approved or active, a few in draft, review or switched off."""
    k = np.arange(offset + 1, offset + n + 1)
    status = rng.choice(
        np.array(["active", "approved", "draft", "submitted", "inactive", "rejected"]),
        n,
        p=[0.62, 0.26, 0.04, 0.03, 0.03, 0.02],
    )
    pricing = rng.choice(np.array(["free", "per_use", "subscription"]), n, p=[0.4, 0.4, 0.2])
    price = np.where(pricing == "per_use", np.round(rng.uniform(0.01, 0.5, n), 3), np.nan)
    monthly = np.where(pricing == "subscription", np.round(rng.uniform(5, 50, n), 2), np.nan)
    created = now_ms - rng.integers(30 * MS_PER_DAY, 365 * MS_PER_DAY, n)
    adjective = rng.choice(np.array(_ADJECTIVES), n)
    noun = rng.choice(np.array(_NOUNS), n)
    category = rng.choice(np.array(CATEGORIES), n)
    return pl.DataFrame(
        {
            "name": [f"{a} {b} Agent {i}" for a, b, i in zip(adjective, noun, k, strict=True)],
            "description": [
                f"Simulated {b.lower()} agent #{i}" for b, i in zip(noun, k, strict=True)
            ],
            "version": "1.0.0",
            "author": [f"creator{i % 17}" for i in k],
            "email": [f"creator{i % 17}@example.com" for i in k],
            "entry_point": [f"agent_{i}.py:main" for i in k],
            "requirements": "[]",
            "tags": [f'["{c}", "simulated"]' for c in category],
            "category": category,
            "pricing_model": pricing,
            "price_per_use": pl.Series(price).fill_nan(None),
            "monthly_price": pl.Series(monthly).fill_nan(None),
            "status": status,
            "is_public": status != "draft",
        }
    ).with_columns(_ms_col(created, "created_at"), _ms_col(created, "updated_at"))


@dataclass
class HiringPlan:
    """The hirings one run adds, with each one's active window for executions."""

    frame: pl.DataFrame
    agent_index: np.ndarray  # index into the AgentProfiles arrays
    user_id: np.ndarray  # -1 for anonymous
    window_start_ms: np.ndarray
    window_end_ms: np.ndarray


def hirings_plan(
    rng: np.random.Generator,
    n: int,
    profiles: AgentProfiles,
    user_ids: np.ndarray,
    start_ms: int,
    end_ms: int,
) -> HiringPlan:
    """``n`` hirings of hireable agents by popularity; some expire, some were cancelled."""
    agent_index = rng.choice(len(profiles.ids), n, p=profiles.popularity)
    anonymous = rng.random(n) < 0.03
    user_id = np.where(anonymous, -1, rng.choice(user_ids, n)) if len(user_ids) else np.full(n, -1)
    span = end_ms - start_ms
    before = rng.random(n) < 0.6
    hired = np.where(
        before,
        start_ms - rng.integers(0, 30 * MS_PER_DAY, n),
        start_ms + (rng.random(n) * span * 0.9).astype(np.int64),
    )
    expiring = rng.random(n) < 0.35
    expires = np.where(expiring, hired + rng.integers(3 * MS_PER_DAY, 45 * MS_PER_DAY, n), -1)
    status = rng.choice(np.array(["active", "cancelled", "suspended"]), n, p=[0.9, 0.06, 0.04])
    # Cancelled and suspended hirings changed state at some point after they were hired.
    changed = hired + (rng.random(n) * np.maximum(end_ms - hired, 1)).astype(np.int64)
    stopped = status != "active"
    window_end = np.minimum(np.where(expiring, expires, end_ms), end_ms)
    window_end = np.where(stopped, np.minimum(window_end, changed), window_end)
    window_start = np.maximum(hired, start_ms)
    updated = np.where(stopped, changed, hired)
    cycle = rng.choice(np.array(["per_use", "monthly", "lifetime"]), n)
    frame = pl.DataFrame(
        {
            "agent_id": profiles.ids[agent_index],
            "user_id": _nullable(user_id),
            "status": status,
            "config": [
                f'{{"timeout": {t}, "priority": "{p}"}}'
                for t, p in zip(
                    rng.choice(np.array([10, 30, 60]), n),
                    rng.choice(np.array(["low", "normal", "high"]), n),
                    strict=True,
                )
            ],
            "billing_cycle": cycle,
        }
    ).with_columns(
        _ms_col(hired, "hired_at"),
        _ms_col(expires, "expires_at"),
        _ms_col(hired, "created_at"),
        _ms_col(updated, "updated_at"),
    )
    return HiringPlan(frame, agent_index, user_id, window_start, window_end)


def _rhythm_weight(ms: np.ndarray) -> np.ndarray:
    """Relative load by time of day (peak mid-afternoon UTC) and day of week (quiet weekends)."""
    hour = (ms % MS_PER_DAY) / MS_PER_HOUR
    weekday = ((ms // MS_PER_DAY) + 3) % 7  # 1970-01-01 was a Thursday; 5, 6 = Sat, Sun
    daily = 0.25 + 0.75 * np.exp(-(((hour - 14.0) / 4.5) ** 2))
    return daily * np.where(weekday >= 5, 0.6, 1.0)


def _times_in_windows(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A time in each [lo, hi) window, following the daily rhythm (rejection sampling)."""
    out = np.empty(len(lo), dtype=np.int64)
    todo = np.arange(len(lo))
    for _ in range(64):
        if not len(todo):
            break
        t = lo[todo] + (rng.random(len(todo)) * (hi[todo] - lo[todo])).astype(np.int64)
        accept = rng.random(len(todo)) < _rhythm_weight(t)
        out[todo[accept]] = t[accept]
        todo = todo[~accept]
    if len(todo):  # vanishingly rare: give up on the rhythm for the rest
        out[todo] = lo[todo]
    return out


@dataclass
class ExecutionContext:
    """What execution chunks are drawn from: hirings, agent profiles, period, id prefix."""

    plan: HiringPlan
    hiring_ids: np.ndarray
    profiles: AgentProfiles
    all_user_ids: np.ndarray
    start_ms: int
    end_ms: int
    run_key: str

    def __post_init__(self) -> None:
        usable = self.plan.window_end_ms > self.plan.window_start_ms
        # Per-hiring activity (some users run an agent far more than others). A generator of
        # its own, seeded by the plan, so it never shifts the main generator's sequence.
        activity = np.exp(np.random.default_rng(len(self.hiring_ids)).normal(0, 1, len(usable)))
        pop = self.profiles.popularity[self.plan.agent_index]
        counts = np.bincount(self.plan.agent_index, minlength=len(self.profiles.ids))
        weight = np.where(usable, activity * pop / counts[self.plan.agent_index], 0.0)
        self._hiring_p = weight / weight.sum() if weight.sum() > 0 else None


def executions_chunk(
    rng: np.random.Generator, ctx: ExecutionContext, first: int, n: int
) -> pl.DataFrame:
    """Executions number ``first`` .. ``first + n - 1`` of this run.

    Each belongs to a hiring (3% run directly, without one) and happens inside that hiring's
    active window at a time that follows the daily rhythm. Its outcome follows the agent's
    profile at that moment: degrading agents fail more and slow down as the period goes on,
    and agents that stopped sending heartbeats only time out afterwards.
    """
    prof, plan = ctx.profiles, ctx.plan
    span = ctx.end_ms - ctx.start_ms
    direct = (rng.random(n) < 0.03) | (ctx._hiring_p is None)
    h = (
        rng.choice(len(ctx.hiring_ids), n, p=ctx._hiring_p)
        if ctx._hiring_p is not None
        else (np.zeros(n, dtype=np.int64))
    )
    direct_agent = rng.choice(len(prof.ids), n, p=prof.popularity)
    agent_idx = np.where(direct, direct_agent, plan.agent_index[h])
    lo = np.where(direct, ctx.start_ms, plan.window_start_ms[h])
    hi = np.where(direct, ctx.end_ms, plan.window_end_ms[h])
    created = _times_in_windows(rng, lo, hi)
    hiring_id = np.where(direct, -1, ctx.hiring_ids[h])
    random_user = rng.choice(ctx.all_user_ids, n) if len(ctx.all_user_ids) else np.full(n, -1)
    user_id = np.where(direct, np.where(rng.random(n) < 0.2, -1, random_user), plan.user_id[h])

    frac = np.clip((created - ctx.start_ms) / span, 0.0, 1.0)
    degrade = prof.degrading[agent_idx]
    p_fail = prof.failure_rate[agent_idx] + np.where(degrade, 0.35 * frac, 0.0)
    p_timeout = prof.timeout_rate[agent_idx] + np.where(degrade, 0.10 * frac, 0.0)
    u = rng.random(n)
    status = np.full(n, "completed", dtype="<U9")
    status[u < p_fail + p_timeout + 0.02] = "cancelled"
    status[u < p_fail + p_timeout] = "timeout"
    status[u < p_fail] = "failed"
    dead_at = prof.dead_at[agent_idx].astype("datetime64[ms]").astype(np.int64)
    is_dead = (~np.isnat(prof.dead_at[agent_idx])) & (created >= dead_at)
    status[is_dead] = "timeout"
    # Work still in flight at the end of the period.
    age = ctx.end_ms - created
    status[age < 60_000] = "running"
    status[age < 5_000] = "pending"

    queue_ms = rng.exponential(200, n).astype(np.int64) + 1
    started = created + queue_ms
    median = prof.median_latency_ms[agent_idx] * np.where(degrade, 1 + 1.5 * frac, 1.0)
    duration = np.exp(rng.normal(np.log(median), 0.5)).astype(np.int64) + 1
    timeout_ms = prof.timeout_ms[agent_idx]
    duration = np.where(status == "timeout", timeout_ms, np.minimum(duration, timeout_ms - 1))
    cancelled_early = (status == "cancelled") & (rng.random(n) < 0.5)
    duration = np.where(
        status == "cancelled", (duration * rng.random(n)).astype(np.int64) + 1, duration
    )
    finished = np.isin(status, ["completed", "failed", "timeout", "cancelled"])
    has_started = (status != "pending") & ~cancelled_early
    started = np.where(has_started, started, -1)
    completed = np.where(
        finished, np.where(cancelled_early, created + queue_ms, started + duration), -1
    )
    duration = np.where(finished & has_started, duration, -1)
    updated = np.maximum(np.maximum(created, started), completed)

    cpu = np.clip(rng.normal(prof.cpu_base[agent_idx], 8.0), 0.5, 100.0).round(2)
    memory = (prof.memory_base[agent_idx] * np.exp(rng.normal(0, 0.25, n))).round(1)
    disk = rng.exponential(5.0, n).round(2)
    ran = finished & has_started
    seq = np.arange(first, first + n)
    error = np.full(n, "", dtype="<U64")
    failed = status == "failed"
    error[failed] = rng.choice(np.array(ERROR_MESSAGES), int(failed.sum()))
    timed_out = status == "timeout"
    error[timed_out] = np.char.add(
        np.char.add("execution timed out after ", (timeout_ms[timed_out] // 1000).astype(str)),
        "s",
    )
    words = rng.integers(1, 400, n)
    frame = pl.DataFrame(
        {
            "agent_id": prof.ids[agent_idx],
            "hiring_id": _nullable(hiring_id),
            "user_id": _nullable(user_id),
            "status": pl.Series(status),
            "duration_ms": _nullable(duration),
            "seq": seq,
            "words": words,
            "error_message": _empty_as_null(error),
            "cpu_usage": pl.Series(np.where(ran, cpu, np.nan)).fill_nan(None),
            "memory_usage": pl.Series(np.where(ran, memory, np.nan)).fill_nan(None),
            "disk_usage": pl.Series(np.where(ran, disk, np.nan)).fill_nan(None),
            "acp": rng.random(n) < 0.5,
        }
    )
    return frame.with_columns(
        _ms_col(started, "started_at"),
        _ms_col(completed, "completed_at"),
        _ms_col(created, "created_at"),
        _ms_col(updated, "updated_at"),
        _text('{"message": "task ', "seq", '", "words": ', "words", "}").alias("input_data"),
        pl.when(pl.col("status") == "completed")
        .then(_text('{"response": "done ', "seq", '", "tokens": ', pl.col("words") * 3, "}"))
        .alias("output_data"),
        pl.format("sim_{}_{}", pl.lit(ctx.run_key), "seq").alias("execution_id"),
        pl.when("acp")
        .then(pl.format("acp_{}_{}", pl.lit(ctx.run_key), "seq"))
        .alias("acp_session_id"),
    ).drop("seq", "words", "acp")


def metrics_frame(
    rng: np.random.Generator,
    profiles: AgentProfiles,
    agent_index: int,
    start_ms: int,
    end_ms: int,
    interval_minutes: int,
) -> pl.DataFrame:
    """One agent's metric series (cpu, memory, queue depth, heartbeat) over the period.

    Dead agents stop reporting at their time of death; degrading agents leak memory.
    """
    step = interval_minutes * 60_000
    stop = end_ms
    dead_at = profiles.dead_at[agent_index]
    if not np.isnat(dead_at):
        stop = min(stop, int(dead_at.astype(np.int64)))
    times = np.arange(start_ms + step, stop + 1, step, dtype=np.int64)
    m = len(times)
    frac = (times - start_ms) / max(end_ms - start_ms, 1)
    rhythm = _rhythm_weight(times)
    cpu = np.clip(profiles.cpu_base[agent_index] * (0.5 + rhythm) + rng.normal(0, 4, m), 0, 100)
    leak = 1 + (1.2 * frac if profiles.degrading[agent_index] else 0.05 * frac)
    memory = profiles.memory_base[agent_index] * leak * np.exp(rng.normal(0, 0.05, m))
    queue = rng.poisson(3 * rhythm * (1 + profiles.popularity[agent_index] * 20))
    values = np.concatenate([cpu.round(2), memory.round(1), queue.astype(float), np.ones(m)])
    names = np.repeat(np.array(METRIC_NAMES), m)
    host = f"node-{int(profiles.ids[agent_index]) % 8}"
    return pl.DataFrame(
        {
            "agent_id": np.full(4 * m, profiles.ids[agent_index], dtype=np.int64),
            "metric_name": names,
            "metric_value": values,
            "tags": f'{{"host": "{host}", "region": "eu-west-1"}}',
        }
    ).with_columns(_ms_col(np.tile(times, 4), "recorded_at"))


def reviews_frame(
    rng: np.random.Generator,
    plan: HiringPlan,
    profiles: AgentProfiles,
    share: float,
    taken: set[tuple[int, int]],
    start_ms: int,
    end_ms: int,
) -> pl.DataFrame:
    """Reviews by hiring users, one per (agent, user) not already ``taken``.

    Ratings follow the agent's reliability at review time, so bad agents get bad reviews.
    """
    rows: dict[str, list] = {k: [] for k in ("agent_id", "reviewer_id", "rating", "comment", "at")}
    pick = np.flatnonzero((rng.random(len(plan.user_id)) < share) & (plan.user_id >= 0))
    for i in pick:
        agent_id, user_id = int(profiles.ids[plan.agent_index[i]]), int(plan.user_id[i])
        lo, hi = max(plan.window_start_ms[i], start_ms), min(plan.window_end_ms[i], end_ms)
        if (agent_id, user_id) in taken or hi <= lo:
            continue
        taken.add((agent_id, user_id))
        at = int(lo + rng.random() * (hi - lo))
        a = plan.agent_index[i]
        frac = (at - start_ms) / max(end_ms - start_ms, 1)
        fail = profiles.failure_rate[a] + (0.35 * frac if profiles.degrading[a] else 0.0)
        rating = int(np.clip(np.rint(5.2 - 10 * fail + rng.normal(0, 0.7)), 1, 5))
        rows["agent_id"].append(agent_id)
        rows["reviewer_id"].append(user_id)
        rows["rating"].append(rating)
        rows["comment"].append(
            ("Unreliable." if rating <= 2 else "Does the job.")
            if rating < 5
            else "Excellent agent."
        )
        rows["at"].append(at)
    at = np.array(rows.pop("at"), dtype=np.int64)
    frame = pl.DataFrame(
        rows,
        schema={
            "agent_id": pl.Int64,
            "reviewer_id": pl.Int64,
            "rating": pl.Int64,
            "comment": pl.String,
        },
    )
    return frame.with_columns(
        pl.lit(True).alias("is_public"), _ms_col(at, "created_at"), _ms_col(at, "updated_at")
    ).sort("created_at")
