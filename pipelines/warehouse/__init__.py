"""The warehouse: a DuckLake the pipeline writes and readers open at its published snapshot."""
