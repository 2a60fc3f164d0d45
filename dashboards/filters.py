"""The date range and agent filters every page shares.

Every page starts with :func:`page`, which draws the filters in the sidebar and the freshness
line. Their values are kept in ``st.session_state`` under keys of their own, so they persist
while the user moves between pages; they are mirrored into the URL's query parameters
(``?from=2026-11-01&to=2026-11-23&agent_id=7``) so a view can be shared or bookmarked, and a
URL with those parameters opens on that view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards import components, warehouse
from dashboards.warehouse import Snapshot

#: Default width of the date range, ending on the newest day with data.
DEFAULT_DAYS = 30
#: Where the filters' values are kept in st.session_state between runs and pages.
PERIOD, AGENT, EMAILS = "filter_period", "filter_agent_id", "filter_reveal_emails"
ALL_AGENTS = "All agents"


@dataclass(frozen=True)
class Filters:
    """What every page shows: days ``start`` to ``end`` inclusive, optionally one agent."""

    start: date
    end: date
    agent_id: int | None
    agent_name: str | None
    reveal_emails: bool

    @property
    def days(self) -> int:
        """Length of the period in days."""
        return (self.end - self.start).days + 1


def _param_date(name: str) -> date | None:
    try:
        return date.fromisoformat(st.query_params[name])
    except (KeyError, ValueError):
        return None


def _param_agent() -> int | None:
    try:
        return int(st.query_params["agent_id"])
    except (KeyError, ValueError):
        return None


def sidebar(snap: Snapshot) -> Filters:
    """Render the filters in the sidebar (first from the URL, then as the user left them)."""
    first, last = warehouse.data_days(snap) or (date.today(), date.today())
    named = warehouse.agents(snap)
    names = dict(zip(named["agent_id"].astype(int), named["agent_name"], strict=True))
    state = st.session_state
    if PERIOD not in state:
        start = _param_date("from") or max(first, last - timedelta(days=DEFAULT_DAYS - 1))
        end = _param_date("to") or last
        start, end = max(first, min(start, last)), max(first, min(end, last))
        state[PERIOD] = (min(start, end), max(start, end))
        wanted = _param_agent()
        state[AGENT] = wanted if wanted in names else None
        state[EMAILS] = False
    # The widgets have no keys: Streamlit drops a keyed widget's state on the way between
    # pages (seen in Chromium), so each run draws them at the kept values instead, and keeps
    # the user's change at the end of the run. The selectbox's options are the
    # labels themselves, which AppTest can set as well as a browser.
    labels = {ALL_AGENTS: None} | {f"{n} (#{a})": a for a, n in names.items()}
    if state[AGENT] not in labels.values():
        state[AGENT] = None  # an agent the new snapshot no longer has
    with st.sidebar:
        st.subheader("Filters")
        period = st.date_input(
            "Date range (UTC)",
            value=state[PERIOD],
            min_value=first,
            max_value=last,
            help="Days with data run from the first to the last execution or hiring.",
        )
        agent = st.selectbox("Agent", list(labels), index=list(labels.values()).index(state[AGENT]))
        agent_id = labels[agent]
        reveal = st.toggle(
            "Show user emails",
            value=state[EMAILS],
            help="Emails are masked by default (a****@example.com).",
        )
    # While the user has picked only the first day of a range, keep that single day.
    start, end = (period[0], period[-1]) if period else (first, last)
    if len(period or ()) == 2:
        state[PERIOD] = (start, end)
    state[AGENT], state[EMAILS] = agent_id, bool(reveal)
    st.query_params.from_dict(
        {"from": start.isoformat(), "to": end.isoformat()}
        | ({"agent_id": str(agent_id)} if agent_id is not None else {})
    )
    return Filters(start, end, agent_id, names.get(agent_id), bool(reveal))


def select_agent(agent_id: int | None) -> None:
    """Switch the agent filter (from a callback, before the widgets are drawn again)."""
    st.session_state[AGENT] = agent_id


def page() -> tuple[Snapshot, Filters]:
    """What every page starts with: the published snapshot this run reads (checked: a missing,
    empty or outdated warehouse stops the page with what to run), the filters drawn in the
    sidebar, and the freshness line (with its banner when the data is stale)."""
    snap = usable_snapshot()
    chosen = sidebar(snap)
    components.freshness(snap)
    return snap, chosen


def usable_snapshot() -> Snapshot:
    """The published snapshot, or a message with the command to run and the end of this run."""
    snap = warehouse.snapshot()
    status = warehouse.state(snap)
    if snap is None or not status.ready:
        st.title("agenthub analytics")
        st.info(status.message, icon=":material/build:")
        st.stop()
    return snap
