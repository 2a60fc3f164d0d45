"""The Dagster code location: ingest, usage, trust, metrics and maintenance, by domain."""
