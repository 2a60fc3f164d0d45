"""The DuckDB warehouse: the pipeline's private working file and its published snapshot."""
