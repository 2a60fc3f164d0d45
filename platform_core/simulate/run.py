"""The workload simulator: fill a platform database with a realistic, seeded history.

Order of work: users, agents, hirings, executions (in batches), reviews, metric series, then
optional bad rows. Each batch is one transaction that also moves the denormalised counters by
exactly what it added, so the counters stay right at every commit and a second run on a
populated database adds to them instead of failing or recounting.

Generation of the next execution batch overlaps with writing the current one (Polars and
NumPy release the GIL, and so does psycopg while the server works).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import polars as pl
from sqlalchemy import Engine

from platform_core.migrate import current_revision, head_revision
from platform_core.models import utcnow
from platform_core.simulate.bad_rows import write_bad_rows
from platform_core.simulate.generate import (
    ExecutionContext,
    agents_frame,
    executions_chunk,
    floor_updated_at,
    hirings_plan,
    metrics_frame,
    reviews_frame,
    to_ms,
    users_frame,
)
from platform_core.simulate.profiles import AgentProfiles, SimulationConfig, period
from platform_core.simulate.writers import BulkWriter, Encoded, Increment, open_writer

#: progress(label, done, total) — called as each batch commits.
Progress = Callable[[str, int, int], None]


@dataclass
class SimulationReport:
    """What one run wrote, and how fast."""

    start: datetime
    end: datetime
    rows: dict[str, int] = field(default_factory=dict)
    bad_rows: dict[str, int] = field(default_factory=dict)
    skipped_bad_rows: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    execution_seconds: float = 0.0

    @property
    def executions_per_second(self) -> float:
        """Executions written per second of the execution phase (generation included)."""
        n = self.rows.get("executions", 0)
        return n / self.execution_seconds if self.execution_seconds else 0.0


class NotMigratedError(RuntimeError):
    """The database is not at the schema the simulator writes."""


def simulate(
    engine: Engine, config: SimulationConfig, progress: Progress | None = None
) -> SimulationReport:
    """Write one simulated history into the platform database behind ``engine``."""
    config.validate()
    revision = current_revision(engine)
    if revision != head_revision():
        raise NotMigratedError(
            f"the platform database is at revision {revision or 'none'}, not"
            f" {head_revision()}: run `agenthub db init` first"
        )
    tick = progress or (lambda _label, _done, _total: None)
    began = time.perf_counter()
    start, end = period(config)
    start_ms, end_ms = to_ms(start), to_ms(end)
    rng = np.random.default_rng(config.seed)
    report = SimulationReport(start=start, end=end)
    writer = open_writer(engine)
    try:
        # Appending to a populated database: stamp updated_at no earlier than the write, as a
        # live platform would, so that incremental ingest (by updated_at) sees the new rows.
        populated = bool(
            writer.scalar("SELECT COUNT(*) FROM (SELECT 1 FROM executions LIMIT 1) AS t")
        )
        floor_ms = to_ms(utcnow()) if populated else None

        users = users_frame(rng, config.users, _max_id(writer, "users"), end_ms)
        with writer.transaction():
            writer.insert_with_ids("users", floor_updated_at(users, floor_ms))
        report.rows["users"] = users.height

        agents = agents_frame(rng, config.agents, _max_id(writer, "agents"), end_ms)
        with writer.transaction():
            writer.insert_with_ids("agents", floor_updated_at(agents, floor_ms))
        report.rows["agents"] = agents.height

        hireable = writer.fetch(
            "SELECT id, price_per_use FROM agents WHERE status IN ('approved', 'active')"
            " ORDER BY id"
        )
        user_ids = np.array(
            [r[0] for r in writer.fetch("SELECT id FROM users WHERE is_active ORDER BY id")],
            dtype=np.int64,
        )
        if not hireable:
            raise ValueError("no approved or active agent to simulate activity for")
        profiles = AgentProfiles.draw(
            rng,
            np.array([r[0] for r in hireable], dtype=np.int64),
            np.array([r[1] or 0.0 for r in hireable]),
            config,
            end,
        )

        plan = hirings_plan(rng, config.hirings, profiles, user_ids, start_ms, end_ms)
        with writer.transaction():
            hiring_ids = writer.insert_with_ids("hirings", floor_updated_at(plan.frame, floor_ms))
            _add_counts(
                writer,
                "agents",
                "total_hires",
                plan.frame["agent_id"],
                floor_ms,
                plan.frame["created_at"],
            )
        report.rows["hirings"] = len(hiring_ids)
        tick("hirings", len(hiring_ids), len(hiring_ids))

        run_key = f"{config.seed}x{hiring_ids[0] if len(hiring_ids) else 0}"
        ctx = ExecutionContext(plan, hiring_ids, profiles, user_ids, start_ms, end_ms, run_key)
        t0 = time.perf_counter()
        report.rows["executions"] = _write_executions(writer, rng, ctx, config, floor_ms, tick)
        report.execution_seconds = time.perf_counter() - t0

        taken = {(a, u) for a, u in writer.fetch("SELECT agent_id, reviewer_id FROM agent_reviews")}
        reviews = reviews_frame(rng, plan, profiles, config.review_share, taken, start_ms, end_ms)
        with writer.transaction():
            writer.insert("agent_reviews", floor_updated_at(reviews, floor_ms))
            _refresh_ratings(writer, reviews["agent_id"].unique().to_list())
        report.rows["agent_reviews"] = reviews.height
        tick("reviews", reviews.height, reviews.height)

        report.rows["agent_metrics"] = _write_metrics(
            writer, rng, profiles, config, start_ms, end_ms, tick
        )
        if config.bad_rows:
            report.bad_rows, report.skipped_bad_rows = write_bad_rows(
                writer, ctx, config.bad_rows, config.seed, floor_ms
            )
    finally:
        writer.close()
    report.seconds = time.perf_counter() - began
    return report


def _max_id(writer: BulkWriter, table: str) -> int:
    return int(writer.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}") or 0)


def _as_datetime(ms: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(milliseconds=int(ms))


def _add_counts(
    writer: BulkWriter,
    table: str,
    column: str,
    keys: pl.Series,
    floor_ms: int | None,
    times: pl.Series,
    last_column: str | None = None,
) -> None:
    """``column += n`` per key (and ``last_column`` = latest time), raising ``updated_at``."""
    grouped = (
        pl.DataFrame({"key": keys, "t": times.cast(pl.Int64)})
        .drop_nulls("key")
        .group_by("key")
        .agg(pl.len().alias("n"), pl.col("t").max().alias("last"))
        .sort("key")
    )
    rows = [
        Increment(key, n, _as_datetime(last), _as_datetime(max(last, floor_ms or 0)))
        for key, n, last in grouped.iter_rows()
    ]
    writer.increment(table, column, rows, last_column)


def _write_executions(
    writer: BulkWriter,
    rng: np.random.Generator,
    ctx: ExecutionContext,
    config: SimulationConfig,
    floor_ms: int | None,
    tick: Progress,
) -> int:
    total, batch = config.executions, config.batch_size
    if not total:
        return 0
    starts = list(range(0, total, batch))

    def make(first: int) -> tuple[pl.DataFrame, Encoded]:
        chunk = executions_chunk(rng, ctx, first, min(batch, total - first))
        frame = floor_updated_at(chunk, floor_ms)
        return frame.select("agent_id", "hiring_id", "created_at"), writer.encode(frame)

    def count(keys: pl.DataFrame) -> None:
        _add_counts(
            writer, "agents", "total_executions", keys["agent_id"], floor_ms, keys["created_at"]
        )
        _add_counts(
            writer,
            "hirings",
            "total_executions",
            keys["hiring_id"],
            floor_ms,
            keys["created_at"],
            last_column="last_executed_at",
        )

    done, counted = 0, []
    with writer.bulk_load("executions", total) as one_transaction, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(make, starts[0])
        for i in range(len(starts)):
            keys, encoded = pending.result()
            # Draw and encode the next batch while this one is written; the generator is used
            # by one thread at a time and in batch order, so the rows stay deterministic.
            if i + 1 < len(starts):
                pending = pool.submit(make, starts[i + 1])
            with writer.transaction():
                writer.insert("executions", encoded)
                if one_transaction:
                    counted.append(keys)  # counters move once, at the end of the transaction
                else:
                    count(keys)
            done += encoded.height
            tick("executions", done, total)
        if counted:
            count(pl.concat(counted))
    return done


def _refresh_ratings(writer: BulkWriter, agent_ids: list[int]) -> None:
    writer.execute_many(
        "UPDATE agents SET average_rating = COALESCE("
        "(SELECT AVG(rating) FROM agent_reviews r WHERE r.agent_id = agents.id), 0.0)"
        " WHERE id = ?",
        [(a,) for a in agent_ids],
    )


def _write_metrics(
    writer: BulkWriter,
    rng: np.random.Generator,
    profiles: AgentProfiles,
    config: SimulationConfig,
    start_ms: int,
    end_ms: int,
    tick: Progress,
) -> int:
    """Each agent's series, in batches; ``last_heartbeat_at`` follows the newest heartbeat."""
    n_agents = len(profiles.ids)
    written, buffered = 0, []
    for i in range(n_agents):
        buffered.append(
            metrics_frame(rng, profiles, i, start_ms, end_ms, config.metric_interval_minutes)
        )
        if sum(f.height for f in buffered) >= config.batch_size or i == n_agents - 1:
            frame = pl.concat(buffered)
            buffered = []
            beats = (
                frame.filter(pl.col("metric_name") == "heartbeat")
                .group_by("agent_id")
                .agg(pl.col("recorded_at").max())
            )
            with writer.transaction():
                writer.insert("agent_metrics", frame)
                writer.execute_many(
                    "UPDATE agents SET last_heartbeat_at = ?,"
                    " updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END"
                    " WHERE id = ? AND (last_heartbeat_at IS NULL OR last_heartbeat_at < ?)",
                    [(t, t, t, a, t) for a, t in beats.iter_rows()],
                )
            written += frame.height
            tick("metric points", i + 1, n_agents)
    return written
