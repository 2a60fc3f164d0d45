"""The Streamlit dashboards: monitoring and maintenance reports over the published warehouse.

``agenthub dashboard`` (or ``streamlit run dashboards/app.py``) starts them; every query lives
in :mod:`dashboards.queries`.
"""
