"""Checks on the metrics marts: sample counts against the points, freshness.

Their unique_grain checks come from the ``grain:`` headers of their SQL files. The run's
``samples_match_points`` covers the days the run rebuilt; its ``_all_days`` twin (daily_checks
job) every day.
"""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.usage.checks import EVERY_DAY
from pipelines.warehouse.checks import newest_day_check, not_built, run_days
from pipelines.warehouse.resource import Warehouse


def samples_check(table: str, grain: str, *, all_days: bool) -> dg.AssetChecksDefinition:
    """Per day rolled up, the buckets' samples equal the clean points of that day: over the
    run's days, or (``all_days``) every day."""

    @dg.asset_check(
        asset=["marts", table],
        name="samples_match_points_all_days" if all_days else "samples_match_points",
        blocking=not all_days,
        description=f"For {'every day (daily)' if all_days else 'each day this run rebuilt'} "
        f"in marts.{table}, the samples add up to the clean metric points recorded that day.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        days = EVERY_DAY if all_days else (run_days(context) or EVERY_DAY)
        with warehouse.connect(marts=True) as con:
            if missing := not_built(con, f"marts.{table}"):
                return missing
            mismatched = con.execute(
                f"""
                with mart as (
                    select bucket_start::date as day, sum(samples) as n
                    from marts.{table}
                    where bucket_start >= ? and bucket_start < ?
                    group by 1
                ),
                points as (
                    select recorded_at::date as day, count(*) as n
                    from intermediate.valid_agent_metrics
                    where recorded_at >= ? and recorded_at < ?
                      and recorded_at::date in (select day from mart)
                    group by 1
                )
                select count(*) from mart full join points using (day)
                where mart.n is distinct from points.n
                """,
                [*days, *days],
            ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=mismatched == 0,
            metadata={
                "days_mismatched": mismatched,
                "grain": grain,
                "days": f"{days[0]} to {days[1]}",
            },
        )

    return _check


ROLLUPS = (("metrics_rollup_hourly", "hour"), ("metrics_rollup_daily", "day"))
#: Checks that read whole histories: the daily_checks job runs them, not the hourly run.
DAILY_METRICS_CHECKS = [samples_check(t, g, all_days=True) for t, g in ROLLUPS]

metrics_checks = [
    *(samples_check(t, g, all_days=False) for t, g in ROLLUPS),
    *DAILY_METRICS_CHECKS,
    *(
        newest_day_check(
            f"marts.{table}",
            "bucket_start::date",
            "intermediate.valid_agent_metrics",
            "recorded_at::date",
            "metric points",
        )
        for table, _ in ROLLUPS
    ),
]
