"""Data quality: rows quarantined by table and rule at each pipeline run, and sample rows with
the rule they break (they stay out of every statistic)."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import filters
from dashboards.queries import data_quality

snap, _ = filters.page()
st.title("Data quality")

history = data_quality.quarantine_over_time(snap)
if history.empty:
    # A run records a row per table and rule only when that rule quarantined something.
    st.success(
        "No row has been quarantined: every platform row the pipeline has read passes every "
        "rule (the rules: sql/intermediate/quarantine.sql).",
        icon=":material/check_circle:",
    )
    st.stop()
checked = history["checked_at"].max()
latest = history[history["checked_at"] == checked]
total = int(latest["quarantined_rows"].sum())
st.metric(f"Quarantined rows at the run of {checked:%Y-%m-%d %H:%M} UTC", f"{total:,}")
history["series"] = history["table_name"] + " · " + history["rule"]
# Stacked bars per run (runs as categories): lines of equal counts hide one another.
history["run"] = history["checked_at"].dt.strftime("%Y-%m-%d %H:%M:%S")
chart = px.bar(history, x="run", y="quarantined_rows", color="series")
chart.update_layout(
    height=340, margin={"t": 10, "b": 10}, legend_title_text="", xaxis={"type": "category"}
)
st.subheader("Quarantined rows by table and rule, per run")
st.plotly_chart(chart)
st.dataframe(latest, hide_index=True)

st.subheader("Sample rows")
tables = sorted(latest["table_name"].unique())
table_cell, rule_cell = st.columns(2)
table = table_cell.selectbox(
    "Table", [None, *tables], format_func=lambda t: t or "All tables", key="dq_table"
)
rules = (
    sorted(latest[latest["table_name"] == table]["rule"].unique())
    if table
    else sorted(latest["rule"].unique())
)
rule = rule_cell.selectbox(
    "Rule", [None, *rules], format_func=lambda r: r or "All rules", key="dq_rule"
)
st.dataframe(data_quality.quarantine_samples(snap, table, rule), hide_index=True)
