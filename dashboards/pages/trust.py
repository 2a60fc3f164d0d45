"""Trust: how trust scores are distributed, who moved most in the period, and the audit trail
of every event that moved a score (marts.trust_events), filtered."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import components, filters
from dashboards.queries import trust

snap, f = filters.page()
st.title("Trust")

scores = trust.trust_scores(snap)
distribution, movers = st.columns(2)
with distribution:
    st.subheader("Score distribution")
    st.caption(f"{len(scores)} agents; median {scores['trust_score'].median():.3f}")
    chart = px.histogram(scores, x="trust_score", nbins=20, range_x=[0, 1])
    chart.update_layout(height=320, margin={"t": 10, "b": 10}, yaxis_title="agents")
    st.plotly_chart(chart)
with movers:
    st.subheader("Biggest movers")
    st.caption(f"Score change over events that occurred {f.start:%Y-%m-%d} to {f.end:%Y-%m-%d}")
    moved = trust.trust_movers(snap, f.start, f.end)
    if moved.empty:
        components.nothing("trust events")
    else:
        st.dataframe(
            moved,
            hide_index=True,
            column_config={
                "agent_id": st.column_config.NumberColumn("Id", format="%d"),
                "agent_name": "Agent",
                "score_before": st.column_config.NumberColumn("Before", format="%.3f"),
                "score_after": st.column_config.NumberColumn("After", format="%.3f"),
                "change": st.column_config.NumberColumn("Change", format="%+.3f"),
                "events": "Events",
            },
        )

st.subheader("Audit trail")
types = st.multiselect(
    "Event types", trust.trust_event_types(snap), key="trust_event_types", placeholder="All"
)
biggest = st.toggle("Largest moves first", key="trust_biggest_first")
trail = trust.trust_events(
    snap, f.start, f.end, agent_id=f.agent_id, event_types=types, biggest=biggest, limit=500
)
if trail.empty:
    components.nothing("trust events")
else:
    st.caption(
        f"{len(trail)} events shown (at most 500), "
        + ("largest moves first" if biggest else "newest first")
        + (f", agent {f.agent_name}" if f.agent_name else "")
    )
    st.dataframe(
        trail,
        hide_index=True,
        column_config={
            "trust_score_before": st.column_config.NumberColumn("Before", format="%.4f"),
            "trust_score_after": st.column_config.NumberColumn("After", format="%.4f"),
            "trust_delta": st.column_config.NumberColumn("Change", format="%+.4f"),
        },
    )
