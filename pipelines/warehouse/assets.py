"""Publishing the warehouse: the last step of every pipeline run."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
from collections.abc import Iterable

import dagster as dg

from pipelines.warehouse.resource import Warehouse

PUBLISHED = dg.AssetKey(["ops", "published_warehouse"])


def build_published_warehouse(upstream: Iterable[dg.AssetKey]) -> dg.AssetsDefinition:
    """The publish asset, after ``upstream``: every asset the pipeline job builds (the
    definitions compute the list from the graph; the day-partitioned marts are published by
    the publish_warehouse job after their own runs)."""

    @dg.asset(
        key=PUBLISHED,
        group_name="ops",
        deps=sorted(upstream, key=lambda k: k.to_user_string()),
        kinds={"duckdb"},
        description=(
            "Records the DuckLake snapshot this run ends on as the published one: dashboards "
            "and analysts attach the warehouse read-only at that snapshot, so they see the "
            "previous run or this one, never half a run, and never wait. With WAREHOUSE_PATH "
            "set, also exports the snapshot to that DuckDB file. Runs only when every upstream "
            "asset succeeded."
        ),
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        """Record the run's last snapshot as published (and export it when asked)."""
        published = warehouse.publish(f"run {context.run_id}")
        context.log.info(f"published snapshot {published.snapshot} of {warehouse.lake.name}")
        metadata: dict[str, dg.MetadataValue] = {
            "snapshot": dg.MetadataValue.int(published.snapshot),
            "catalog": dg.MetadataValue.text(warehouse.lake.name),
            "duration_s": dg.MetadataValue.float(round(published.seconds, 3)),
        }
        if published.export is not None:
            metadata["export"] = dg.MetadataValue.path(str(published.export))
            metadata["export_bytes"] = dg.MetadataValue.int(published.export_bytes)
        return dg.MaterializeResult(metadata=metadata)

    return published_warehouse
