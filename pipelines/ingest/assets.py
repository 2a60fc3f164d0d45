"""One asset per platform table, mirroring it into ``raw`` (key ``["raw", table]``)."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.ingest.load import LoadResult, load_table
from pipelines.ingest.resource import PlatformDatabase
from pipelines.ingest.tables import SOURCE_TABLES, SourceTable
from pipelines.warehouse.resource import Warehouse


def raw_key(table: str) -> dg.AssetKey:
    """The asset key of a raw mirror: ``["raw", table]``, like its warehouse name."""
    return dg.AssetKey(["raw", table])


def result_metadata(result: LoadResult) -> dict[str, dg.MetadataValue]:
    """What a load reports in the Dagster UI."""
    mark = result.watermark
    return {
        "rows_read": dg.MetadataValue.int(result.rows_read),
        "rows_inserted": dg.MetadataValue.int(result.rows_inserted),
        "rows_updated": dg.MetadataValue.int(result.rows_updated),
        "source_rows": dg.MetadataValue.int(result.source_rows),
        "raw_rows": dg.MetadataValue.int(result.raw_rows),
        "rows_restored_from_archive": dg.MetadataValue.int(result.rows_restored),
        "full_load": dg.MetadataValue.bool(result.full_load),
        "watermark_updated_at": dg.MetadataValue.text(
            mark.updated_at.isoformat() if mark and mark.updated_at else "-"
        ),
        "watermark_id": dg.MetadataValue.int(mark.last_id if mark else 0),
        "duration_s": dg.MetadataValue.float(round(result.seconds, 3)),
        # Present in the run that compared every platform id (once a day).
        **(
            {"rows_deleted_on_platform": dg.MetadataValue.int(result.rows_deleted)}
            if result.rows_deleted is not None
            else {}
        ),
    }


def build_raw_asset(table: SourceTable) -> dg.AssetsDefinition:
    """The ingest asset of one table."""
    how = (
        "by an (updated_at, id) watermark, merged by id"
        if table.mode == "mutable"
        else "by id (append-only)"
    )

    @dg.asset(
        key=raw_key(table.name),
        group_name="raw",
        kinds={"duckdb"},
        description=(
            f"Mirror of the platform table `{table.name}`, read incrementally {how}. "
            "Rows purged from the platform stay here; one transaction per run."
        ),
    )
    def _raw(
        context: dg.AssetExecutionContext, platform_db: PlatformDatabase, warehouse: Warehouse
    ) -> dg.MaterializeResult:
        with platform_db.reader() as reader, warehouse.connect() as con:
            result = load_table(con, reader, table, lookback=platform_db.lookback)
        context.log.info(
            f"{table.name}: read {result.rows_read:,} rows ({result.rows_inserted:,} new,"
            f" {result.rows_updated:,} updated) in {result.seconds:.2f} s"
        )
        return dg.MaterializeResult(metadata=result_metadata(result))

    return _raw


raw_assets = [build_raw_asset(t) for t in SOURCE_TABLES.values()]
