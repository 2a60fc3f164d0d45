"""Bad data of the kinds a real platform accumulates (the README's workload simulator section).

Written only where the database lets it in: PostgreSQL's ``json`` type refuses malformed JSON,
and both databases refuse duplicate ``execution_id``s, so those kinds are skipped there with
the reason. The rows bypass the service layer (they come from buggy clients), so they do not
move the denormalised counters either; the warehouse must quarantine them, not crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import polars as pl

from platform_core.simulate.generate import ExecutionContext, executions_chunk, floor_updated_at
from platform_core.simulate.writers import BulkWriter, PostgresWriter, SqliteWriter

ORPHAN_ID = 2_000_000_000


def _invalid_json(f: pl.DataFrame) -> pl.DataFrame:
    # Truncated text: the closing quote and brace never arrived.
    return f.with_columns(
        pl.concat_str([pl.lit('{"message": "task '), pl.col("execution_id")]).alias("input_data")
    )


def _negative_duration(f: pl.DataFrame) -> pl.DataFrame:
    return _completed(f).with_columns(pl.lit(-1500).alias("duration_ms"))


def _completed_before_started(f: pl.DataFrame) -> pl.DataFrame:
    f = _completed(f)
    return f.with_columns((pl.col("started_at") - pl.duration(minutes=5)).alias("completed_at"))


def _unknown_status(f: pl.DataFrame) -> pl.DataFrame:
    return f.with_columns(pl.lit("succeeded").alias("status"))


def _orphaned_agent(f: pl.DataFrame) -> pl.DataFrame:
    return f.with_columns(pl.lit(ORPHAN_ID).alias("agent_id"), pl.lit(None).alias("hiring_id"))


def _future_timestamp(f: pl.DataFrame) -> pl.DataFrame:
    shift = pl.duration(days=30)
    return _completed(f).with_columns(
        (pl.col(c) + shift).alias(c)
        for c in ("created_at", "started_at", "completed_at", "updated_at")
    )


def _null_completed_at(f: pl.DataFrame) -> pl.DataFrame:
    return _completed(f).with_columns(pl.lit(None).cast(pl.Datetime("ms")).alias("completed_at"))


def _completed(f: pl.DataFrame) -> pl.DataFrame:
    """Make the template rows plain completed executions with a start and an end."""
    started = pl.coalesce("started_at", "created_at")
    return f.with_columns(
        pl.lit("completed").alias("status"),
        started.alias("started_at"),
        (started + pl.duration(milliseconds=800)).alias("completed_at"),
        pl.lit(800).alias("duration_ms"),
        pl.lit(None, dtype=pl.String).alias("error_message"),
    )


EXECUTION_KINDS: dict[str, Callable[[pl.DataFrame], pl.DataFrame]] = {
    "invalid_json": _invalid_json,
    "negative_duration": _negative_duration,
    "completed_before_started": _completed_before_started,
    "unknown_status": _unknown_status,
    "orphaned_agent": _orphaned_agent,
    "future_timestamp": _future_timestamp,
    "null_completed_at": _null_completed_at,
}
KINDS = (*EXECUTION_KINDS, "duplicate_metric_point", "duplicate_execution_id")


def write_bad_rows(
    writer: BulkWriter, ctx: ExecutionContext, n: int, seed: int, floor_ms: int | None = None
) -> tuple[dict[str, int], dict[str, str]]:
    """Write ``n`` bad rows spread over the kinds; return (written per kind, skipped kinds).

    ``floor_ms``: when appending, the write time, the least ``updated_at`` a row may carry.
    """
    skipped: dict[str, str] = {
        "duplicate_execution_id": "the unique index on executions.execution_id refuses it"
    }
    is_pg = isinstance(writer, PostgresWriter)
    if is_pg:
        skipped["invalid_json"] = "PostgreSQL's json type refuses malformed JSON"
        if not writer.scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            skipped["orphaned_agent"] = "foreign keys are enforced and the role cannot skip them"
    kinds = [k for k in KINDS if k not in skipped]
    per_kind = {k: n // len(kinds) + (1 if i < n % len(kinds) else 0) for i, k in enumerate(kinds)}
    rng = np.random.default_rng(seed + 7919)
    written: dict[str, int] = {}
    for kind, count in per_kind.items():
        if not count:
            continue
        if kind == "duplicate_metric_point":
            _duplicate_metric_points(writer, count)
        else:
            template = executions_chunk(rng, ctx, 0, count).with_columns(
                pl.format(
                    "bad_{}_{}_{}", pl.lit(ctx.run_key), pl.lit(kind), pl.int_range(pl.len())
                ).alias("execution_id")
            )
            _write_without_fk(
                writer,
                floor_updated_at(EXECUTION_KINDS[kind](template), floor_ms),
                disable_fk=kind == "orphaned_agent",
            )
        written[kind] = count
    return written, skipped


def _duplicate_metric_points(writer: BulkWriter, count: int) -> None:
    """Re-send the latest points: same agent, name, time, value and tags, new ids."""
    rows = writer.fetch(
        "SELECT agent_id, metric_name, metric_value, recorded_at, tags FROM agent_metrics"
        " ORDER BY id DESC LIMIT ?",
        (count,),
    )
    with writer.transaction():
        writer.execute_many(
            "INSERT INTO agent_metrics (agent_id, metric_name, metric_value, recorded_at, tags)"
            " VALUES (?, ?, ?, ?, ?)",
            [(*r[:4], r[4] if isinstance(r[4], str | None) else _json(r[4])) for r in rows],
        )


def _json(value: object) -> str:
    return json.dumps(value)


def _write_without_fk(writer: BulkWriter, frame: pl.DataFrame, *, disable_fk: bool) -> None:
    if isinstance(writer, SqliteWriter) and disable_fk:
        # A client that never turned SQLite's foreign keys on (the per-connection default).
        writer.conn.execute("PRAGMA foreign_keys=OFF")
        try:
            with writer.transaction():
                writer.insert("executions", frame)
        finally:
            writer.conn.execute("PRAGMA foreign_keys=ON")
        return
    with writer.transaction():
        if disable_fk:
            # Replica mode skips FK triggers, as logical replication or a restore would.
            writer.execute("SET LOCAL session_replication_role = replica")
        writer.insert("executions", frame)
