"""The Agents page's queries: the agents table, and one agent's days, failures, trust path,
biggest trust events and users."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards.warehouse import Snapshot, period, query


def agent_table(snap: Snapshot, start: date, end: date) -> pd.DataFrame:
    """Every agent: usage in the period (sql/macros/agent_period_usage.sql: executions, success
    rate, revenue, exact latency percentiles), all-time usage, rating, trust and liveness."""
    return query(
        snap,
        """
        select s.agent_id, s.agent_name,
               coalesce(u.executions, 0)::bigint as executions, u.success_rate,
               u.p50_ms, u.p95_ms, u.p99_ms,
               coalesce(u.revenue, 0) as revenue,
               s.total_executions as all_time_executions, s.success_rate as all_time_success_rate,
               s.active_hirings, s.unique_users,
               s.average_rating, s.rating_count, t.trust_score,
               case when l.agent_id is null then 'live'
                    when l.last_heartbeat_at is null then 'never seen'
                    else 'silent ' || l.minutes_since_heartbeat || ' min' end as liveness,
               s.last_execution_at
        from marts.agent_usage_summary as s
        left join agent_period_usage($start, $end_excl) as u using (agent_id)
        left join marts.agent_trust as t using (agent_id)
        left join marts.agent_liveness as l using (agent_id)
        order by executions desc, s.agent_id
        """,
        **period(start, end),
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
        **period(start, end),
    )


def agent_failures(
    snap: Snapshot, agent_id: int, start: date, end: date, limit: int = 10
) -> pd.DataFrame:
    """One agent's failed and timed-out executions by error message, most frequent first
    (sql/macros/agent_failure_reasons.sql)."""
    return query(
        snap,
        """
        select status, error_message, executions, last_seen
        from agent_failure_reasons($agent_id, $start, $end_excl)
        order by executions desc, error_message
        limit $limit
        """,
        agent_id=agent_id,
        limit=limit,
        **period(start, end),
    )


def trust_history(snap: Snapshot, agent_id: int, start: date, end: date) -> pd.DataFrame:
    """One agent's trust score after the last event of each hour (sql/macros/trust_path.sql)."""
    return query(
        snap,
        "select * from trust_path($agent_id, $start, $end_excl) order by hour",
        agent_id=agent_id,
        **period(start, end),
    )


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
    """One agent's ten heaviest users in the period (sql/macros/agent_top_users.sql); emails
    masked unless ``reveal_emails``."""
    users = query(
        snap,
        """
        select user_id, username, email, executions, failed, last_execution_at
        from agent_top_users($agent_id, $start, $end_excl)
        order by executions desc, user_id
        limit 10
        """,
        agent_id=agent_id,
        **period(start, end),
    )
    if not reveal_emails:
        users = users.assign(email=users["email"].map(mask_email))
    return users
