"""One maintenance run, one method per job: archive and purge a table, VACUUM, expire hirings,
repair counters, look for orphans, measure table health, verify the archive.

Each job times itself, records one row of ``ops.maintenance_runs`` (rows, bytes, seconds, dry
run or not, what it found), writes its report table and logs one line. Each holds the
warehouse's writer lock only while it needs the warehouse (``connect``): a pipeline run writes
between the jobs, and the archive of one table, its manifest and its view are seen whole or
not at all by a publish (each job's warehouse work is one lock-holding block). The asset
(:mod:`pipelines.maintenance.assets`) orders the jobs and turns their results into asset
metadata. A dry run changes nothing in the platform database or the archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
from sqlalchemy import Engine

from pipelines.maintenance.archive import ArchiveResult, archive_table
from pipelines.maintenance.archive_specs import ArchiveError, ArchiveSpec
from pipelines.maintenance.counters import ArchivedCounts, Drift, repair_counters
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
from pipelines.warehouse.upkeep import Upkeep, retention_days, upkeep
from platform_core.service import PlatformService


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


@dataclass
class MaintenanceRun:
    """The jobs of one maintenance run at ``now`` on the platform ``engine``, reporting into the
    warehouse under the Dagster ``run_id``; ``connect`` opens a block of warehouse work that
    holds the writer lock (``Warehouse.connect``)."""

    connect: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]]
    engine: Engine
    settings: Maintenance
    now: datetime
    run_id: str
    dry_run: bool
    log: Callable[[str], None]
    warn: Callable[[str], None]

    def _record(
        self,
        con: duckdb.DuckDBPyConnection,
        operation: str,
        rows: int,
        seconds: float,
        detail: object,
        bytes_: int = 0,
    ) -> None:
        record_run(
            con,
            self.run_id,
            self.now,
            operation,
            dry_run=self.dry_run,
            rows=rows,
            bytes_=bytes_,
            seconds=seconds,
            detail=detail,
        )

    def archive(self, spec: ArchiveSpec, cutoff: datetime) -> tuple[ArchiveResult, float]:
        """Archive ``spec``'s rows older than ``cutoff`` to verified Parquet, then purge them
        from the platform (exactly once: see :func:`archive_table`)."""
        with self.connect() as con:
            result, seconds = _timed(
                lambda: archive_table(
                    con,
                    self.engine,
                    self.settings.archive_path,
                    spec,
                    cutoff,
                    batch_size=self.settings.batch_size,
                    dry_run=self.dry_run,
                    progress=lambda rows: self.log(
                        f"{spec.table}: archived and purged {rows:,} rows"
                    ),
                )
            )
            self._record(
                con, f"archive_{spec.table}", result.rows, seconds, result.detail, result.bytes
            )
        if result.not_ready:
            self.warn(f"{spec.table}: {result.not_ready}")
        else:
            self.log(
                f"{spec.table}: {'would archive' if self.dry_run else 'archived and purged'} "
                f"{result.rows:,} rows older than {cutoff:%Y-%m-%d %H:%M} in {result.files} "
                f"files ({result.bytes:,} bytes, {seconds:.1f} s); "
                f"{result.waiting_for_warehouse:,} wait for the warehouse (not ingested or not "
                "rolled up yet)"
            )
        return result, seconds

    def vacuum(self, results: list[ArchiveResult]) -> None:
        """VACUUM ANALYZE the tables a real archive purged rows from."""
        purged = [r.table for r in results if r.rows and not self.dry_run]
        _, seconds = _timed(lambda: vacuum_analyze(self.engine, purged))
        with self.connect() as con:
            self._record(con, "vacuum_analyze", len(purged), seconds, purged)

    def expire_hirings(self) -> list[int]:
        """Set active hirings past ``expires_at`` to expired; their ids."""
        service = PlatformService(self.engine, clock=lambda: self.now)
        hirings, seconds = _timed(
            lambda: (
                service.expired_hirings(self.now)
                if self.dry_run
                else service.expire_hirings(self.now)
            )
        )
        ids = [h.id for h in hirings]
        with self.connect() as con:
            if not self.dry_run:
                record_expired(con, hirings, self.now)
            self._record(con, "expire_hirings", len(ids), seconds, ids[:100])
        self.log(f"{'would expire' if self.dry_run else 'expired'} {len(ids)} hirings")
        return ids

    def repair_counters(self) -> list[Drift]:
        """Recompute the platform's counters from the truth, archived executions included
        (archive_table pointed ops.archived_executions at the files; a dry run changed none,
        so what the last real run left still holds); update only drifted rows."""
        with self.connect() as con:
            archived, reading = _timed(lambda: ArchivedCounts.read(con))
        drift, repairing = _timed(
            lambda: repair_counters(self.engine, archived, self.now, dry_run=self.dry_run)
        )
        seconds = reading + repairing  # as before the lock: the wait for it left out
        with self.connect() as con:
            if not self.dry_run:
                record_drift(con, self.run_id, drift, self.now)
            self._record(con, "repair_counters", len(drift), seconds, drift_listing(drift))
        self.log(f"{'would repair' if self.dry_run else 'repaired'} {len(drift)} drifted counters")
        return drift

    def check_orphans(self) -> None:
        """Count rows on the platform whose parent is gone (a warning when there are any)."""
        orphans, seconds = _timed(lambda: find_orphans(self.engine))
        found = {o.relation: o.rows for o in orphans if o.rows}
        with self.connect() as con:
            record_orphans(con, self.run_id, orphans, self.now)
            self._record(con, "check_orphans", sum(found.values()), seconds, found)
        if found:
            self.warn(f"orphaned rows on the platform: {found}")

    def table_health(self) -> None:
        """Rows, dead rows, bytes and last vacuum of every platform table."""
        health, seconds = _timed(lambda: table_health(self.engine))
        with self.connect() as con:
            record_health(con, self.run_id, health, self.now)
            self._record(
                con, "table_health", len(health), seconds, {h.table_name: h.rows for h in health}
            )

    def verify_archive(self) -> None:
        """Check every file of ops.archive_manifest is present with its row count and rebuild
        ops.archive_months; an error when one is not (the run fails: restore the file)."""
        with self.connect() as con:
            intact, seconds = _timed(
                lambda: rebuild_archive_months(con, self.settings.archive_path, self.now)
            )
            self._record(con, "verify_archive", 0, seconds, {"intact": intact})
        if not intact:
            raise ArchiveError(
                "a file listed in ops.archive_manifest is missing or its row count differs"
                " (see marts.archive_months where not verified); restore it from backup"
            )

    def warehouse_upkeep(self) -> Upkeep:
        """Merge the warehouse's small files, expire snapshots older than the retention
        (never the published one) and delete the files nothing references."""
        with self.connect() as con:
            result, seconds = _timed(
                lambda: upkeep(
                    con,
                    self.now,
                    days=retention_days(self.settings.snapshot_retention_days),
                    dry_run=self.dry_run,
                )
            )
            self._record(
                con,
                "warehouse_upkeep",
                result.files_merged + result.snapshots_expired + result.files_deleted,
                seconds,
                result.detail(),
                result.bytes_before - result.bytes_after,
            )
        self.log(
            f"warehouse upkeep: {result.files_before:,} -> {result.files_after:,} files, "
            f"{result.snapshots_expired:,} snapshots expired, {result.files_deleted:,} deleted"
        )
        return result


def drift_listing(drift: list[Drift]) -> list[dict[str, str | int]]:
    """The first 100 drifted counters as JSON-ready rows (for the run's record and metadata)."""
    return [
        {
            "table": d.table_name,
            "id": d.row_id,
            "column": d.column_name,
            "stored": str(d.stored),
            "actual": str(d.actual),
        }
        for d in drift[:100]
    ]
