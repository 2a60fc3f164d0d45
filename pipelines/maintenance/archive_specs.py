"""What the maintenance archives: one :class:`ArchiveSpec` per platform table (which rows are
old, which the warehouse holds and may therefore leave the platform, how the files are
partitioned). pipelines/maintenance/archive.py archives and purges by these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from sqlalchemy import ColumnElement, func

from pipelines.ingest.tables import SOURCE_TABLES
from platform_core.models import AgentMetric, Execution
from platform_core.statuses import TERMINAL_EXECUTION_STATUSES

#: The statuses an execution ends in: only those are archived (pending and running never).
TERMINAL = tuple(sorted(TERMINAL_EXECUTION_STATUSES))
_ARROW = {
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
}


class ArchiveError(RuntimeError):
    """The archive and the platform disagree in a way no crash explains; nothing is deleted."""


@dataclass(frozen=True)
class ArchiveSpec:
    """One platform table the maintenance archives: which rows are old, which the warehouse
    holds (and so may leave the platform), and how its files are partitioned."""

    table: str
    model: type
    #: The timestamp whose month is the Hive partition.
    month_column: str
    #: Rows older than the cutoff (SQLAlchemy), given the cutoff.
    old: Callable[[datetime], ColumnElement[bool]]
    #: The same condition in PostgreSQL SQL, the cutoff written ``$cutoff`` (ADBC path).
    old_sql: str
    #: Columns read to decide which rows are held (the month column among them).
    key_columns: tuple[str, ...]
    #: DuckDB: the ids of ``_archive_batch`` (key columns) the warehouse holds, in id order.
    held_sql: str
    #: DuckDB, run once before the batches with ``$cutoff``: what ``held_sql`` looks up.
    prepare_sql: str | None = None
    #: The warehouse relations those read: until the pipeline has built them (a new or
    #: rebuilt warehouse), nothing can be known to be held, so nothing is archived.
    requires: tuple[str, ...] = ()

    @property
    def key_schema(self) -> pa.Schema:
        """The key columns, typed."""
        return pa.schema([self.schema.field(c) for c in self.key_columns])

    @property
    def schema(self) -> pa.Schema:
        """Every platform column of the table, typed as the raw layer types them."""
        return pa.schema([(n, _ARROW[k]) for n, k in SOURCE_TABLES[self.table].columns])

    @property
    def view(self) -> str:
        """The warehouse view over its archived (listed, purged) files."""
        return f"ops.archived_{self.table}"


EXECUTIONS = ArchiveSpec(
    table="executions",
    model=Execution,
    month_column="created_at",
    old=lambda cutoff: (
        Execution.status.in_(TERMINAL)
        & (func.coalesce(Execution.completed_at, Execution.created_at) < cutoff)
    ),
    old_sql=f"status IN ({', '.join(repr(str(t)) for t in TERMINAL)})"
    " AND COALESCE(completed_at, created_at) < $cutoff",
    key_columns=("id", "updated_at", "created_at"),
    requires=("raw.executions",),
    # Same id and updated_at: the warehouse has the row as it is now.
    held_sql="select b.id from _archive_batch as b"
    " join raw.executions as r on r.id = b.id and r.updated_at = b.updated_at order by b.id",
)

AGENT_METRICS = ArchiveSpec(
    table="agent_metrics",
    model=AgentMetric,
    month_column="recorded_at",
    old=lambda cutoff: AgentMetric.recorded_at < cutoff,
    old_sql="recorded_at < $cutoff",
    key_columns=("id", "agent_id", "metric_name", "recorded_at"),
    requires=(
        "raw.agent_metrics",
        "intermediate.quarantine",
        "intermediate.valid_agent_metrics",
        "marts.metrics_rollup_hourly",
        "marts.metrics_rollup_daily",
    ),
    # Ingested, and either quarantined (no rollup counts it) or in a bucket both rollups have
    # counted: the hourly and daily buckets hold as many samples as the warehouse has valid
    # points for them, so the rollups were built after the point arrived and keep it for ever.
    # The complete buckets are found once per run (one pass over the points before the
    # cutoff's hour and day), each batch then looks its points up.
    prepare_sql="""
create or replace temp table _archive_rolled_hours as
with
hours as (
    select agent_id, metric_name, date_trunc('hour', recorded_at) as bucket_start,
           count(*) as points
    from intermediate.valid_agent_metrics
    where recorded_at < date_trunc('hour', $cutoff::timestamp) + interval 1 hour
    group by all
),
days as (
    select agent_id, metric_name, date_trunc('day', recorded_at) as bucket_start,
           count(*) as points
    from intermediate.valid_agent_metrics
    where recorded_at < date_trunc('day', $cutoff::timestamp) + interval 1 day
    group by all
),
hours_done as (
    select h.agent_id, h.metric_name, h.bucket_start
    from hours as h
    join marts.metrics_rollup_hourly as r using (agent_id, metric_name, bucket_start)
    where r.samples = h.points
),
days_done as (
    select d.agent_id, d.metric_name, d.bucket_start
    from days as d
    join marts.metrics_rollup_daily as r using (agent_id, metric_name, bucket_start)
    where r.samples = d.points
)
select h.agent_id, h.metric_name, h.bucket_start
from hours_done as h
join days_done as d
  on d.agent_id = h.agent_id and d.metric_name = h.metric_name
 and d.bucket_start = date_trunc('day', h.bucket_start)
""",
    held_sql="""
select b.id
from _archive_batch as b
join raw.agent_metrics as r using (id)
left join _archive_rolled_hours as h
  on h.agent_id = b.agent_id and h.metric_name = b.metric_name
 and h.bucket_start = date_trunc('hour', b.recorded_at)
where h.agent_id is not null
   or b.id in (select row_key from intermediate.quarantine where table_name = 'agent_metrics')
order by b.id
""",
)


SPECS = (EXECUTIONS, AGENT_METRICS)
