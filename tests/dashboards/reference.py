"""The dashboards' figures computed here, in Python, from the published warehouse's rows:
what the pages and the query module are compared against (never their own SQL)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np

from pipelines.warehouse.lake import open_published


def rows(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Every row of ``sql`` on the warehouse at ``path``, read only."""
    with open_published(path) as con:
        return con.execute(sql, params or []).fetchall()


def executions(path: Path) -> list[tuple]:
    """(agent_id, user_id, status, duration_ms, day) of every unquarantined execution."""
    return rows(
        path,
        "select agent_id, user_id, status, duration_ms, created_at::date"
        " from marts.executions_all where not is_quarantined",
    )


def figures(every: list[tuple], start: date, end: date, agent: int | None) -> dict:
    """The Overview's headline figures of [start, end] (and one agent) from ``executions``
    rows; revenue aside, which the pages take from the daily usage."""
    picked = [r for r in every if start <= r[4] <= end and agent in (None, r[0])]
    finished = [r for r in picked if r[2] in ("completed", "failed", "timeout")]
    completed = [r[3] for r in picked if r[2] == "completed" and r[3] is not None]
    return {
        "executions": len(picked),
        "success_rate": (
            sum(r[2] == "completed" for r in finished) / len(finished) if finished else None
        ),
        # np.percentile's default (linear) is DuckDB's quantile_cont
        "p95_duration_ms": float(np.percentile(completed, 95)) if completed else None,
        "active_agents": len({r[0] for r in picked}),
        "active_users": len({r[1] for r in picked} - {None}),
    }
