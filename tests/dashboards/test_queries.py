"""The query module's figures at full precision, against the executions' and trust events'
own rows computed here in Python: the Overview's headline, the Agents table's percentiles and
the Trust page's movers come from narrow per-day marts (a duration histogram, sorted
durations, users per day, trust per agent and day), and must equal what the rows give for any
range of days, with and without an agent (the pages round what they show, so a small error
would hide there)."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from dashboards import warehouse
from dashboards.queries import agents, overview, trust
from tests.dashboards.conftest import Published
from tests.dashboards.reference import executions, figures, rows


def windows(path: Path) -> list[tuple[date, date]]:
    """Whole history, a week, one day, and a window reaching before the first data."""
    first, last = rows(path, "select min(day), max(day) from marts.agent_usage_daily")[0]
    return [
        (first, last),
        (last - timedelta(days=6), last),
        (last - timedelta(days=3), last - timedelta(days=3)),
        (first - timedelta(days=2), first + timedelta(days=4)),
    ]


def busiest_agent(path: Path) -> int:
    return rows(
        path, "select agent_id from marts.agent_usage_summary order by total_executions desc"
    )[0][0]


@pytest.mark.parametrize("with_agent", [False, True], ids=["all agents", "one agent"])
def test_headline_equals_the_rows_for_any_days(warehouse_env: Published, with_agent: bool):
    path = warehouse_env.warehouse
    snap = warehouse.snapshot()
    agent = busiest_agent(path) if with_agent else None
    every = executions(path)
    for start, end in windows(path):
        got = overview.headline(snap, start, end, agent).set_index("period")
        before = start - timedelta(days=(end - start).days + 1)
        for period, (a, b) in {
            "current": (start, end),
            "previous": (before, start - timedelta(days=1)),
        }.items():
            want = figures(every, a, b, agent)
            row = got.loc[period]
            for name, value in want.items():
                if value is None:
                    assert row[name] is None or np.isnan(row[name]), (period, name, a, b)
                else:
                    assert row[name] == pytest.approx(value, rel=1e-12), (period, name, a, b)


def test_agent_table_percentiles_equal_the_rows(warehouse_env: Published):
    path = warehouse_env.warehouse
    snap = warehouse.snapshot()
    every = executions(path)
    for start, end in windows(path)[:3]:
        table = agents.agent_table(snap, start, end).set_index("agent_id")
        done: dict[int, list[int]] = defaultdict(list)
        count: dict[int, int] = defaultdict(int)
        for agent, _user, status, duration, day in every:
            if start <= day <= end:
                count[agent] += 1
                if status == "completed" and duration is not None:
                    done[agent].append(duration)
        for agent, row in table.iterrows():
            assert row["executions"] == count.get(agent, 0)
            for column, q in (("p50_ms", 50), ("p95_ms", 95), ("p99_ms", 99)):
                if done.get(agent):
                    assert row[column] == pytest.approx(np.percentile(done[agent], q)), agent
                else:
                    assert np.isnan(row[column])


def test_trust_movers_equal_the_events(warehouse_env: Published):
    path = warehouse_env.warehouse
    snap = warehouse.snapshot()
    # The trust model's order: occurred_at, then the event's key (README: Trust).
    events = rows(
        path,
        "select agent_id, occurred_at, source_execution_id, source_review_id,"
        " trust_score_before, trust_score_after from marts.trust_events",
    )
    for start, end in windows(path)[:3]:
        by_agent: dict[int, list[tuple]] = defaultdict(list)
        for agent, at, execution, review, before, after in events:
            if start <= at.date() <= end:
                key = f"execution:{execution}" if execution else f"review:{review}"
                by_agent[agent].append(((at, key), before, after))
        moves = {}
        for agent, picked in by_agent.items():
            picked.sort()
            moves[agent] = (picked[0][1], picked[-1][2], len(picked))
        top = sorted(moves, key=lambda a: (-abs(moves[a][1] - moves[a][0]), a))[:10]
        got = trust.trust_movers(snap, start, end)
        assert got["agent_id"].tolist() == top
        for _, row in got.iterrows():
            before, after, n = moves[row["agent_id"]]
            assert (row["score_before"], row["score_after"], row["events"]) == (
                pytest.approx(before),
                pytest.approx(after),
                n,
            )
            assert row["change"] == pytest.approx(after - before)


@pytest.mark.parametrize("limit", [1, 25, 10_000])
def test_audit_trail_is_the_newest_events_for_any_days(warehouse_env: Published, limit: int):
    """Newest first, the trail reads only the days that hold the newest ``limit`` events (a
    bound from the daily trust mart) and the whole period when they are too few: the rows
    must be the period's newest ``limit`` events either way, with and without an agent."""
    path = warehouse_env.warehouse
    snap = warehouse.snapshot()
    events = rows(path, "select record_id, agent_id, occurred_at, seq from marts.trust_events")
    agent = rows(path, "select agent_id from marts.trust_events group by 1 order by count(*) desc")[
        0
    ][0]
    for start, end in windows(path):
        for who in (None, agent):
            picked = [e for e in events if start <= e[2].date() <= end and who in (None, e[1])]
            picked.sort(key=lambda e: (e[2], e[3]), reverse=True)
            got = trust.trust_events(snap, start, end, agent_id=who, limit=limit)
            assert got["record_id"].tolist() == [e[0] for e in picked[:limit]], (start, who)


def test_dashboard_sql_reads_only_marts_and_ops() -> None:
    """The pages select and filter what the marts (and the macros over them) computed: no
    query of the dashboards reads raw, staging or intermediate."""
    root = Path(warehouse.__file__).parent
    for module in sorted(root.rglob("*.py")):
        found = re.findall(r"\b(raw|staging|intermediate|platform)\.[a-z_]+\b", module.read_text())
        assert not found, (module, found)
