"""Checks on the usage marts: reconciliation with executions_all, freshness.

Their unique_grain checks come from the ``grain:`` headers of their SQL files. The run's
checks cover the days the run rebuilt; the ``_all_days`` twins (daily_checks job) reconcile
every day and the all-time totals, which read the whole history.
"""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
from datetime import date

import dagster as dg

from pipelines.warehouse.checks import newest_day_check, not_built, run_days
from pipelines.warehouse.resource import Warehouse

_DAILY_MISMATCHES = """
with mart as (
    select day, sum(executions) as n, sum(completed) as c, sum(failed) as f,
           sum(timed_out) as t, sum(cancelled) as x
    from marts.agent_usage_daily
    where day >= ? and day < ?
    group by day
),
source as (
    select created_at::date as day, count(*) as n,
           count(*) filter (where status = 'completed') as c,
           count(*) filter (where status = 'failed') as f,
           count(*) filter (where status = 'timeout') as t,
           count(*) filter (where status = 'cancelled') as x
    from intermediate.executions_all
    where not is_quarantined
      and created_at >= ? and created_at < ?
      and created_at::date in (select day from mart)
    group by 1
)
select count(*) from mart full join source using (day)
-- days with only new hirings have zero executions in the mart and none in source
where coalesce(mart.n, 0) <> coalesce(source.n, 0)
   or coalesce(mart.c, 0) <> coalesce(source.c, 0)
   or coalesce(mart.f, 0) <> coalesce(source.f, 0)
   or coalesce(mart.t, 0) <> coalesce(source.t, 0)
   or coalesce(mart.x, 0) <> coalesce(source.x, 0)
"""
#: The widest range of days, for a check that covers every day.
EVERY_DAY = (date(1, 1, 1), date(9999, 12, 31))


def daily_reconciliation(*, all_days: bool) -> dg.AssetChecksDefinition:
    """Executions per day and outcome in ``agent_usage_daily`` against executions_all: over
    the run's days, or (``all_days``, daily_checks) over every day."""

    @dg.asset_check(
        asset=["marts", "agent_usage_daily"],
        name="reconciles_with_executions_all_days" if all_days else "reconciles_with_executions",
        # The run's check guards what its run publishes; the daily one has nothing downstream.
        blocking=not all_days,
        description=(
            f"For {'every day in the mart (daily)' if all_days else 'each day this run rebuilt'}"
            ", its executions (and each outcome) add up to the clean executions of that day in "
            "intermediate.executions_all."
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        days = EVERY_DAY if all_days else (run_days(context) or EVERY_DAY)
        with warehouse.connect(marts=True) as con:
            if missing := not_built(con, "marts.agent_usage_daily"):
                return missing
            mismatched = con.execute(_DAILY_MISMATCHES, [*days, *days]).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=mismatched == 0,
            metadata={"days_mismatched": mismatched, "days": f"{days[0]} to {days[1]}"},
        )

    return _check


@dg.asset_check(
    asset=["marts", "agent_usage_summary"],
    name="reconciles_with_executions",
    description=(
        "Daily: all agents' total_executions add up to the clean executions of known agents "
        "(counts the whole history)."
    ),
)
def usage_summary_reconciles(warehouse: Warehouse) -> dg.AssetCheckResult:
    """The all-time total equals a plain count over executions_all."""
    with warehouse.connect(marts=True) as con:
        mart, source = con.execute(
            "select (select coalesce(sum(total_executions), 0) from marts.agent_usage_summary),"
            " (select count(*) from intermediate.executions_all where not is_quarantined"
            "  and agent_id in (select agent_id from intermediate.valid_agents))"
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=mart == source, metadata={"mart_total": int(mart), "executions": int(source)}
    )


#: Checks that read whole histories: the daily_checks job runs them, not the hourly run.
DAILY_USAGE_CHECKS = [daily_reconciliation(all_days=True), usage_summary_reconciles]

usage_checks = [
    daily_reconciliation(all_days=False),
    newest_day_check(
        "marts.agent_usage_daily",
        "day",
        "(select * from intermediate.executions_all where not is_quarantined)",
        "created_at::date",
        "clean executions",
    ),
    *DAILY_USAGE_CHECKS,
]
