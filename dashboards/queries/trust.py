"""The Trust page's queries: scores, movers and the audit trail (the Agents page shows one
agent's biggest events from the same trail)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards.warehouse import Snapshot, period, query


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
    """Agents whose trust moved most in the period (sql/macros/trust_movers.sql): score before
    its first event, after its last, the change and the events."""
    return query(
        snap,
        """
        select m.agent_id, s.agent_name, m.score_before, m.score_after, m.change, m.events
        from trust_movers($start, $end_excl) as m
        left join marts.agent_usage_summary as s using (agent_id)
        order by abs(m.change) desc, m.agent_id
        limit $limit
        """,
        limit=limit,
        **period(start, end),
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
    bounds = period(start, end)
    newest_first = not biggest and not event_types
    if newest_first:
        # Newest first reads only the days that hold the newest ``limit`` events (the daily
        # counts of marts.agent_trust_daily say which): marts.trust_events is written in time
        # order, so the files and row groups before them are skipped by their min/max (10M
        # events: ~0.9 s cold for the whole period). With fewer rows than asked for, the
        # bound was too tight and the period is read whole.
        since = _newest_days_since(snap, bounds, agent_id, limit)
        if since is not None:
            trail = _trail(snap, {**bounds, "start": since}, agent_id, None, False, limit)
            if len(trail) >= limit:
                return trail
    return _trail(snap, bounds, agent_id, event_types, biggest, limit)


def _newest_days_since(
    snap: Snapshot, bounds: dict[str, object], agent_id: int | None, limit: int
) -> date | None:
    """The latest day from which the period's last days hold at least ``limit`` events of
    the agent (or of all agents), or None when the whole period holds fewer."""
    found = query(
        snap,
        """
        with per_day as (
            select day, sum(events) as events
            from marts.agent_trust_daily
            where day >= $start and day < $end_excl
              and ($agent_id::bigint is null or agent_id = $agent_id)
            group by day
        )
        select max(day) as since
        from (select day, sum(events) over (order by day desc) as newer from per_day)
        where newer >= $limit
        """,
        agent_id=agent_id,
        limit=limit,
        **bounds,
    )["since"]
    value = found.iloc[0] if len(found) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _trail(
    snap: Snapshot,
    bounds: dict[str, object],
    agent_id: int | None,
    event_types: list[str] | None,
    biggest: bool,
    limit: int,
) -> pd.DataFrame:
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
        **bounds,
    )


def trust_event_types(snap: Snapshot) -> list[str]:
    """The event types the trust model records."""
    return query(snap, "select distinct event_type from marts.trust_events order by 1")[
        "event_type"
    ].tolist()
