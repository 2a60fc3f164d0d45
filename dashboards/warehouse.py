"""The published warehouse as the dashboards read it: the snapshot, the cached query, and
whether the pages can render. What each page reads is in ``dashboards/queries/<page>.py``.

Readers never wait (README): the warehouse is a DuckLake, and every pipeline or maintenance
run records the snapshot it ends on as the published one (``ops.published_snapshots``). Each
rerun asks the catalog which snapshot is published (:func:`snapshot`, one small query on a
long-lived read-only attach), and the pages query the lake attached read-only *at that
snapshot*: a page rendering during a run sees the previous run whole, never half of one.

Results are cached with ``st.cache_data`` keyed on the published snapshot's id
(:class:`Snapshot`): new data shows on the next rerun after a publish, without a restart, and
an unchanged snapshot is never queried twice for the same figures. All SQL is fixed text with
bound parameters; values a user picks (dates, agent ids, a metric name) are only ever bound.

The pages only select and filter: every figure is a column of a mart, or, where it depends on
the filter (a period, an agent), a table macro of ``sql/macros/`` that :func:`query` creates on
the cursor before the SQL that calls it (macros never persist in the warehouse).

Outside a Streamlit server (tests, the concurrency test's reader processes, the bench) the
caches still work, in memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd
import streamlit as st

from pipelines.sql_files import create_macros
from pipelines.warehouse import extensions
from pipelines.warehouse.lake import (
    Lake,
    attach,
    attach_statement,
    latest_published,
    newest_published,
)

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
    "marts.maintenance_runs": ("run_id", "operation", "rows", "seconds", "detail"),
    "marts.maintenance_run_summary": ("run_id", "started_at", "executions_archived"),
    "marts.archive_months": ("table_name", "month", "rows", "verified"),
    "marts.expired_hirings": ("hiring_id", "agent_id", "expired_at"),
    "marts.counter_drift": ("run_id", "table_name", "row_id", "column_name"),
    "marts.orphans": ("run_id", "relation", "orphan_rows"),
    "marts.table_health": ("run_id", "table_name", "rows"),
    "ops.watermarks": ("table_name", "updated_at"),
}
#: Platform tables whose newest ingested row dates the data (ops.watermarks).
SOURCE_TABLES = ("agents", "users", "hirings", "executions", "agent_reviews", "agent_metrics")


def warehouse_lake() -> Lake:
    """The warehouse (``WAREHOUSE_CATALOG``, ``WAREHOUSE_DATA_PATH``; defaults under data/)."""
    return Lake.from_env()


@dataclass(frozen=True)
class Snapshot:
    """One published snapshot of the warehouse: the lake, the snapshot id (the cache key) and
    when it was published."""

    catalog: str
    data_path: str
    snapshot_id: int
    published_at: datetime

    @property
    def lake(self) -> Lake:
        """The lake the snapshot belongs to."""
        return Lake(self.catalog, self.data_path)

    @property
    def path(self) -> str:
        """The catalog, for messages (never a password)."""
        return self.lake.name


_probe_lock = threading.Lock()


@st.cache_resource(max_entries=4, show_spinner=False)
def _probe(catalog: str, data_path: str) -> duckdb.DuckDBPyConnection:
    """The dashboards' DuckDB: a long-lived read-only attach of the catalog as ``latest``,
    unpinned, that only ever asks which snapshot is published (one query per rerun;
    attaching anew would cost ~0.2 s), beside which :func:`_connection` attaches the
    published snapshots the pages read."""
    lake = Lake(catalog, data_path)
    con = extensions.connect(catalog="postgres" if lake.postgres else "sqlite")
    con.execute("SET asof_loop_join_threshold = 0")  # as the pipeline (lake.open_lake)
    attach(con, lake, alias="latest", read_only=True)
    return con


def snapshot(lake: Lake | None = None) -> Snapshot | None:
    """The current published snapshot, or None when nothing was published yet."""
    lake = lake or warehouse_lake()
    if not lake.exists():
        return None
    with _probe_lock:  # one probe connection, shared by the sessions' threads
        try:
            found = newest_published(_probe(lake.catalog, lake.data_path), "latest")
        except duckdb.Error:
            _probe.clear()  # unreadable, or replaced under us: attach again next time
            return None  # state() says which
    if found is None:
        return None
    return Snapshot(lake.catalog, lake.data_path, found[0], found[1])


def snapshot_alias(snapshot_id: int) -> str:
    """The name a published snapshot is attached under in the dashboards' DuckDB."""
    return f"snapshot_{int(snapshot_id)}"


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(catalog: str, data_path: str, snapshot_id: int) -> duckdb.DuckDBPyConnection:
    """The probe's DuckDB with the published snapshot attached read-only, pinned, as
    ``snapshot_<id>``, shared by the sessions (each query takes its own cursor).

    One DuckDB per process loads the extensions once (~0.2 s, which every cold render after
    a publish paid a second time with a DuckDB per snapshot). The two newest snapshots stay
    attached: a page still rendering on the previous one keeps working.
    """
    lake = Lake(catalog, data_path)
    con = _probe(catalog, data_path)
    alias = snapshot_alias(snapshot_id)
    with _probe_lock:
        attached = {
            name
            for (name,) in con.execute("select database_name from duckdb_databases()").fetchall()
        }
        if alias not in attached:
            con.execute(attach_statement(lake, alias=alias, read_only=True, snapshot=snapshot_id))
        older = sorted(
            int(name.removeprefix("snapshot_"))
            for name in attached
            if name.startswith("snapshot_") and int(name.removeprefix("snapshot_")) < snapshot_id
        )
        for old in older[:-1]:
            con.execute(f"DETACH {snapshot_alias(old)}")
    return con


@st.cache_data(max_entries=512, show_spinner=False)
def _query(
    catalog: str,
    data_path: str,
    snapshot_id: int,
    sql: str,
    params: tuple[tuple[str, object], ...],
) -> pd.DataFrame:
    with _connection(catalog, data_path, snapshot_id).cursor() as cur:
        cur.execute(f"use {snapshot_alias(snapshot_id)}")  # a cursor starts in memory
        create_macros(cur, sql)  # temporary, so per cursor: ~0.5 ms each, on a cache miss
        return cur.execute(sql, {k: list(v) if isinstance(v, tuple) else v for k, v in params}).df()


def query(snap: Snapshot, sql: str, **params: object) -> pd.DataFrame:
    """Run fixed ``sql`` with its ``$name`` parameters bound from ``params``; cached per
    snapshot (lists are bound as DuckDB lists)."""
    bound = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in params.items()))
    return _query(snap.catalog, snap.data_path, snap.snapshot_id, sql, bound)


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
    """Check the published snapshot before any page queries it."""
    if snap is None:
        lake = warehouse_lake()
        if not lake.exists():
            return WarehouseState(
                "missing",
                f"There is no warehouse at `{lake.name}` yet. Run the pipeline "
                f"first: `{RUN_FIRST}` (or `make demo` for a simulated platform).",
            )
        try:
            latest_published(lake)
        except duckdb.Error as error:
            return WarehouseState(
                "unreadable",
                f"The warehouse catalog at `{lake.name}` is not readable ({error}). "
                f"Check WAREHOUSE_CATALOG, or run the pipeline to build it: `{RUN_FIRST}`.",
            )
        return WarehouseState(
            "empty",
            f"The warehouse at `{lake.name}` has no published run yet. Run the pipeline "
            f"first: `{RUN_FIRST}`.",
        )
    try:
        columns = query(
            snap,
            "select schema_name || '.' || table_name as relation, column_name"
            " from duckdb_columns()"
            " where database_name = $database and schema_name in ('marts', 'ops')",
            database=snapshot_alias(snap.snapshot_id),
        )
    except duckdb.Error as error:
        return WarehouseState(
            "unreadable",
            f"The warehouse at `{snap.path}` is not readable ({error}). "
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
    """Whether the maintenance job has run and reported before this snapshot."""
    found = query(snap, "select count(*) as n from marts.maintenance_runs")
    return int(found["n"].iloc[0]) > 0


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
    """Publish time (the run's record) and the newest platform row ingested (ops.watermarks)."""
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


def period(start: date, end: date) -> dict[str, object]:
    """Bound values of a date filter [start, end] (days, inclusive): ``$start`` and ``$end_excl``
    (the day after ``end``), the half-open range every macro and mart compares with."""
    return {"start": start, "end_excl": end + timedelta(days=1)}
