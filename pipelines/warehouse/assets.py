"""Publishing the warehouse: the last step of every pipeline run."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.ingest.assets import raw_key
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.resources import Warehouse


@dg.asset(
    key=["ops", "published_warehouse"],
    group_name="publish",
    # Last in the pipeline run: after every unpartitioned asset the job builds (the
    # day-partitioned marts are published by the publish_warehouse job after their runs).
    deps=[
        *(raw_key(t) for t in SOURCE_TABLES),
        ["marts", "quarantine"],
        ["marts", "executions_all"],
        ["ops", "touched_days"],
        ["marts", "trust_events"],
        ["marts", "agent_trust"],
        ["platform", "trust_scores"],
        ["marts", "agent_usage_summary"],
        ["marts", "user_activity"],
        ["marts", "agent_liveness"],
        ["staging", "stg_executions"],  # the one staging view no mart reads
    ],
    kinds={"duckdb"},
    description=(
        "Atomically publishes the pipeline's working DuckDB file to WAREHOUSE_PATH, the file "
        "dashboards and analysts open read-only: readers see the previous snapshot or this "
        "one, never a lock or a partial write. Runs only when every upstream asset succeeded."
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
