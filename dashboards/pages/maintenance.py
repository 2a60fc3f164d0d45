"""Maintenance: what the last maintenance runs did, the archive by month, hirings expired,
counters repaired, orphaned rows and the platform tables' health and growth."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import components, filters, warehouse
from dashboards.queries import maintenance

snap, _ = filters.page()
st.title("Maintenance")
if not warehouse.has_maintenance(snap):
    components.maintenance_not_run()
    st.stop()

runs = maintenance.maintenance_runs(snap)
st.subheader("Last runs")
st.dataframe(
    runs,
    hide_index=True,
    column_config={
        "started_at": st.column_config.DatetimeColumn("Started", format="YYYY-MM-DD HH:mm"),
        "seconds": st.column_config.NumberColumn("Seconds", format="%.1f"),
        "archive_bytes": st.column_config.NumberColumn("Archive bytes", format="localized"),
    },
)
if not runs.empty:
    run_id = st.selectbox("Steps of run", runs["run_id"], key="maintenance_run")
    st.dataframe(maintenance.maintenance_operations(snap, run_id), hide_index=True)

st.subheader("Archive by month")
months = maintenance.archive_months(snap)
if months.empty:
    st.info("Nothing has been archived yet: no execution or metric point is past retention.")
else:
    unverified = months[~months["verified"]]
    if not unverified.empty:
        st.error(
            f"{len(unverified)} archive months failed verification (a file missing or its row "
            "count differs): see marts.archive_months.",
            icon=":material/error:",
        )
    chart = px.bar(months, x="month", y="rows", color="table_name", barmode="group")
    chart.update_layout(height=280, margin={"t": 10, "b": 10}, legend_title_text="")
    st.plotly_chart(chart)
    st.dataframe(months, hide_index=True)

expired, drift = st.columns(2)
with expired:
    st.subheader("Expired hirings")
    hirings = maintenance.expired_hirings(snap)
    if hirings.empty:
        st.info("No hiring has been expired yet.")
    else:
        st.dataframe(hirings, hide_index=True)
with drift:
    st.subheader("Counter drift repaired")
    repaired = maintenance.counter_drift(snap)
    if repaired.empty:
        st.success("Every counter matched the truth at each run.", icon=":material/check_circle:")
    else:
        st.dataframe(repaired, hide_index=True)

st.subheader("Orphaned rows (latest run)")
found = maintenance.orphans(snap)
if found.empty or not found["orphan_rows"].any():
    st.success("No orphaned rows: every foreign key resolves.", icon=":material/check_circle:")
else:
    st.dataframe(found, hide_index=True)

st.subheader("Table health and growth")
health = maintenance.table_health(snap)
latest = health[health["checked_at"] == health["checked_at"].max()]
st.dataframe(
    latest.drop(columns="checked_at"),
    hide_index=True,
    column_config={
        "total_bytes": st.column_config.NumberColumn("Bytes", format="localized"),
        "index_bytes": st.column_config.NumberColumn("Index bytes", format="localized"),
        "dead_tuple_ratio": st.column_config.NumberColumn("Dead tuples", format="percent"),
        "rows_per_day": st.column_config.NumberColumn("Rows per day", format="%.0f"),
    },
)
if health["checked_at"].nunique() > 1:
    chart = px.line(health, x="checked_at", y="rows", color="table_name", markers=True)
    chart.update_layout(height=280, margin={"t": 10, "b": 10}, legend_title_text="")
    st.plotly_chart(chart)
