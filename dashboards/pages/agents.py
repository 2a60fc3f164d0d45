"""Agents: every agent in a sortable table; pick one (the sidebar, a click in the table, or
``?agent_id=`` in the URL) for its own page: daily usage, latency percentiles, failures and
their most frequent messages, trust history and the events that moved it, metric series."""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import components, filters
from dashboards.queries import agents, metrics, trust

snap, f = filters.page()


def on_pick() -> None:
    """A row clicked in the table becomes the agent filter (every page follows it)."""
    rows = st.session_state["agent_table"]["selection"]["rows"]
    if rows:
        filters.select_agent(int(st.session_state["_agent_ids"][rows[0]]))


if f.agent_id is None:
    st.title("Agents")
    st.caption(
        f"Usage {f.start:%Y-%m-%d} to {f.end:%Y-%m-%d}; all-time columns say so. Click a row "
        "(or pick an agent in the sidebar) for the agent's page."
    )
    table = agents.agent_table(snap, f.start, f.end)
    st.session_state["_agent_ids"] = table["agent_id"].tolist()
    st.dataframe(
        table,
        hide_index=True,
        key="agent_table",
        on_select=on_pick,
        selection_mode="single-row",
        column_config={
            "agent_id": st.column_config.NumberColumn("Id", format="%d"),
            "agent_name": "Agent",
            "executions": st.column_config.NumberColumn("Executions", format="localized"),
            "success_rate": st.column_config.NumberColumn("Success", format="percent"),
            "p50_ms": st.column_config.NumberColumn("p50 ms", format="%.0f"),
            "p95_ms": st.column_config.NumberColumn("p95 ms", format="%.0f"),
            "p99_ms": st.column_config.NumberColumn("p99 ms", format="%.0f"),
            "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
            "all_time_executions": st.column_config.NumberColumn(
                "Executions (all time)", format="localized"
            ),
            "all_time_success_rate": st.column_config.NumberColumn(
                "Success (all time)", format="percent"
            ),
            "active_hirings": "Active hirings",
            "unique_users": "Users (all time)",
            "average_rating": st.column_config.NumberColumn("Rating", format="%.2f"),
            "rating_count": "Reviews",
            "trust_score": st.column_config.ProgressColumn(
                "Trust", min_value=0.0, max_value=1.0, format="%.3f"
            ),
            "liveness": "Liveness",
            "last_execution_at": st.column_config.DatetimeColumn(
                "Last execution", format="YYYY-MM-DD HH:mm"
            ),
        },
    )
    st.stop()

# --- One agent ---------------------------------------------------------------------------------
st.title(f"{f.agent_name} (#{f.agent_id})")
st.button("← All agents", on_click=filters.select_agent, args=(None,))
summary = agents.agent_table(snap, f.start, f.end).set_index("agent_id").loc[f.agent_id]
cells = st.columns(5)
cells[0].metric("Executions", components.number(summary.executions))
cells[1].metric("Success rate", components.number(summary.success_rate, "{:.1%}"))
cells[2].metric("p95 latency", components.number(summary.p95_ms, "{:,.0f} ms"))
cells[3].metric("Trust", components.number(summary.trust_score, "{:.3f}"))
cells[4].metric("Liveness", summary.liveness)

daily = agents.agent_daily(snap, f.agent_id, f.start, f.end)
usage, latency = st.columns(2)
with usage:
    st.subheader("Daily usage")
    if daily.empty:
        components.nothing("executions")
    else:
        long = daily.melt(
            id_vars="day", value_vars=["completed", "failed", "timed_out", "cancelled"]
        )
        chart = px.bar(long, x="day", y="value", color="variable", labels={"value": "executions"})
        chart.update_layout(height=300, margin={"t": 10, "b": 10}, legend_title_text="")
        st.plotly_chart(chart)
with latency:
    st.subheader("Latency percentiles per day")
    if daily["p95_duration_ms"].notna().any():
        long = daily.melt(
            id_vars="day",
            value_vars=["p50_duration_ms", "p95_duration_ms", "p99_duration_ms"],
            var_name="percentile",
            value_name="ms",
        )
        long["percentile"] = long["percentile"].str.removesuffix("_duration_ms")
        chart = px.line(long, x="day", y="ms", color="percentile", markers=True)
        chart.update_layout(height=300, margin={"t": 10, "b": 10}, legend_title_text="")
        st.plotly_chart(chart)
    else:
        components.nothing("completed executions")

st.subheader("Failures by message")
failures = agents.agent_failures(snap, f.agent_id, f.start, f.end)
if failures.empty:
    st.success("No failed or timed-out executions in the period.", icon=":material/check_circle:")
else:
    st.dataframe(failures, hide_index=True)

trust_column, moves = st.columns(2)
with trust_column:
    st.subheader("Trust over time")
    history = agents.trust_history(snap, f.agent_id, f.start, f.end)
    if history.empty:
        components.nothing("trust events")
    else:
        chart = go.Figure(
            go.Scatter(x=history["hour"], y=history["trust_score"], mode="lines", line_shape="hv")
        )
        chart.update_layout(height=300, margin={"t": 10, "b": 10}, yaxis_title="trust score")
        st.plotly_chart(chart)
with moves:
    st.subheader("Events that moved it most")
    biggest = trust.trust_events(snap, f.start, f.end, agent_id=f.agent_id, biggest=True, limit=10)
    if biggest.empty:
        components.nothing("trust events")
    else:
        st.dataframe(
            biggest[["occurred_at", "event_type", "reason", "trust_delta", "trust_score_after"]],
            hide_index=True,
            column_config={"trust_delta": st.column_config.NumberColumn(format="%+.4f")},
        )

st.subheader("Metrics")
names = metrics.metric_names(snap)
if names:
    metric = st.selectbox("Metric", names, key="agent_metric")
    series = metrics.metric_series(snap, [f.agent_id], metric, "day", f.start, f.end)
    if series.empty:
        components.nothing(f"{metric} points")
    else:
        chart = go.Figure(
            [
                go.Scatter(x=series["bucket_start"], y=series["p95"], name="p95", mode="lines"),
                go.Scatter(x=series["bucket_start"], y=series["avg"], name="avg", mode="lines"),
            ]
        )
        chart.update_layout(height=300, margin={"t": 10, "b": 10}, yaxis_title=metric)
        st.plotly_chart(chart)

st.subheader("Top users")
st.dataframe(
    agents.agent_top_users(snap, f.agent_id, f.start, f.end, reveal_emails=f.reveal_emails),
    hide_index=True,
)
