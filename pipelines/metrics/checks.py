"""Checks on the metrics marts: sample counts against the points, freshness.

Their unique_grain checks come from the ``grain:`` headers of their SQL files.
"""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.resources import Warehouse
from pipelines.warehouse.checks import newest_day_check


def samples_check(table: str, grain: str) -> dg.AssetChecksDefinition:
    """Per day rolled up, the buckets' samples equal the clean points of that day."""

    @dg.asset_check(
        asset=["marts", table],
        name="samples_match_points",
        blocking=True,
        description=f"For every day in marts.{table}, the samples add up to the clean metric "
        "points recorded that day.",
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(marts=True) as con:
            mismatched = con.execute(
                f"""
                with mart as (
                    select bucket_start::date as day, sum(samples) as n
                    from marts.{table} group by 1
                ),
                points as (
                    select recorded_at::date as day, count(*) as n
                    from intermediate.valid_agent_metrics
                    where recorded_at::date in (select day from mart)
                    group by 1
                )
                select count(*) from mart full join points using (day)
                where mart.n is distinct from points.n
                """
            ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=mismatched == 0, metadata={"days_mismatched": mismatched, "grain": grain}
        )

    return _check


metrics_checks = [
    samples_check("metrics_rollup_hourly", "hour"),
    samples_check("metrics_rollup_daily", "day"),
    *(
        newest_day_check(
            f"marts.{table}",
            "bucket_start::date",
            "intermediate.valid_agent_metrics",
            "recorded_at::date",
            "metric points",
        )
        for table in ("metrics_rollup_hourly", "metrics_rollup_daily")
    ),
]
