"""The Overview page's queries: headline figures, outcomes per day, agents needing attention."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from dashboards.warehouse import Snapshot, period, query


def headline(snap: Snapshot, start: date, end: date, agent_id: int | None) -> pd.DataFrame:
    """The headline figures (sql/macros/period_summary.sql) for [start, end] (days, inclusive)
    and for the period of the same length just before it: one row per period, ``current``
    then ``previous``."""
    previous_start = start - timedelta(days=(end - start).days + 1)
    return query(
        snap,
        """
        select 'current' as period, * from period_summary($start, $end_excl, $agent_id)
        union all
        select 'previous', * from period_summary($previous_start, $start, $agent_id)
        order by period
        """,
        previous_start=previous_start,
        agent_id=agent_id,
        **period(start, end),
    )


def daily_by_status(snap: Snapshot, start: date, end: date, agent_id: int | None) -> pd.DataFrame:
    """Executions per day and outcome (long form: day, status, executions;
    sql/macros/outcomes_by_day.sql)."""
    return query(
        snap,
        "select * from outcomes_by_day($start, $end_excl, $agent_id) order by day, status",
        agent_id=agent_id,
        **period(start, end),
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
