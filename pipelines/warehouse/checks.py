"""Shared asset-check builders for warehouse tables."""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
from datetime import date

import dagster as dg
import duckdb

from pipelines.partitions import day_range
from pipelines.warehouse.resource import Warehouse


def not_built(con: duckdb.DuckDBPyConnection, *tables: str) -> dg.AssetCheckResult | None:
    """A failed result naming the first of ``tables`` (``schema.name``) the warehouse lacks,
    or None when all exist: a check run on its own schedule (daily_checks) may find a table
    its job has never built, which is a finding, not a crash."""
    for table in tables:
        schema, name = table.split(".")
        found = con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()[0][0]
        if not found:
            return dg.AssetCheckResult(
                passed=False,
                metadata={
                    "missing_table": table,
                    "next": "run the job that builds it (agenthub pipeline run builds them all)",
                },
            )
    return None


def run_days(context: dg.AssetCheckExecutionContext) -> tuple[date, date] | None:
    """[first day, day after the last) of the run's partition or range; None outside one."""
    if context.has_partition_key or context.has_partition_key_range:
        return day_range(context)
    return None


def unique_key_check(
    table: str,
    key: tuple[str, ...],
    *,
    written: str | None = None,
    partition_day: str | None = None,
) -> dg.AssetChecksDefinition:
    """A blocking check that ``table`` holds each ``key`` once (its grain).

    For a table that grows with the history, the run's check covers the keys of the rows the
    run wrote: ``written`` (a condition selecting them) or, for a day-partitioned table, the
    run's days (``partition_day`` gives a row's day). Those keys are looked up in the whole
    table, so a written row repeating an older one is caught, but only the key columns are
    read and the grouping holds the written keys alone. :func:`whole_table_key_check`
    checks every key, daily.
    """
    schema, name = table.split(".")
    columns = ", ".join(key)
    scope = "the rows this run wrote" if written or partition_day else "every row"

    @dg.asset_check(
        asset=[schema, name],
        name="unique_grain",
        blocking=True,
        description=f"{table} holds each ({columns}) once: its grain (checked over {scope}).",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: Warehouse) -> dg.AssetCheckResult:
        params: list[object] = []
        days = run_days(context) if partition_day else None
        if days is not None:
            where, params = f"{partition_day} >= ? and {partition_day} < ?", list(days)
        else:
            where = written
        with warehouse.connect(marts=True) as con:
            duplicates, null_keys = grain_breaches(con, table, key, where, params)
        return dg.AssetCheckResult(
            passed=duplicates == 0 and null_keys == 0,
            metadata={"duplicate_keys": duplicates, "null_keys": null_keys, "scope": scope},
        )

    return _check


def grain_breaches(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key: tuple[str, ...],
    where: str | None = None,
    params: list[object] | None = None,
) -> tuple[int, int]:
    """(keys held more than once, rows with a NULL key) in ``table``: over every row, or the
    keys of the rows ``where`` selects, looked up in the whole table."""
    columns = ", ".join(key)
    nulls = " or ".join(f"{c} is null" for c in key)
    if where is None:
        rows = f"select {columns} from {table}"
        nulls_where = nulls
    else:
        rows = (
            f"select {columns} from {table} semi join"
            f" (select distinct {columns} from {table} where {where}) using ({columns})"
        )
        nulls_where = f"({where}) and ({nulls})"
    duplicates = con.execute(
        f"select count(*) from ({rows} group by {columns} having count(*) > 1)", params or []
    ).fetchall()[0][0]
    null_keys = con.execute(
        f"select count(*) from {table} where {nulls_where}", params or []
    ).fetchall()[0][0]
    return int(duplicates), int(null_keys)


def whole_table_key_check(table: str, key: tuple[str, ...]) -> dg.AssetChecksDefinition:
    """Daily: ``table`` holds each ``key`` once, every row counted (a grouping that spills to
    disk under the memory limit, so it holds at any size)."""
    schema, name = table.split(".")
    columns = ", ".join(key)

    @dg.asset_check(
        asset=[schema, name],
        name="unique_grain_whole_table",
        description=f"Daily: every row of {table} counted, each ({columns}) once.",
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(marts=True) as con:
            if missing := not_built(con, table):
                return missing
            duplicates, null_keys = grain_breaches(con, table, key)
        return dg.AssetCheckResult(
            passed=duplicates == 0 and null_keys == 0,
            metadata={"duplicate_keys": duplicates, "null_keys": null_keys},
        )

    return _check


def newest_day_check(
    table: str, day: str, source: str, source_day: str, label: str
) -> dg.AssetChecksDefinition:
    """A WARN check that ``table``'s newest day (``day``) has reached ``source``'s newest.

    ``day`` and ``source_day`` are SQL expressions giving a date per row, ``source`` a table
    or a subquery, ``label`` what it holds, for people. A lagging newest day means the
    partition runs for the days new rows touched have not caught up.
    """
    schema, name = table.split(".")

    @dg.asset_check(
        asset=[schema, name],
        name="newest_day_is_fresh",
        description=f"The newest day in {table} is the newest day with {label} (WARN).",
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(marts=True) as con:
            mart_day, source_day_ = con.execute(
                f"select (select max({day}) from {table}), (select max({source_day}) from {source})"
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=source_day_ is None or (mart_day is not None and mart_day >= source_day_),
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"newest_day": str(mart_day), "newest_source_day": str(source_day_)},
        )

    return _check
