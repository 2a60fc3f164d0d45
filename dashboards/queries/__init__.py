"""What each dashboard page reads, one module per page. The SQL only selects and filters:
figures are columns of marts, or of the ``sql/macros/`` table macros where they depend on the
filter (dashboards/warehouse.py creates them)."""
