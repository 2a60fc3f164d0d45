"""Each macro of sql/macros/ once, against the same figure computed here in Python from the
published warehouse's rows (the macros the dashboards' headline, agent table and movers call
are compared in tests/dashboards/test_queries.py; the rollup macro in tests/pipelines/
test_marts.py). The macros run as a reader runs them: created on a read-only connection."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from pipelines.sql_files import create_macros, macro_names
from pipelines.warehouse.lake import open_published
from tests.dashboards.conftest import Published
from tests.dashboards.reference import rows

TESTED_ELSEWHERE = {
    "period_summary": "tests/dashboards/test_queries.py",
    "agent_period_usage": "tests/dashboards/test_queries.py",
    "trust_movers": "tests/dashboards/test_queries.py",
    "metric_points_rollup": "tests/pipelines/test_marts.py",
}
TESTED_HERE = {"outcomes_by_day", "agent_failure_reasons", "agent_top_users", "trust_path"}


def call(path: Path, sql: str, params: dict) -> list[tuple]:
    """``sql`` on a read-only connection to ``path``, with the macros it calls created first."""
    with open_published(path) as con:
        create_macros(con, sql)
        return con.execute(sql, params).fetchall()


def last_day(path: Path) -> date:
    return rows(path, "select max(day) from marts.agent_usage_daily")[0][0]


def busiest(path: Path) -> int:
    return rows(
        path,
        "select agent_id from marts.executions_all where status in ('failed', 'timeout')"
        " group by agent_id order by count(*) desc, agent_id limit 1",
    )[0][0]


def test_every_macro_is_tested_once() -> None:
    assert set(macro_names()) == TESTED_HERE | TESTED_ELSEWHERE.keys()


@pytest.mark.parametrize("one_agent", [False, True], ids=["all agents", "one agent"])
def test_outcomes_by_day_counts_each_days_executions(published: Published, one_agent: bool):
    path = published.warehouse
    agent = busiest(path) if one_agent else None
    end = last_day(path)
    start = end - timedelta(days=9)
    want: Counter = Counter()
    for agent_id, status, day in rows(
        path,
        "select agent_id, status, created_at::date from marts.executions_all"
        " where not is_quarantined",
    ):
        if start <= day < end and agent in (None, agent_id):
            outcome = {"timeout": "timed_out"}.get(status, status)
            if outcome in ("completed", "failed", "timed_out", "cancelled"):
                want[(day, outcome)] += 1
    got = call(
        path,
        "select day, status, executions from outcomes_by_day($start, $end, $agent)",
        {"start": start, "end": end, "agent": agent},
    )
    assert {(d, s): n for d, s, n in got if n} == dict(want)
    assert {d for d, _, _ in got} <= {start + timedelta(days=i) for i in range(9)}


def test_agent_failure_reasons_group_its_failures_by_message(published: Published):
    path = published.warehouse
    agent = busiest(path)
    until = rows(path, "select max(created_at) from marts.executions_all where not is_quarantined")[
        0
    ][0]
    since = until - timedelta(days=12)
    want: dict[tuple, list] = {}
    for status, message, at, archived in rows(
        path,
        "select status, error_message, created_at, is_archived from marts.executions_all"
        " where agent_id = ? and not is_quarantined",
        [agent],
    ):
        if status in ("failed", "timeout") and since <= at < until:
            entry = want.setdefault((status, message or "(no message)"), [0, at, 0])
            entry[0] += 1
            entry[1] = max(entry[1], at)
            entry[2] += archived
    got = call(
        path,
        "select status, error_message, executions, last_seen, archived"
        " from agent_failure_reasons($agent, $since, $until)",
        {"agent": agent, "since": since, "until": until},
    )
    assert {(s, m): [n, at, a] for s, m, n, at, a in got} == want
    assert sum(n for _, _, n, _, _ in got) > 0


def test_agent_top_users_count_each_users_executions(published: Published):
    path = published.warehouse
    agent = busiest(path)
    end = last_day(path) + timedelta(days=1)
    start = end - timedelta(days=14)
    names = dict(rows(path, "select user_id, username from intermediate.valid_users"))
    want: dict[int, list] = {}
    for user, status, at in rows(
        path,
        "select user_id, status, created_at from marts.executions_all"
        " where agent_id = ? and not is_quarantined and user_id is not null",
        [agent],
    ):
        if datetime.combine(start, time()) <= at < datetime.combine(end, time()):
            entry = want.setdefault(user, [names.get(user), 0, 0, at])
            entry[1] += 1
            entry[2] += status in ("failed", "timeout")
            entry[3] = max(entry[3], at)
    got = call(
        path,
        "select user_id, username, executions, failed, last_execution_at"
        " from agent_top_users($agent, $start, $end)",
        {"agent": agent, "start": start, "end": end},
    )
    assert {u: [name, n, f, at] for u, name, n, f, at in got} == want
    assert len(want) > 1


def test_trust_path_is_the_score_after_each_hours_last_event(published: Published):
    path = published.warehouse
    agent = busiest(path)
    end = last_day(path) + timedelta(days=1)
    start = end - timedelta(days=5)
    hours: dict[datetime, list] = defaultdict(list)
    for at, execution, review, delta, after in rows(
        path,
        "select occurred_at, source_execution_id, source_review_id, trust_delta,"
        " trust_score_after from marts.trust_events where agent_id = ?",
        [agent],
    ):
        if datetime.combine(start, time()) <= at < datetime.combine(end, time()):
            # The trust model's order: occurred_at, then the event's source (README: Trust).
            key = f"execution:{execution}" if execution is not None else f"review:{review}"
            hours[at.replace(minute=0, second=0, microsecond=0)].append(((at, key), delta, after))
    want = {}
    for hour, events in hours.items():
        events.sort()
        want[hour] = (events[-1][2], len(events), sum(d for _, d, _ in events))
    got = call(
        path,
        "select hour, trust_score, events, change from trust_path($agent, $start, $end)",
        {"agent": agent, "start": start, "end": end},
    )
    assert len(got) == len(want) > 0
    for hour, score, events, change in got:
        assert (score, events) == (pytest.approx(want[hour][0]), want[hour][1]), hour
        assert change == pytest.approx(want[hour][2], abs=1e-9), hour
