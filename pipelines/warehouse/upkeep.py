"""Warehouse upkeep, run by the maintenance job: merge small files, expire old snapshots,
delete the files no snapshot references.

Every commit of a DuckLake writes new Parquet files (an hourly run writes a few per table it
touches) and keeps the old ones for the snapshots that reference them. Left alone, reads get
slower (more, smaller files) and the data folder grows with every run. So once a day:

1. ``ducklake_merge_adjacent_files``: rewrite runs of small files of a table into larger ones;
2. ``ducklake_expire_snapshots``: forget snapshots older than
   ``WAREHOUSE_SNAPSHOT_RETENTION_DAYS`` (default 7) -- never the published one, which
   readers are on;
3. ``ducklake_cleanup_old_files`` and ``ducklake_delete_orphaned_files``: delete the files
   only expired snapshots referenced, and files no snapshot ever committed (a run killed
   mid-write). They only ever touch the data folder, which may not overlap the archive.

Deleted personal data (a user's erasure on the platform, removed from raw by the next run)
stays readable through older snapshots until they expire: at most the retention period.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import duckdb

from pipelines.warehouse.lake import ALIAS, published_snapshot
from platform_core.config import SettingError

DEFAULT_RETENTION_DAYS = 7


def retention_days(value: str) -> float:
    """``WAREHOUSE_SNAPSHOT_RETENTION_DAYS`` as days (decimals allowed), or a SettingError."""
    variable = "WAREHOUSE_SNAPSHOT_RETENTION_DAYS"
    try:
        days = float(value)
    except ValueError:
        raise SettingError(variable, f"{value!r} is not a number.", "give days, e.g. 7.") from None
    if not days >= 0:
        raise SettingError(variable, f"{value!r} is negative.", "give days, e.g. 7.")
    return days


@dataclass(frozen=True)
class Upkeep:
    """What one upkeep did."""

    files_before: int
    files_after: int
    files_merged: int
    snapshots_expired: int
    files_deleted: int
    bytes_before: int
    bytes_after: int

    def detail(self) -> dict[str, int]:
        """For ``ops.maintenance_runs.detail``."""
        return asdict(self)


def _files(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Data and delete files the catalog lists (any snapshot), and their bytes."""
    row = con.execute(
        f"select count(*), coalesce(sum(file_size_bytes), 0) from (select file_size_bytes"
        f" from __ducklake_metadata_{ALIAS}.ducklake_data_file union all select file_size_bytes"
        f" from __ducklake_metadata_{ALIAS}.ducklake_delete_file)"
    ).fetchall()[0]
    return int(row[0]), int(row[1])


def upkeep(
    con: duckdb.DuckDBPyConnection, now: datetime, *, days: float, dry_run: bool = False
) -> Upkeep:
    """Merge, expire and clean up the warehouse attached to ``con`` as ``warehouse``."""
    files_before, bytes_before = _files(con)
    merged = 0
    if not dry_run:
        merged = len(con.execute(f"CALL ducklake_merge_adjacent_files('{ALIAS}')").fetchall())
    cutoff = now - timedelta(days=days)
    keep = published_snapshot(con)
    newest = int(con.execute(f"select id from {ALIAS}.current_snapshot()").fetchall()[0][0])
    old = [
        int(s)
        for (s,) in con.execute(
            f"select snapshot_id from {ALIAS}.snapshots() where snapshot_time < ?::timestamptz"
            " and snapshot_id <> coalesce(?, -1) and snapshot_id <> ?"
            " order by snapshot_id",
            [cutoff, keep, newest],
        ).fetchall()
    ]
    expired = 0
    if old:
        expired = len(
            con.execute(
                f"CALL ducklake_expire_snapshots('{ALIAS}', versions => ?, dry_run => ?)",
                [old, dry_run],
            ).fetchall()
        )
    deleted = 0
    if not dry_run:
        deleted += len(
            con.execute(
                f"CALL ducklake_cleanup_old_files('{ALIAS}', cleanup_all => true)"
            ).fetchall()
        )
        # Orphans only when a day old: a file younger may belong to a commit in flight.
        deleted += len(
            con.execute(
                f"CALL ducklake_delete_orphaned_files('{ALIAS}', older_than => ?::timestamptz)",
                [now - timedelta(days=1)],
            ).fetchall()
        )
    files_after, bytes_after = _files(con)
    return Upkeep(files_before, files_after, merged, expired, deleted, bytes_before, bytes_after)
