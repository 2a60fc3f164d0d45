"""The maintenance step: archive and purge old executions and metric points, VACUUM, expire
hirings, repair counters, then look at the platform (orphans, table health) and the archive.

Every operation is one row of ``marts.maintenance_runs`` (rows, bytes, seconds, dry run or
not, what it found) and metadata on its asset; the reports go to ``marts.expired_hirings``,
``marts.counter_drift``, ``marts.orphans``, ``marts.table_health``, ``marts.archive_months``.
A dry run changes nothing in the platform database or the archive.
"""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import dagster as dg
from pydantic import Field

from pipelines.ingest.resource import PlatformDatabase
from pipelines.maintenance.archive import ArchiveResult, archive_table
from pipelines.maintenance.archive_specs import (
    AGENT_METRICS,
    EXECUTIONS,
    ArchiveError,
    ArchiveSpec,
)
from pipelines.maintenance.counters import ArchivedCounts, repair_counters
from pipelines.maintenance.health import find_orphans, table_health, vacuum_analyze
from pipelines.maintenance.reports import (
    rebuild_archive_months,
    record_drift,
    record_expired,
    record_health,
    record_orphans,
    record_run,
)
from pipelines.maintenance.settings import Maintenance
from pipelines.sql_files import run_model
from pipelines.warehouse.resource import Warehouse
from platform_core.models import utcnow
from platform_core.service import PlatformService

ARCHIVED = dg.AssetKey(["platform", "archived_executions"])
ARCHIVED_METRICS = dg.AssetKey(["platform", "archived_agent_metrics"])
EXPIRED = dg.AssetKey(["platform", "expired_hirings"])
COUNTERS = dg.AssetKey(["platform", "repaired_counters"])
MAINTENANCE_KEYS = (ARCHIVED, ARCHIVED_METRICS, EXPIRED, COUNTERS)


class MaintenanceConfig(dg.Config):
    """Run configuration of the maintenance step (the launchpad shows it)."""

    dry_run: bool = Field(
        default=False,
        description="Report what would be archived, purged, expired and repaired without "
        "changing the platform database or the archive; the report is recorded, marked as "
        "a dry run.",
    )


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def _archive_metadata(result: ArchiveResult, seconds: float) -> dict[str, dg.MetadataValue]:
    return {
        "dry_run": dg.MetadataValue.bool(result.dry_run),
        "not_ready": dg.MetadataValue.text(result.not_ready or "-"),
        "rows": dg.MetadataValue.int(result.rows),
        "files": dg.MetadataValue.int(result.files),
        "bytes": dg.MetadataValue.int(result.bytes),
        "seconds": dg.MetadataValue.float(round(seconds, 3)),
        "rows_per_second": dg.MetadataValue.float(
            round(result.rows / seconds, 1) if seconds else 0.0
        ),
        "detail": dg.MetadataValue.json(result.detail),
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
            ARCHIVED_METRICS,
            group_name="platform",
            deps=[
                dg.AssetKey(["raw", "agent_metrics"]),
                dg.AssetKey(["marts", "metrics_rollup_hourly"]),
                dg.AssetKey(["marts", "metrics_rollup_daily"]),
            ],
            kinds={"parquet"},
            description="Metric points older than METRICS_RETENTION_DAYS, archived under "
            "ARCHIVE_DIR/agent_metrics/ and purged from the platform once both rollups count "
            "them; the rollups keep those buckets for ever.",
        ),
        dg.AssetSpec(
            EXPIRED,
            group_name="platform",
            kinds={"postgres", "sqlite"},
            description="Active hirings past expires_at, set to expired on the platform "
            "(updated_at set); listed in marts.expired_hirings.",
        ),
        dg.AssetSpec(
            COUNTERS,
            group_name="platform",
            deps=[ARCHIVED, EXPIRED],
            kinds={"postgres", "sqlite"},
            description="agents.total_hires, total_executions, average_rating and "
            "hirings.total_executions, last_executed_at recomputed from the truth (archived "
            "executions included); only drifted rows are updated, listed in "
            "marts.counter_drift.",
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
) -> Iterator[dg.MaterializeResult]:
    """Archive and purge, VACUUM, expire hirings, repair counters, report (see module doc)."""
    now, dry, run_id = utcnow(), config.dry_run, context.run.run_id
    with platform_db.engine() as engine:
        archive_dir = maintenance.archive_path
        log = context.log.info

        def record(operation: str, rows: int, seconds: float, detail: object, bytes_: int = 0):
            record_run(
                con,
                run_id,
                now,
                operation,
                dry_run=dry,
                rows=rows,
                bytes_=bytes_,
                seconds=seconds,
                detail=detail,
            )

        def archive(spec: ArchiveSpec, cutoff: datetime) -> tuple[ArchiveResult, float]:
            result, seconds = _timed(
                lambda: archive_table(
                    con,
                    engine,
                    archive_dir,
                    spec,
                    cutoff,
                    batch_size=maintenance.batch_size,
                    dry_run=dry,
                    progress=lambda rows: log(f"{spec.table}: archived and purged {rows:,} rows"),
                )
            )
            record(f"archive_{spec.table}", result.rows, seconds, result.detail, result.bytes)
            if result.not_ready:
                context.log.warning(f"{spec.table}: {result.not_ready}")
                return result, seconds
            log(
                f"{spec.table}: {'would archive' if dry else 'archived and purged'} "
                f"{result.rows:,} rows older than {cutoff:%Y-%m-%d %H:%M} in {result.files} files "
                f"({result.bytes:,} bytes, {seconds:.1f} s); {result.waiting_for_warehouse:,} "
                "wait for the warehouse (not ingested or not rolled up yet)"
            )
            return result, seconds

        with warehouse.connect() as con:
            for model in ("ops/archived_executions.sql", "ops/archived_agent_metrics.sql"):
                run_model(con, model)
            executions, seconds = archive(EXECUTIONS, maintenance.execution_cutoff(now))
            yield dg.MaterializeResult(
                asset_key=ARCHIVED, metadata=_archive_metadata(executions, seconds)
            )
            metrics, seconds = archive(AGENT_METRICS, maintenance.metrics_cutoff(now))
            yield dg.MaterializeResult(
                asset_key=ARCHIVED_METRICS, metadata=_archive_metadata(metrics, seconds)
            )

            purged = [r.table for r in (executions, metrics) if r.rows and not dry]
            _, seconds = _timed(lambda: vacuum_analyze(engine, purged))
            record("vacuum_analyze", len(purged), seconds, purged)

            service = PlatformService(engine, clock=lambda: now)
            hirings, seconds = _timed(
                lambda: service.expired_hirings(now) if dry else service.expire_hirings(now)
            )
            if not dry:
                record_expired(con, hirings, now)
            ids = [h.id for h in hirings]
            record("expire_hirings", len(ids), seconds, ids[:100])
            log(f"{'would expire' if dry else 'expired'} {len(ids)} hirings")
            yield dg.MaterializeResult(
                asset_key=EXPIRED,
                metadata={
                    "dry_run": dg.MetadataValue.bool(dry),
                    "hirings": dg.MetadataValue.int(len(ids)),
                    "hiring_ids": dg.MetadataValue.json(ids[:100]),
                },
            )

            # archive_table pointed ops.archived_executions at the files; a dry run changed
            # none, so the views the last real run left still hold.
            drift, seconds = _timed(
                lambda: repair_counters(engine, ArchivedCounts.read(con), now, dry_run=dry)
            )
            if not dry:
                record_drift(con, run_id, drift, now)
            listed = [
                {
                    "table": d.table_name,
                    "id": d.row_id,
                    "column": d.column_name,
                    "stored": str(d.stored),
                    "actual": str(d.actual),
                }
                for d in drift[:100]
            ]
            record("repair_counters", len(drift), seconds, listed)
            log(f"{'would repair' if dry else 'repaired'} {len(drift)} drifted counters")
            yield dg.MaterializeResult(
                asset_key=COUNTERS,
                metadata={
                    "dry_run": dg.MetadataValue.bool(dry),
                    "drifted": dg.MetadataValue.int(len(drift)),
                    "rows": dg.MetadataValue.int(len({(d.table_name, d.row_id) for d in drift})),
                    "drift": dg.MetadataValue.json(listed),
                },
            )

            orphans, seconds = _timed(lambda: find_orphans(engine))
            record_orphans(con, run_id, orphans, now)
            found = {o.relation: o.rows for o in orphans if o.rows}
            record("check_orphans", sum(found.values()), seconds, found)
            if found:
                context.log.warning(f"orphaned rows on the platform: {found}")

            health, seconds = _timed(lambda: table_health(engine))
            record_health(con, run_id, health, now)
            record("table_health", len(health), seconds, {h.table_name: h.rows for h in health})

            intact, seconds = _timed(lambda: rebuild_archive_months(con, archive_dir, now))
            record("verify_archive", 0, seconds, {"intact": intact})
            if not intact:
                raise ArchiveError(
                    "a file listed in ops.archive_manifest is missing or its row count differs"
                    " (see marts.archive_months where not verified); restore it from backup"
                )
