"""Every query the dashboards run, in one place, against the published warehouse only.

Readers never see a lock (README): the pipeline and the maintenance job work in their own
file and publish it by renaming it over ``WAREHOUSE_PATH``. This module opens that path read
only; a connection keeps reading the snapshot it opened even when a newer one is renamed over
it, so a page that is rendering during a publish finishes on the old snapshot.

Results are cached with ``st.cache_data`` keyed on the published file's modification time
(:class:`Snapshot`): new data shows on the next rerun after a publish, without a restart, and
an unchanged file is never queried twice for the same figures. All SQL is fixed text with
bound parameters; values a user picks (dates, agent ids, a metric name) are only ever bound.

Outside a Streamlit server (tests, the concurrency test's reader processes, the bench) the
caches still work, in memory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

DEFAULT_WAREHOUSE_PATH = "data/warehouse.duckdb"

#: Relations and columns the pages read: a warehouse without them was built by an older
#: version of the pipeline (or never finished a run) and gets a message, not a traceback.
REQUIRED: dict[str, tuple[str, ...]] = {
    "marts.executions_all": ("id", "agent_id", "user_id", "status", "duration_ms", "created_at"),
    "marts.agent_usage_daily": ("agent_id", "day", "executions", "revenue", "p95_duration_ms"),
    "marts.agent_usage_summary": ("agent_id", "agent_name", "trust_score", "average_rating"),
    "marts.agent_trust": ("agent_id", "trust_score"),
    "marts.trust_events": ("record_id", "agent_id", "trust_delta", "seq", "occurred_at"),
    "marts.agent_liveness": ("agent_id", "minutes_since_heartbeat"),
    "marts.agent_alerts": ("agent_id", "rule", "observed", "detail"),
    "marts.execution_durations": ("day", "agent_id", "duration_ms"),
    "marts.duration_histogram_daily": ("day", "duration_ms", "executions"),
    "marts.user_activity_daily": ("day", "user_id"),
    "marts.agent_trust_daily": ("agent_id", "day", "score_before", "score_after", "events"),
    "marts.metrics_rollup_hourly": ("agent_id", "metric_name", "bucket_start", "p95"),
    "marts.metrics_rollup_daily": ("agent_id", "metric_name", "bucket_start", "p95"),
    "marts.data_quality": ("checked_at", "table_name", "rule", "quarantined_rows"),
    "marts.quarantine": ("table_name", "row_key", "rule", "detail"),
    "ops.watermarks": ("table_name", "updated_at"),
}
#: Written by the maintenance job: until it has run, the Maintenance page says so.
MAINTENANCE_TABLES = (
    "marts.maintenance_runs",
    "marts.archive_months",
    "marts.expired_hirings",
    "marts.counter_drift",
    "marts.orphans",
    "marts.table_health",
)
#: Platform tables whose newest ingested row dates the data (ops.watermarks).
SOURCE_TABLES = ("agents", "users", "hirings", "executions", "agent_reviews", "agent_metrics")
#: Granularity -> rollup table; the only way a table name reaches SQL.
ROLLUPS = {"hour": "marts.metrics_rollup_hourly", "day": "marts.metrics_rollup_daily"}


def warehouse_path() -> Path:
    """The published warehouse (``WAREHOUSE_PATH``, default ``data/warehouse.duckdb``)."""
    return Path(os.environ.get("WAREHOUSE_PATH", DEFAULT_WAREHOUSE_PATH))


@dataclass(frozen=True)
class Snapshot:
    """One published version of the warehouse: its path and modification time (the cache key)."""

    path: str
    mtime_ns: int

    @property
    def published_at(self) -> datetime:
        """When it was published (UTC, naive like the warehouse's timestamps)."""
        return datetime.utcfromtimestamp(self.mtime_ns / 1e9)


def snapshot(path: Path | None = None) -> Snapshot | None:
    """The current published snapshot, or None when there is no file."""
    path = path or warehouse_path()
    try:
        return Snapshot(str(path.resolve()), path.stat().st_mtime_ns)
    except FileNotFoundError:
        return None


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    """One read-only connection per snapshot, shared by the sessions (each query takes its own
    cursor). Two entries: a page still rendering on the previous snapshot keeps working; the
    older connection is closed when evicted, so its file is freed.

    The file is ATTACHed to a fresh in-memory database rather than opened with
    ``duckdb.connect(path)``: DuckDB caches one database instance per path in a process, so a
    second connect while the first is open returns the *old* snapshot after a publish has
    renamed a new file over the path (duckdb/duckdb#15912). The attach happens after the
    snapshot's stat, so what it reads is never older than its cache key.
    """
    con = duckdb.connect()
    con.execute(f"attach '{path.replace(chr(39), chr(39) * 2)}' as warehouse (read_only)")
    return con


@st.cache_data(max_entries=512, show_spinner=False)
def _query(
    path: str, mtime_ns: int, sql: str, params: tuple[tuple[str, object], ...]
) -> pd.DataFrame:
    with _connection(path, mtime_ns).cursor() as cur:
        cur.execute("use warehouse")  # a cursor starts in the in-memory default database
        return cur.execute(sql, {k: list(v) if isinstance(v, tuple) else v for k, v in params}).df()


def query(snap: Snapshot, sql: str, **params: object) -> pd.DataFrame:
    """Run fixed ``sql`` with its ``$name`` parameters bound from ``params``; cached per
    snapshot (lists are bound as DuckDB lists)."""
    bound = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _query(snap.path, snap.mtime_ns, sql, bound)


# --- What the warehouse holds ---------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseState:
    """Whether the pages can render: ``ready``, or why not and what to run."""

    status: str  # ready | missing | empty | outdated | unreadable
    message: str
    missing: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        """The pages can render."""
        return self.status == "ready"


RUN_FIRST = "agenthub pipeline run"


def state(snap: Snapshot | None) -> WarehouseState:
    """Check the published file before any page queries it."""
    if snap is None:
        return WarehouseState(
            "missing",
            f"There is no published warehouse at `{warehouse_path()}` yet. Run the pipeline "
            f"first: `{RUN_FIRST}` (or `make demo` for a simulated platform).",
        )
    try:
        columns = query(
            snap,
            "select schema_name || '.' || table_name as relation, column_name"
            " from duckdb_columns()"
            " where database_name = 'warehouse' and schema_name in ('marts', 'ops')",
        )
    except duckdb.Error as error:
        return WarehouseState(
            "unreadable",
            f"The file at `{snap.path}` is not a readable DuckDB warehouse ({error}). "
            f"Run the pipeline to publish it again: `{RUN_FIRST}`.",
        )
    have = columns.groupby("relation")["column_name"].agg(set).to_dict()
    if not have:
        return WarehouseState(
            "empty",
            f"The warehouse at `{snap.path}` is empty. Run the pipeline first: `{RUN_FIRST}`.",
        )
    missing = tuple(
        f"{relation}({', '.join(c for c in cols if c not in have.get(relation, set()))})"
        if relation in have
        else relation
        for relation, cols in REQUIRED.items()
        if not set(cols) <= have.get(relation, set())
    )
    if missing:
        return WarehouseState(
            "outdated",
            f"The warehouse at `{snap.path}` was built by an older version of the pipeline (it "
            f"lacks {', '.join(missing)}). Run the pipeline to rebuild it: `{RUN_FIRST}`.",
            missing,
        )
    return WarehouseState("ready", "")


def has_maintenance(snap: Snapshot) -> bool:
    """Whether the maintenance job has written its reports into this snapshot."""
    found = query(
        snap,
        "select count(*) as n from duckdb_tables() where database_name = 'warehouse'"
        " and schema_name || '.' || table_name in (select unnest($tables::varchar[]))",
        tables=list(MAINTENANCE_TABLES),
    )
    return int(found["n"].iloc[0]) == len(MAINTENANCE_TABLES)


# --- Freshness and filters ---------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """How old what the pages show is."""

    published_at: datetime
    newest_source_row_at: datetime | None

    def published_age(self, now: datetime) -> timedelta:
        """Time since the publish."""
        return now - self.published_at

    def source_age(self, now: datetime) -> timedelta | None:
        """Time since the newest platform row the warehouse holds was written."""
        return None if self.newest_source_row_at is None else now - self.newest_source_row_at


def freshness(snap: Snapshot) -> Freshness:
    """Publish time (the file's) and the newest platform row ingested (ops.watermarks)."""
    newest = query(
        snap,
        "select max(updated_at) as newest from ops.watermarks"
        " where table_name in (select unnest($tables::varchar[]))",
        tables=list(SOURCE_TABLES),
    )["newest"].iloc[0]
    return Freshness(snap.published_at, None if pd.isna(newest) else newest.to_pydatetime())


def data_days(snap: Snapshot) -> tuple[date, date] | None:
    """First and last UTC day with usage, the bounds of the date filter."""
    row = query(snap, "select min(day) as first, max(day) as last from marts.agent_usage_daily")
    first, last = row["first"].iloc[0], row["last"].iloc[0]
    if pd.isna(first):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def agents(snap: Snapshot) -> pd.DataFrame:
    """Every agent's id and name, for the agent filter."""
    return query(
        snap, "select agent_id, agent_name from marts.agent_usage_summary order by agent_name"
    )


# --- Overview --------------------------------------------------------------------------------


def _period(start: date, end: date) -> dict[str, object]:
    """Bound values of a date filter: ``$start`` (inclusive) and ``$end_excl`` (the day after
    ``end``), as timestamps and days compare the same way."""
    return {"start": start, "end_excl": end + timedelta(days=1)}


def headline(snap: Snapshot, start: date, end: date, agent_id: int | None) -> pd.DataFrame:
    """The headline figures for [start, end] (days, inclusive) and the period of the same length
    just before it: one row per period, ``current`` then ``previous``. Every figure is exact and
    comes from the smallest mart that holds it: counts, success rate, active agents and revenue
    from the daily usage; p95 latency over the period's completed durations (never an average
    of daily percentiles): a running sum over marts.duration_histogram_daily, or one agent's
    rows of marts.execution_durations; active users from marts.user_activity_daily, or from
    the executions when one agent is picked."""
    previous_start = start - timedelta(days=(end - start).days + 1)
    return query(
        snap,
        """
        with usage as (
            select case when day >= $start then 'current' else 'previous' end as period,
                   sum(executions) as executions,
                   sum(completed) / nullif(sum(completed + failed + timed_out), 0)
                       as success_rate,
                   count(distinct agent_id) filter (where executions > 0) as active_agents,
                   sum(revenue) as revenue
            from marts.agent_usage_daily
            where day >= $previous_start and day < $end_excl
              and ($agent_id::bigint is null or agent_id = $agent_id)
            group by period
        ),
        -- quantile_cont from the all-agents histogram: the values at 0-based ranks
        -- floor(h) and ceil(h), h = 0.95 (n - 1), interpolated; one agent: its durations.
        histogram as (
            select case when day >= $start then 'current' else 'previous' end as period,
                   duration_ms, sum(executions) as n
            from marts.duration_histogram_daily
            where $agent_id::bigint is null and day >= $previous_start and day < $end_excl
            group by all
        ),
        ranked as (
            select period, duration_ms,
                   sum(n) over (partition by period order by duration_ms) as up_to,
                   0.95 * (sum(n) over (partition by period) - 1) as h
            from histogram
        ),
        latency as (
            select period,
                   min(duration_ms) filter (where up_to > floor(h))
                   + (min(duration_ms) filter (where up_to > ceil(h))
                      - min(duration_ms) filter (where up_to > floor(h)))
                     * (any_value(h) - floor(any_value(h))) as p95_duration_ms
            from ranked
            group by period
            union all
            select case when day >= $start then 'current' else 'previous' end,
                   quantile_cont(duration_ms, 0.95)
            from marts.execution_durations
            where $agent_id::bigint is not null and agent_id = $agent_id
              and day >= $previous_start and day < $end_excl
            group by 1
        ),
        users as (
            select case when day >= $start then 'current' else 'previous' end as period,
                   count(distinct user_id) as active_users
            from marts.user_activity_daily
            where $agent_id::bigint is null and day >= $previous_start and day < $end_excl
            group by period
            union all
            select case when created_at >= $start then 'current' else 'previous' end,
                   count(distinct user_id)
            from marts.executions_all
            where $agent_id::bigint is not null and agent_id = $agent_id
              and not is_quarantined and user_id is not null
              and created_at >= $previous_start and created_at < $end_excl
            group by 1
        )
        select p.period,
               coalesce(u.executions, 0)::bigint as executions, u.success_rate,
               l.p95_duration_ms,
               coalesce(u.active_agents, 0) as active_agents,
               coalesce(a.active_users, 0) as active_users,
               coalesce(u.revenue, 0) as revenue
        from (values ('current'), ('previous')) as p(period)
        left join usage as u using (period)
        left join latency as l using (period)
        left join users as a using (period)
        order by p.period
        """,
        previous_start=previous_start,
        agent_id=agent_id,
        **_period(start, end),
    )


def daily_by_status(snap: Snapshot, start: date, end: date, agent_id: int | None) -> pd.DataFrame:
    """Executions per day and outcome (long form: day, status, executions)."""
    return query(
        snap,
        """
        select day, status, sum(n)::bigint as executions
        from marts.agent_usage_daily
        unpivot (n for status in (completed, failed, timed_out, cancelled))
        where day >= $start and day < $end_excl
          and ($agent_id::bigint is null or agent_id = $agent_id)
        group by day, status
        order by day, status
        """,
        agent_id=agent_id,
        **_period(start, end),
    )


def alerts(snap: Snapshot) -> pd.DataFrame:
    """The agents that need attention (marts.agent_alerts), worst rule first."""
    return query(
        snap,
        """
        select agent_id, agent_name, rule, observed, baseline, threshold, executions, detail,
               checked_at
        from marts.agent_alerts
        order by case rule when 'error_rate' then 1 when 'trust_drop' then 2
                           when 'p95_latency' then 3 else 4 end, agent_id
        """,
    )


# --- Agents ----------------------------------------------------------------------------------


def agent_table(snap: Snapshot, start: date, end: date) -> pd.DataFrame:
    """Every agent: usage in the period (executions, success rate, revenue from the daily
    usage; exact latency percentiles over the period's completed durations), all-time usage,
    rating, trust and liveness."""
    return query(
        snap,
        """
        with usage as (
            select agent_id,
                   sum(executions) as executions,
                   sum(completed) / nullif(sum(completed + failed + timed_out), 0)
                       as success_rate,
                   sum(revenue) as revenue
            from marts.agent_usage_daily
            where day >= $start and day < $end_excl
            group by agent_id
        ),
        latency as (
            select agent_id, quantile_cont(duration_ms, [0.5, 0.95, 0.99]) as q
            from marts.execution_durations
            where day >= $start and day < $end_excl
            group by agent_id
        )
        select s.agent_id, s.agent_name,
               coalesce(u.executions, 0)::bigint as executions, u.success_rate,
               d.q[1] as p50_ms, d.q[2] as p95_ms, d.q[3] as p99_ms,
               coalesce(u.revenue, 0) as revenue,
               s.total_executions as all_time_executions, s.success_rate as all_time_success_rate,
               s.active_hirings, s.unique_users,
               s.average_rating, s.rating_count, t.trust_score,
               case when l.agent_id is null then 'live'
                    when l.last_heartbeat_at is null then 'never seen'
                    else 'silent ' || l.minutes_since_heartbeat || ' min' end as liveness,
               s.last_execution_at
        from marts.agent_usage_summary as s
        left join usage as u using (agent_id)
        left join latency as d using (agent_id)
        left join marts.agent_trust as t using (agent_id)
        left join marts.agent_liveness as l using (agent_id)
        order by executions desc, s.agent_id
        """,
        **_period(start, end),
    )


def agent_daily(snap: Snapshot, agent_id: int, start: date, end: date) -> pd.DataFrame:
    """One agent's usage per day: outcomes, success rate, latency percentiles, revenue."""
    return query(
        snap,
        """
        select day, executions, completed, failed, timed_out, cancelled, success_rate,
               p50_duration_ms, p95_duration_ms, p99_duration_ms, unique_users, new_hirings,
               revenue
        from marts.agent_usage_daily
        where agent_id = $agent_id and day >= $start and day < $end_excl
        order by day
        """,
        agent_id=agent_id,
        **_period(start, end),
    )


def agent_failures(
    snap: Snapshot, agent_id: int, start: date, end: date, limit: int = 10
) -> pd.DataFrame:
    """One agent's failed and timed-out executions by error message, most frequent first."""
    return query(
        snap,
        """
        select status, coalesce(error_message, '(no message)') as error_message,
               count(*) as executions, max(created_at) as last_seen
        from marts.executions_all
        where agent_id = $agent_id and status in ('failed', 'timeout') and not is_quarantined
          and created_at >= $start and created_at < $end_excl
        group by all
        order by executions desc, error_message
        limit $limit
        """,
        agent_id=agent_id,
        limit=limit,
        **_period(start, end),
    )


def trust_history(snap: Snapshot, agent_id: int, start: date, end: date) -> pd.DataFrame:
    """One agent's trust score over time: the score after the last event of each hour
    (an agent may have hundreds of thousands of events; the chart needs the path)."""
    return query(
        snap,
        """
        select date_trunc('hour', occurred_at) as hour,
               -- the model's order, not seq (a recompute keeps sent events' old seq)
               arg_max(trust_score_after, (occurred_at, coalesce(
                   'execution:' || source_execution_id, 'review:' || source_review_id)))
                   as trust_score,
               count(*) as events,
               sum(trust_delta) as change
        from marts.trust_events
        where agent_id = $agent_id and occurred_at >= $start and occurred_at < $end_excl
        group by hour
        order by hour
        """,
        agent_id=agent_id,
        **_period(start, end),
    )


def trust_events(
    snap: Snapshot,
    start: date,
    end: date,
    *,
    agent_id: int | None = None,
    event_types: list[str] | None = None,
    biggest: bool = False,
    limit: int = 200,
) -> pd.DataFrame:
    """The trust audit trail: events in the period, newest first (``biggest``: largest moves
    first), optionally of one agent and some event types."""
    # Newest by when the event happened (seq is the order of application, which a recompute
    # does not keep for events the platform already has).
    order = "{e}occurred_at desc, {e}seq desc"
    if biggest:
        order = "abs({e}trust_delta) desc, " + order
    # The top rows first, then the agents' names for those alone: joining before the top-N
    # sorted every joined event (1.4 s over 10M events, 0.03 s now; bench/dashboards.py).
    return query(
        snap,
        f"""
        with picked as (
            select *
            from marts.trust_events
            where occurred_at >= $start and occurred_at < $end_excl
              and ($agent_id::bigint is null or agent_id = $agent_id)
              and ($types::varchar[] is null or list_contains($types::varchar[], event_type))
            order by {order.format(e="")}
            limit $limit
        )
        select e.occurred_at, e.agent_id, s.agent_name, e.event_type, e.reason,
               e.trust_score_before, e.trust_score_after, e.trust_delta,
               e.source_execution_id, e.source_review_id, e.record_id
        from picked as e
        left join marts.agent_usage_summary as s using (agent_id)
        order by {order.format(e="e.")}
        """,
        agent_id=agent_id,
        types=event_types or None,
        limit=limit,
        **_period(start, end),
    )


def trust_event_types(snap: Snapshot) -> list[str]:
    """The event types the trust model records."""
    return query(snap, "select distinct event_type from marts.trust_events order by 1")[
        "event_type"
    ].tolist()


def metric_names(snap: Snapshot) -> list[str]:
    """Metric names that have rollups."""
    return query(snap, "select distinct metric_name from marts.metrics_rollup_daily order by 1")[
        "metric_name"
    ].tolist()


def metric_series(
    snap: Snapshot,
    agent_ids: list[int],
    metric: str,
    granularity: str,
    start: date,
    end: date,
) -> pd.DataFrame:
    """Samples, mean and percentiles of one metric per bucket for some agents (``granularity``
    ``hour`` or ``day``: the rollup marts, which keep buckets after their points are purged)."""
    if granularity not in ROLLUPS:
        raise ValueError(f"granularity must be one of {', '.join(ROLLUPS)}, not {granularity!r}")
    return query(
        snap,
        f"""
        select r.bucket_start, r.agent_id, s.agent_name, r.samples, r.avg, r.min, r.max,
               r.p50, r.p95, r.p99
        from {ROLLUPS[granularity]} as r
        left join marts.agent_usage_summary as s using (agent_id)
        where list_contains($agent_ids::bigint[], r.agent_id) and r.metric_name = $metric
          and r.bucket_start >= $start and r.bucket_start < $end_excl
        order by r.agent_id, r.bucket_start
        """,
        agent_ids=list(agent_ids),
        metric=metric,
        **_period(start, end),
    )


def stale_agents(snap: Snapshot) -> pd.DataFrame:
    """Approved or active agents whose heartbeat is late (marts.agent_liveness)."""
    return query(
        snap,
        """
        select agent_id, agent_name, status, last_heartbeat_at, minutes_since_heartbeat,
               checked_at
        from marts.agent_liveness
        order by minutes_since_heartbeat desc nulls first, agent_id
        """,
    )


# --- Trust -----------------------------------------------------------------------------------


def trust_scores(snap: Snapshot) -> pd.DataFrame:
    """Every agent's current trust score and evidence."""
    return query(
        snap,
        """
        select t.agent_id, s.agent_name, t.trust_score, t.positive_evidence,
               t.negative_evidence, t.event_count, t.last_event_at
        from marts.agent_trust as t
        left join marts.agent_usage_summary as s using (agent_id)
        order by t.trust_score desc
        """,
    )


def trust_movers(snap: Snapshot, start: date, end: date, limit: int = 10) -> pd.DataFrame:
    """Agents whose trust moved most in the period: score before its first event in the
    period, after its last (in the trust model's order: occurred_at, then event key), and the
    change; from the per-day first and last scores of marts.agent_trust_daily."""
    return query(
        snap,
        """
        with moved as (
            select agent_id,
                   arg_min(score_before, day) as score_before,
                   arg_max(score_after, day) as score_after,
                   sum(events)::bigint as events
            from marts.agent_trust_daily
            where day >= $start and day < $end_excl
            group by agent_id
        )
        select m.agent_id, s.agent_name, m.score_before, m.score_after,
               m.score_after - m.score_before as change, m.events
        from moved as m
        left join marts.agent_usage_summary as s using (agent_id)
        order by abs(change) desc, m.agent_id
        limit $limit
        """,
        limit=limit,
        **_period(start, end),
    )


# --- Users (emails masked unless asked) -------------------------------------------------------


def mask_email(email: str | None) -> str | None:
    """``alice@example.com`` -> ``a****@example.com``: enough to tell users apart on screen,
    not enough to contact them."""
    if not isinstance(email, str) or "@" not in email:
        return email
    name, domain = email.split("@", 1)
    return f"{name[:1]}{'*' * max(len(name) - 1, 3)}@{domain}"


def agent_top_users(
    snap: Snapshot, agent_id: int, start: date, end: date, *, reveal_emails: bool = False
) -> pd.DataFrame:
    """One agent's heaviest users in the period; emails masked unless ``reveal_emails``."""
    users = query(
        snap,
        """
        select e.user_id, u.username, u.email, count(*) as executions,
               count(*) filter (where e.status in ('failed', 'timeout')) as failed,
               max(e.created_at) as last_execution_at
        from marts.executions_all as e
        left join intermediate.valid_users as u using (user_id)
        where e.agent_id = $agent_id and not e.is_quarantined and e.user_id is not null
          and e.created_at >= $start and e.created_at < $end_excl
        group by all
        order by executions desc, e.user_id
        limit 10
        """,
        agent_id=agent_id,
        **_period(start, end),
    )
    if not reveal_emails:
        users = users.assign(email=users["email"].map(mask_email))
    return users


# --- Maintenance -----------------------------------------------------------------------------


def maintenance_runs(snap: Snapshot, limit: int = 20) -> pd.DataFrame:
    """The last maintenance runs, one row each: when, dry or not, and what each step did."""
    return query(
        snap,
        """
        select run_id, min(started_at) as started_at, bool_or(dry_run) as dry_run,
               sum(seconds) as seconds,
               sum(rows) filter (where operation = 'archive_executions') as executions_archived,
               sum(rows) filter (where operation = 'archive_agent_metrics')
                   as metric_points_archived,
               sum(bytes) filter (where operation like 'archive_%') as archive_bytes,
               sum(rows) filter (where operation = 'expire_hirings') as hirings_expired,
               sum(rows) filter (where operation = 'repair_counters') as counters_repaired,
               sum(rows) filter (where operation = 'check_orphans') as orphans
        from marts.maintenance_runs
        group by run_id
        order by started_at desc
        limit $limit
        """,
        limit=limit,
    )


def maintenance_operations(snap: Snapshot, run_id: str) -> pd.DataFrame:
    """Every step of one maintenance run with its rows, bytes, seconds and details."""
    return query(
        snap,
        """
        select operation, dry_run, rows, bytes, seconds, detail
        from marts.maintenance_runs where run_id = $run_id order by started_at, operation
        """,
        run_id=run_id,
    )


def archive_months(snap: Snapshot) -> pd.DataFrame:
    """The archive by table and month: rows, bytes, files, verified."""
    return query(
        snap,
        """
        select table_name, month, rows, bytes, files, unconfirmed_files, verified, verified_at
        from marts.archive_months order by table_name, month desc
        """,
    )


def expired_hirings(snap: Snapshot, limit: int = 200) -> pd.DataFrame:
    """Hirings the maintenance expired, latest first."""
    return query(
        snap,
        """
        select h.hiring_id, h.agent_id, s.agent_name, h.user_id, h.expires_at, h.expired_at
        from marts.expired_hirings as h
        left join marts.agent_usage_summary as s using (agent_id)
        order by h.expired_at desc, h.hiring_id
        limit $limit
        """,
        limit=limit,
    )


def counter_drift(snap: Snapshot, limit: int = 200) -> pd.DataFrame:
    """Counters the maintenance found drifted and repaired: which row, stored vs actual."""
    return query(
        snap,
        """
        select repaired_at, table_name, row_id, column_name, stored, actual, difference, run_id
        from marts.counter_drift order by repaired_at desc, table_name, row_id, column_name
        limit $limit
        """,
        limit=limit,
    )


def orphans(snap: Snapshot) -> pd.DataFrame:
    """Orphaned rows per foreign key, as of the latest maintenance run."""
    return query(
        snap,
        """
        select relation, child_table, child_column, parent_table, orphan_rows,
               array_to_string(sample_ids, ', ') as sample_ids, checked_at
        from marts.orphans
        where run_id = (select arg_max(run_id, checked_at) from marts.orphans)
        order by orphan_rows desc, relation
        """,
    )


def table_health(snap: Snapshot) -> pd.DataFrame:
    """Platform table sizes, dead tuples, scans, unused indexes and growth per maintenance run."""
    return query(
        snap,
        """
        select checked_at, table_name, rows, total_bytes, index_bytes, dead_tuple_ratio,
               seq_scans, index_scans, array_to_string(unused_indexes, ', ') as unused_indexes,
               rows_per_day
        from marts.table_health
        order by checked_at, table_name
        """,
    )


# --- Data quality ----------------------------------------------------------------------------


def quarantine_over_time(snap: Snapshot) -> pd.DataFrame:
    """Quarantined rows per table and rule at each pipeline run (marts.data_quality)."""
    return query(
        snap,
        """
        select checked_at, table_name, rule, quarantined_rows, table_rows
        from marts.data_quality order by checked_at, table_name, rule
        """,
    )


def quarantine_samples(
    snap: Snapshot, table: str | None = None, rule: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """Quarantined rows with the rule they break, newest first."""
    return query(
        snap,
        """
        select table_name, rule, row_key, detail, detected_at
        from marts.quarantine
        where ($table::varchar is null or table_name = $table)
          and ($rule::varchar is null or rule = $rule)
        order by detected_at desc, table_name, rule, row_key
        limit $limit
        """,
        table=table,
        rule=rule,
        limit=limit,
    )
