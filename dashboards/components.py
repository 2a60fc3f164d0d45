"""Pieces several pages share: the freshness line and banner, headline figures with their change,
and the notes a page shows when it has nothing to show."""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta

import streamlit as st

from dashboards import warehouse
from dashboards.warehouse import Snapshot

#: Published data older than this gets a warning banner (``DASHBOARD_STALE_AFTER_MINUTES``);
#: two missed hourly runs by default.
DEFAULT_STALE_AFTER_MINUTES = 120


def stale_after() -> timedelta:
    """The freshness limit from ``DASHBOARD_STALE_AFTER_MINUTES``."""
    raw = os.environ.get("DASHBOARD_STALE_AFTER_MINUTES", str(DEFAULT_STALE_AFTER_MINUTES))
    try:
        minutes = float(raw)
    except ValueError:
        st.warning(
            f"DASHBOARD_STALE_AFTER_MINUTES={raw!r} is not a number of minutes; using "
            f"{DEFAULT_STALE_AFTER_MINUTES}."
        )
        minutes = DEFAULT_STALE_AFTER_MINUTES
    return timedelta(minutes=minutes)


def age(delta: timedelta | None) -> str:
    """``3 min``, ``5.2 h``, ``2.0 days``."""
    if delta is None:
        return "unknown"
    seconds = max(delta.total_seconds(), 0)
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def freshness(snap: Snapshot, now: datetime | None = None) -> None:
    """When the warehouse was published and how old its newest platform row is; a warning
    banner when the publish is older than the limit."""
    now = now or datetime.utcnow()
    fresh = warehouse.freshness(snap)
    published, source = fresh.published_age(now), fresh.source_age(now)
    limit = stale_after()
    st.caption(
        f"Warehouse published {fresh.published_at:%Y-%m-%d %H:%M} UTC ({age(published)} ago) · "
        f"newest platform row {age(source)} old"
    )
    if published > limit:
        st.warning(
            f"**The data is stale**: the warehouse was last published {age(published)} ago "
            f"(limit {age(limit)}). Is the hourly pipeline running? Run it by hand with "
            f"`{warehouse.RUN_FIRST}`.",
            icon=":material/schedule:",
        )


def change(current: float | None, previous: float | None, *, points: bool = False) -> str | None:
    """The change against the previous period, as st.metric's delta text: relative (``+12.5%``)
    or, for rates, in percentage points (``-3.1 pp``); None when there is nothing to compare."""
    if current is None or previous is None or _nan(current) or _nan(previous):
        return None
    if points:
        return f"{100 * (current - previous):+.1f} pp"
    if previous == 0:
        return None
    return f"{100 * (current - previous) / previous:+.1f}%"


def _nan(value: float) -> bool:
    return isinstance(value, float) and math.isnan(value)


def number(value: float | None, fmt: str = "{:,.0f}") -> str:
    """A figure for st.metric, ``–`` when missing."""
    return "–" if value is None or _nan(value) else fmt.format(value)


def nothing(what: str) -> None:
    """A page section without rows in the chosen filters."""
    st.info(f"No {what} in the chosen period and agent.", icon=":material/info:")


def maintenance_not_run() -> None:
    """The maintenance pages before the first maintenance run."""
    st.info(
        "The maintenance job has not run on this warehouse yet, so there is nothing to report. "
        "Run it with `agenthub maintenance run` (add `--dry-run` to see what it would do), or "
        "wait for the nightly schedule.",
        icon=":material/cleaning_services:",
    )
