"""Metrics: hourly and daily rollups of agent metric points (partitioned), agent liveness."""
