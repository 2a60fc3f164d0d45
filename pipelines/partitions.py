"""The daily partitioning shared by the day-sliced marts."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import dagster as dg

#: UTC days, from the start of the platform's history to today (the current day included, so
#: today's activity rolls up as it comes in).
daily_partitions = dg.DailyPartitionsDefinition(start_date="2025-01-01", end_offset=1)
#: The first of them, bound as ``$first_day`` in sql/ (days before it are no partition).
FIRST_PARTITION_DAY: date = daily_partitions.start.date()


def day_range(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """[first day, day after the last) of the run's partition key or backfill range."""
    keys = context.partition_key_range
    start = datetime.strptime(keys.start, "%Y-%m-%d").date()
    end = datetime.strptime(keys.end, "%Y-%m-%d").date() + timedelta(days=1)
    return start, end
