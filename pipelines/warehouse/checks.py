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
