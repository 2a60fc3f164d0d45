"""Overview: the period's headline figures against the period before, executions per day by
outcome, and the agents that need attention."""

from __future__ import annotations

from datetime import timedelta

import plotly.express as px
import streamlit as st

from dashboards import components, filters, warehouse
from dashboards.queries import overview

snap, f = filters.page()
st.title("Overview" + (f" · {f.agent_name}" if f.agent_name else ""))
first_day = (warehouse.data_days(snap) or (f.start, f.end))[0]
partly = f.start - timedelta(days=f.days) < first_day
st.caption(
    f"{f.start:%Y-%m-%d} to {f.end:%Y-%m-%d} ({f.days} days), each figure against the "
    f"{f.days} days before"
    + (
        f" — which reach back before the first data ({first_day:%Y-%m-%d}), so the changes "
        "compare against part of a period."
        if partly
        else "."
    )
)

#: Headline figures: label, column of overview.headline, format, change in percentage points
#: (rates) rather than relative, lower is better, help.
HEADLINE = (
    ("Executions", "executions", "{:,.0f}", False, False, None),
    (
        "Success rate", "success_rate", "{:.1%}", True, False,
        "completed / (completed + failed + timed out); cancelled executions left out",
    ),
    (
        "p95 latency", "p95_duration_ms", "{:,.0f} ms", False, True,
        "95th percentile duration of the completed executions of the period",
    ),
    ("Active agents", "active_agents", "{:,.0f}", False, False, None),
    ("Active users", "active_users", "{:,.0f}", False, False, None),
    ("Revenue", "revenue", "${:,.0f}", False, False, "per-use price × completed executions"),
)  # fmt: skip

figures = overview.headline(snap, f.start, f.end, f.agent_id).set_index("period")
now, before = figures.loc["current"], figures.loc["previous"]
for cell, (label, column, fmt, points, lower_is_better, explained) in zip(
    st.columns(len(HEADLINE)), HEADLINE, strict=True
):
    cell.metric(
        label,
        components.number(now[column], fmt),
        components.change(now[column], before[column], points=points),
        delta_color="inverse" if lower_is_better else "normal",
        help=explained,
    )

st.subheader("Executions per day by outcome")
daily = overview.daily_by_status(snap, f.start, f.end, f.agent_id)
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
alerts = overview.alerts(snap)
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
