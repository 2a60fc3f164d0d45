"""Shared asset-check builders for warehouse tables."""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.resources import Warehouse


def unique_key_check(table: str, key: tuple[str, ...]) -> dg.AssetChecksDefinition:
    """A blocking check that ``table`` holds each ``key`` once (its grain)."""
    schema, name = table.split(".")
    columns = ", ".join(key)

    @dg.asset_check(
        asset=[schema, name],
        name="unique_grain",
        blocking=True,
        description=f"{table} holds each ({columns}) once: its grain.",
    )
    def _check(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(marts=True) as con:
            duplicates = con.execute(
                f"select count(*) from (select {columns} from {table} group by {columns}"
                " having count(*) > 1)"
            ).fetchall()[0][0]
            nulls = con.execute(
                f"select count(*) from {table} where " + " or ".join(f"{c} is null" for c in key)
            ).fetchall()[0][0]
        return dg.AssetCheckResult(
            passed=duplicates == 0 and nulls == 0,
            metadata={"duplicate_keys": duplicates, "null_keys": nulls},
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
