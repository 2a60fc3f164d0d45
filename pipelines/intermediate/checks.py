"""Checks on the intermediate layer: the quarantine and executions_all."""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.warehouse.resource import Warehouse


@dg.asset_check(
    asset=["intermediate", "quarantine"],
    name="no_quarantined_rows",
    description=(
        "Warns when any row is quarantined; the metadata counts them per table and rule "
        "(see marts.data_quality for the history)."
    ),
)
def no_quarantined_rows(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Bad input is flagged, never fatal: WARN severity."""
    with warehouse.connect(marts=True) as con:
        counts = dict(
            con.execute(
                "select table_name || '.' || rule, count(*) from intermediate.quarantine group by 1"
            ).fetchall()
        )
    return dg.AssetCheckResult(
        passed=not counts,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"quarantined": sum(counts.values()), "by_rule": counts},
    )


@dg.asset_check(
    asset=["intermediate", "executions_all"],
    name="every_raw_execution_once",
    description=(
        "Daily: executions_all holds every raw and every archived execution exactly once, and "
        "no id names two executions (an archived one and a different one on the platform). "
        "It reads every id, so it runs in daily_checks; each run's unique_grain covers the "
        "rows that run wrote."
    ),
)
def every_raw_execution_once(warehouse: Warehouse) -> dg.AssetCheckResult:
    """One row per id, the ids are exactly those of raw.executions and the archive, and an id
    in both holds the same execution (same execution_id). A platform that handed a purged id
    to a new execution (SQLite before migration 0003) would otherwise hide the archived one:
    the counts still match, one execution is gone."""
    with warehouse.connect(marts=True) as con:
        rows, ids, expected, missing, reused = con.execute(
            "with source as (select id from raw.executions"
            "  union select id from ops.archived_executions)"
            " select count(*), count(distinct id), (select count(*) from source),"
            "  (select count(*) from source where id not in"
            "   (select id from intermediate.executions_all)),"
            "  (select count(*) from raw.executions as r join ops.archived_executions as a"
            "   using (id) where r.execution_id is distinct from a.execution_id)"
            " from intermediate.executions_all"
        ).fetchall()[0]
    return dg.AssetCheckResult(
        passed=rows == ids == expected and missing == 0 and reused == 0,
        metadata={
            "rows": rows,
            "distinct_ids": ids,
            "raw_and_archived_ids": expected,
            "missing": missing,
            "ids_naming_two_executions": reused,
        },
    )


intermediate_checks = [no_quarantined_rows, every_raw_execution_once]
#: Checks that read whole histories: the daily_checks job runs them, not the hourly run.
DAILY_INTERMEDIATE_CHECKS = [every_raw_execution_once]
