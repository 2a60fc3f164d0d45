"""The agenthub dashboards: ``agenthub dashboard`` or ``streamlit run dashboards/app.py``.

The entry script every page runs inside: it checks the published warehouse (a missing, empty
or outdated one gets a message with the command to run, never a traceback), then runs the page
the user picked, which draws the shared filters and the freshness line (filters.page).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import filters

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="agenthub analytics", page_icon=":material/analytics:", layout="wide")

# Before the navigation: with no usable warehouse there is nothing to navigate.
filters.usable_snapshot()

navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/insights:", default=True),
        st.Page(PAGES / "agents.py", title="Agents", icon=":material/smart_toy:"),
        st.Page(PAGES / "trust.py", title="Trust", icon=":material/verified_user:"),
        st.Page(PAGES / "metrics.py", title="Metrics", icon=":material/monitoring:"),
        st.Page(PAGES / "maintenance.py", title="Maintenance", icon=":material/cleaning_services:"),
        st.Page(PAGES / "data_quality.py", title="Data quality", icon=":material/rule:"),
    ]
)
navigation.run()
