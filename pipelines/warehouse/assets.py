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
            "Atomically publishes the pipeline's working DuckDB file to WAREHOUSE_PATH, the "
            "file dashboards and analysts open read-only: readers see the previous snapshot "
            "or this one, never a lock or a partial write. Runs only when every upstream asset "
            "succeeded."
        ),
    )
    def published_warehouse(
        context: dg.AssetExecutionContext, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        """Copy, fsync and rename the working file over the published path."""
        published = warehouse.publish()
        context.log.info(f"published {published.bytes:,} bytes to {published.path}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(published.path)),
                "bytes": dg.MetadataValue.int(published.bytes),
                "duration_s": dg.MetadataValue.float(round(published.seconds, 3)),
            }
        )

    return published_warehouse
