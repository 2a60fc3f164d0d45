"""Overview: the period's headline figures against the period before, executions per day by
outcome, and the agents that need attention."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import components, filters, queries

snap, f = filters.page()
st.title("Overview" + (f" · {f.agent_name}" if f.agent_name else ""))
st.caption(
    f"{f.start:%Y-%m-%d} to {f.end:%Y-%m-%d} ({f.days} days), each figure against the "
    f"{f.days} days before."
)

figures = queries.headline(snap, f.start, f.end, f.agent_id).set_index("period")
now, before = figures.loc["current"], figures.loc["previous"]
cells = st.columns(6)
cells[0].metric(
    "Executions",
    components.number(now.executions),
    components.change(now.executions, before.executions),
)
cells[1].metric(
    "Success rate",
    components.number(now.success_rate, "{:.1%}"),
    components.change(now.success_rate, before.success_rate, points=True),
    help="completed / (completed + failed + timed out); cancelled executions left out",
)
cells[2].metric(
    "p95 latency",
    components.number(now.p95_duration_ms, "{:,.0f} ms"),
    components.change(now.p95_duration_ms, before.p95_duration_ms),
    delta_color="inverse",
    help="95th percentile duration of the completed executions of the period",
)
cells[3].metric(
    "Active agents",
    components.number(now.active_agents),
    components.change(now.active_agents, before.active_agents),
)
cells[4].metric(
    "Active users",
    components.number(now.active_users),
    components.change(now.active_users, before.active_users),
)
cells[5].metric(
    "Revenue",
    components.number(now.revenue, "${:,.0f}"),
    components.change(now.revenue, before.revenue),
    help="per-use price × completed executions",
)

st.subheader("Executions per day by outcome")
daily = queries.daily_by_status(snap, f.start, f.end, f.agent_id)
if daily.empty:
    components.nothing("executions")
else:
    chart = px.bar(
        daily,
        x="day",
        y="executions",
        color="status",
        color_discrete_map={
            "completed": "#2e7d32",
            "failed": "#c62828",
            "timed_out": "#ef6c00",
            "cancelled": "#9e9e9e",
        },
        category_orders={"status": ["completed", "failed", "timed_out", "cancelled"]},
    )
    chart.update_layout(height=340, margin={"t": 10, "b": 10}, legend_title_text="")
    st.plotly_chart(chart)

st.subheader("Attention")
alerts = queries.alerts(snap)
if f.agent_id is not None:
    alerts = alerts[alerts["agent_id"] == f.agent_id]
if alerts.empty:
    st.success(
        "No agent crosses an attention threshold in the last 24 hours.",
        icon=":material/check_circle:",
    )
else:
    st.caption(
        f"{len(alerts)} alerts, checked {alerts['checked_at'].max():%Y-%m-%d %H:%M} UTC against "
        "each agent's own 7-day baseline (thresholds: run config of marts/agent_alerts)."
    )
    st.dataframe(
        alerts[["agent_name", "agent_id", "rule", "detail", "observed", "baseline", "threshold"]],
        hide_index=True,
        column_config={
            "agent_name": "Agent",
            "agent_id": st.column_config.NumberColumn("Id", format="%d"),
            "rule": "Rule",
            "detail": st.column_config.TextColumn("What triggered it", width="large"),
            "observed": st.column_config.NumberColumn("Observed", format="%.3f"),
            "baseline": st.column_config.NumberColumn("Baseline", format="%.3f"),
            "threshold": st.column_config.NumberColumn("Threshold", format="%.3f"),
        },
    )
