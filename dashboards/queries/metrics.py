"""The Metrics page's queries: metric rollups per bucket and late heartbeats (the Agents page
shows one agent's daily series)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards.warehouse import Snapshot, period, query

#: Granularity -> rollup mart; the only way a table name reaches SQL.
ROLLUPS = {"hour": "marts.metrics_rollup_hourly", "day": "marts.metrics_rollup_daily"}


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
        **period(start, end),
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
