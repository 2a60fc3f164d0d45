"""Metrics: the checks of the metrics marts (the rollups and liveness are sql/marts/ files)."""
