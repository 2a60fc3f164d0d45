"""Metrics: one metric for one or more agents per hour or day (samples, mean and the p50-p95
band from the rollups, which outlive the raw points), and the agents whose heartbeat is late."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboards import components, filters, warehouse
from dashboards.queries import metrics

snap, f = filters.page()
st.title("Metrics")

names = metrics.metric_names(snap)
agents = warehouse.agents(snap)
labels = dict(zip(agents["agent_id"].astype(int), agents["agent_name"], strict=True))
if not names:
    st.info("No metric points have been rolled up yet.", icon=":material/info:")
else:
    pick, metric_cell, grain_cell = st.columns([3, 2, 1])
    chosen = pick.multiselect(
        "Agents",
        list(labels),
        default=[f.agent_id] if f.agent_id is not None else list(labels)[:3],
        format_func=lambda a: f"{labels[a]} (#{a})",
        key="metric_agents",
    )
    metric = metric_cell.selectbox("Metric", names, key="metric_name")
    granularity = grain_cell.radio("Buckets", ["day", "hour"], key="metric_granularity")
    series = metrics.metric_series(snap, chosen, metric, granularity, f.start, f.end)
    if not chosen:
        st.info("Pick at least one agent.", icon=":material/info:")
    elif series.empty:
        components.nothing(f"{metric} points")
    else:
        band = go.Figure()
        samples = go.Figure()
        for agent_id, rows in series.groupby("agent_id"):
            name = labels.get(int(agent_id), str(agent_id))
            band.add_trace(
                go.Scatter(
                    x=rows["bucket_start"],
                    y=rows["p95"],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    name=f"{name} p95",
                )
            )
            band.add_trace(
                go.Scatter(
                    x=rows["bucket_start"],
                    y=rows["p50"],
                    mode="lines",
                    fill="tonexty",
                    line={"width": 0},
                    name=f"{name} p50–p95",
                    opacity=0.3,
                )
            )
            band.add_trace(
                go.Scatter(x=rows["bucket_start"], y=rows["avg"], mode="lines", name=f"{name} avg")
            )
            samples.add_trace(go.Bar(x=rows["bucket_start"], y=rows["samples"], name=name))
        band.update_layout(height=360, margin={"t": 10, "b": 10}, yaxis_title=metric)
        samples.update_layout(
            height=220, margin={"t": 10, "b": 10}, yaxis_title="samples", barmode="group"
        )
        st.subheader(f"{metric} per {granularity}: mean and p50–p95 band")
        st.plotly_chart(band)
        st.subheader("Samples per bucket")
        st.plotly_chart(samples)

st.subheader("Stale agents")
stale = metrics.stale_agents(snap)
if stale.empty:
    st.success(
        "Every approved or active agent has sent a recent heartbeat.",
        icon=":material/check_circle:",
    )
else:
    st.caption("Approved or active agents whose last heartbeat is older than the threshold.")
    st.dataframe(stale, hide_index=True)
