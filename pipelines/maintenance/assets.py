"""The maintenance step: archive and purge old executions and metric points, VACUUM, expire
hirings, repair counters, then look at the platform (orphans, table health) and the archive.

Every operation is one row of ``ops.maintenance_runs`` (rows, bytes, seconds, dry run or
not, what it found) and metadata on its asset; the reports go to ``ops.expired_hirings``,
``ops.counter_drift``, ``ops.orphans``, ``ops.table_health``, ``ops.archive_months``, which
analysts read as the views ``marts.<name>``.
A dry run changes nothing in the platform database or the archive.
"""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
from collections.abc import Iterator

import dagster as dg
from pydantic import Field

from pipelines.ingest.resource import PlatformDatabase
from pipelines.maintenance.archive import ArchiveResult
from pipelines.maintenance.archive_specs import AGENT_METRICS, EXECUTIONS
from pipelines.maintenance.run import MaintenanceRun, drift_listing
from pipelines.maintenance.settings import Maintenance
from pipelines.sql_files import run_model
from pipelines.warehouse.resource import Warehouse
from platform_core.models import utcnow

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
    """Archive and purge, VACUUM, expire hirings, repair counters, report (see module doc);
    the jobs themselves are :class:`~pipelines.maintenance.run.MaintenanceRun`'s methods."""
    now, dry = utcnow(), config.dry_run
    with platform_db.engine() as engine:
        with warehouse.connect() as con:
            for model in ("ops/archived_executions.sql", "ops/archived_agent_metrics.sql"):
                run_model(con, model)
        run = MaintenanceRun(
            connect=warehouse.connect,
            engine=engine,
            settings=maintenance,
            now=now,
            run_id=context.run.run_id,
            dry_run=dry,
            log=context.log.info,
            warn=context.log.warning,
        )
        executions, seconds = run.archive(EXECUTIONS, maintenance.execution_cutoff(now))
        yield dg.MaterializeResult(
            asset_key=ARCHIVED, metadata=_archive_metadata(executions, seconds)
        )
        metrics, seconds = run.archive(AGENT_METRICS, maintenance.metrics_cutoff(now))
        yield dg.MaterializeResult(
            asset_key=ARCHIVED_METRICS, metadata=_archive_metadata(metrics, seconds)
        )
        run.vacuum([executions, metrics])

        ids = run.expire_hirings()
        yield dg.MaterializeResult(
            asset_key=EXPIRED,
            metadata={
                "dry_run": dg.MetadataValue.bool(dry),
                "hirings": dg.MetadataValue.int(len(ids)),
                "hiring_ids": dg.MetadataValue.json(ids[:100]),
            },
        )

        drift = run.repair_counters()
        yield dg.MaterializeResult(
            asset_key=COUNTERS,
            metadata={
                "dry_run": dg.MetadataValue.bool(dry),
                "drifted": dg.MetadataValue.int(len(drift)),
                "rows": dg.MetadataValue.int(len({(d.table_name, d.row_id) for d in drift})),
                "drift": dg.MetadataValue.json(drift_listing(drift)),
            },
        )

        run.check_orphans()
        run.table_health()
        run.verify_archive()
        run.warehouse_upkeep()
