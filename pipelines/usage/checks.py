"""Checks on the usage marts: reconciliation with executions_all, freshness.

Their unique_grain checks come from the ``grain:`` headers of their SQL files.
"""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.resources import Warehouse
from pipelines.warehouse.checks import newest_day_check


@dg.asset_check(
    asset=["marts", "agent_usage_daily"],
    name="reconciles_with_executions",
    blocking=True,
    description=(
        "For every day in the mart, its executions (and each outcome) add up to the clean "
        "executions of that day in intermediate.executions_all."
    ),
)
def usage_daily_reconciles(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Totals per day and outcome equal a plain count over executions_all."""
    with warehouse.connect(marts=True) as con:
        mismatched = con.execute(
            """
            with mart as (
                select day, sum(executions) as n, sum(completed) as c, sum(failed) as f,
                       sum(timed_out) as t, sum(cancelled) as x
                from marts.agent_usage_daily group by day
            ),
            source as (
                select created_at::date as day, count(*) as n,
                       count(*) filter (where status = 'completed') as c,
                       count(*) filter (where status = 'failed') as f,
                       count(*) filter (where status = 'timeout') as t,
                       count(*) filter (where status = 'cancelled') as x
                from intermediate.executions_all
                where not is_quarantined
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
        ).fetchall()[0][0]
    return dg.AssetCheckResult(passed=mismatched == 0, metadata={"days_mismatched": mismatched})


@dg.asset_check(
    asset=["marts", "agent_usage_summary"],
    name="reconciles_with_executions",
    blocking=True,
    description="All agents' total_executions add up to the clean executions of known agents.",
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


usage_checks = [
    usage_daily_reconciles,
    newest_day_check(
        "marts.agent_usage_daily",
        "day",
        "(select * from intermediate.executions_all where not is_quarantined)",
        "created_at::date",
        "clean executions",
    ),
    usage_summary_reconciles,
]
