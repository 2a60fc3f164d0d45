"""The maintenance step: archive and purge old executions, expire hirings; what it did is
recorded in ``marts.maintenance_runs`` (and the hirings in ``marts.expired_hirings``)."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import json
import time

import dagster as dg
import duckdb
from pydantic import Field

from pipelines.maintenance.archive import ArchiveResult, archive_executions
from pipelines.maintenance.settings import Maintenance
from pipelines.resources import PlatformDatabase, Warehouse
from pipelines.sql_files import run_model
from platform_core.db import make_engine
from platform_core.models import utcnow
from platform_core.service import PlatformService

ARCHIVED = dg.AssetKey(["platform", "archived_executions"])
EXPIRED = dg.AssetKey(["platform", "expired_hirings"])
MAINTENANCE_KEYS = (ARCHIVED, EXPIRED)


class MaintenanceConfig(dg.Config):
    """Run configuration of the maintenance step (the launchpad shows it)."""

    dry_run: bool = Field(
        default=False,
        description="Report what would be archived, purged and expired without changing the "
        "platform database or the archive; the report is recorded, marked as a dry run.",
    )


def _record(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    started: object,
    operation: str,
    dry_run: bool,
    rows: int,
    bytes_: int,
    seconds: float,
    detail: object,
) -> None:
    run_model(con, "marts/maintenance_runs.sql")
    con.execute(
        "insert or replace into marts.maintenance_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, started, operation, dry_run, rows, bytes_, seconds, json.dumps(detail)],
    )


def _archive_detail(result: ArchiveResult) -> dict[str, object]:
    return {
        "months": result.months,
        "files": result.files,
        "waiting_for_ingest": result.waiting_for_ingest,
        "recovered_purged": result.recovered_purged,
        "recovered_dropped": result.recovered_dropped,
        "leftovers_deleted": result.leftovers_deleted,
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ARCHIVED,
            group_name="platform",
            deps=[dg.AssetKey(["raw", "executions"])],
            kinds={"parquet"},
            description="Terminal executions older than EXECUTION_RETENTION_DAYS, archived to "
            "verified Parquet under ARCHIVE_DIR/executions/month=YYYY-MM/ (listed in "
            "ops.archive_manifest) and then purged from the platform, exactly once. Only rows "
            "the warehouse already holds are purged.",
        ),
        dg.AssetSpec(
            EXPIRED,
            group_name="platform",
            kinds={"postgres", "sqlite"},
            description="Active hirings past expires_at, set to expired on the platform "
            "(updated_at set); listed in marts.expired_hirings.",
        ),
    ],
    can_subset=False,
)
def maintenance(
    context: dg.AssetExecutionContext,
    config: MaintenanceConfig,
    warehouse: Warehouse,
    platform_db: PlatformDatabase,
    maintenance: Maintenance,
):
    """Archive and purge old executions, then expire hirings (a dry run changes nothing)."""
    now = utcnow()
    dry = config.dry_run
    engine = make_engine(platform_db.url)
    try:
        with warehouse.connect() as con:
            began = time.perf_counter()
            result = archive_executions(
                con,
                engine,
                maintenance.archive_path,
                maintenance.execution_cutoff(now),
                batch_size=maintenance.batch_size,
                dry_run=dry,
                progress=lambda rows: context.log.info(f"archived and purged {rows:,} rows"),
            )
            seconds = time.perf_counter() - began
            _record(
                con,
                context.run.run_id,
                now,
                "archive_executions",
                dry,
                result.rows,
                result.bytes,
                seconds,
                _archive_detail(result),
            )
            context.log.info(
                f"{'would archive' if dry else 'archived and purged'} {result.rows:,} "
                f"executions in {result.files} files ({result.bytes:,} bytes), "
                f"{result.waiting_for_ingest:,} left for after the next ingest"
            )
            yield dg.MaterializeResult(
                asset_key=ARCHIVED,
                metadata={
                    "dry_run": dg.MetadataValue.bool(dry),
                    "rows": dg.MetadataValue.int(result.rows),
                    "files": dg.MetadataValue.int(result.files),
                    "bytes": dg.MetadataValue.int(result.bytes),
                    "seconds": dg.MetadataValue.float(round(seconds, 3)),
                    "detail": dg.MetadataValue.json(_archive_detail(result)),
                },
            )

            began = time.perf_counter()
            service = PlatformService(engine, clock=lambda: now)
            hirings = service.expired_hirings(now) if dry else service.expire_hirings(now)
            seconds = time.perf_counter() - began
            if not dry and hirings:
                run_model(con, "marts/expired_hirings.sql")
                con.executemany(
                    "insert or replace into marts.expired_hirings values (?, ?, ?, ?, ?)",
                    [[h.id, h.agent_id, h.user_id, h.expires_at, now] for h in hirings],
                )
            ids = [h.id for h in hirings]
            _record(
                con, context.run.run_id, now, "expire_hirings", dry, len(ids), 0, seconds, ids[:100]
            )
            context.log.info(f"{'would expire' if dry else 'expired'} {len(ids)} hirings")
            yield dg.MaterializeResult(
                asset_key=EXPIRED,
                metadata={
                    "dry_run": dg.MetadataValue.bool(dry),
                    "hirings": dg.MetadataValue.int(len(ids)),
                    "hiring_ids": dg.MetadataValue.json(ids[:100]),
                },
            )
    finally:
        engine.dispose()
