"""Asset checks on the raw mirrors.

On every run (blocking): ``unique_ids`` over the rows the load merged. In the daily_checks
job, because they read whole tables: ``every_id_once`` (every raw id, counted again) and
``matches_source`` (every platform id against raw).
"""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.ingest.assets import raw_key
from pipelines.ingest.load import read_watermark
from pipelines.ingest.resource import PlatformDatabase
from pipelines.ingest.tables import SOURCE_TABLES, SourceTable
from pipelines.warehouse.resource import Warehouse


def build_checks(table: SourceTable) -> list[dg.AssetChecksDefinition]:
    """The checks of one raw table: the hourly one first, then the daily ones."""

    @dg.asset_check(
        asset=raw_key(table.name),
        name="unique_ids",
        blocking=True,
        description=(
            f"raw.{table.name} holds each id once after this run's merge: the merged rows "
            "held each id once and raw grew by exactly the new ones (counted by the load "
            "over what it merged, so the check costs the change, not the history; "
            "every_id_once counts the whole table daily)."
        ),
    )
    def unique_ids(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            rows = con.execute(
                "SELECT duplicate_ids, rows_read, started_at FROM ops.ingest_runs"
                " WHERE table_name = ? ORDER BY started_at DESC LIMIT 1",
                [table.name],
            ).fetchall()
        if not rows:
            return dg.AssetCheckResult(passed=False, metadata={"error": "no ingest run found"})
        duplicates, merged, started = rows[0]
        return dg.AssetCheckResult(
            passed=duplicates == 0,
            metadata={
                "duplicate_ids": -1 if duplicates is None else duplicates,
                "rows_merged": merged,
                "ingest_run": started.isoformat(),
            },
        )

    @dg.asset_check(
        asset=raw_key(table.name),
        name="every_id_once",
        description=(
            f"Daily: every id of raw.{table.name} counted again, over the whole table (a "
            "grouping that spills to disk, so it holds at any size)."
        ),
    )
    def every_id_once(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect(marts=True) as con:
            total, duplicated = con.execute(
                f'SELECT (SELECT count(*) FROM raw."{table.name}"), count(*) FROM'
                f' (SELECT id FROM raw."{table.name}" GROUP BY id HAVING count(*) > 1)'
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=duplicated == 0, metadata={"rows": total, "duplicated_ids": duplicated}
        )

    @dg.asset_check(
        asset=raw_key(table.name),
        name="matches_source",
        description=(
            f"Daily: every platform {table.name} row read so far (up to the watermark) is in "
            "raw; rows only in raw are counted as purged by maintenance, which is allowed."
        ),
    )
    def matches_source(platform_db: PlatformDatabase, warehouse: Warehouse) -> dg.AssetCheckResult:
        with platform_db.reader() as reader:
            source_ids = reader.ids(table)
        with warehouse.connect(marts=True) as con:
            mark = read_watermark(con, table.name)
            con.register("_source_ids", source_ids)
            try:
                if mark is None:
                    missing = 0  # nothing read yet, so nothing is expected in raw
                elif table.mode == "mutable":
                    # Rows changed after the last run are not expected yet.
                    missing = con.execute(
                        "SELECT count(*) FROM _source_ids s WHERE TRY_CAST(s.updated_at AS"
                        " TIMESTAMP) <= ? AND s.id NOT IN"
                        f' (SELECT id FROM raw."{table.name}")',
                        [mark.updated_at],
                    ).fetchall()[0][0]
                else:
                    missing = con.execute(
                        "SELECT count(*) FROM _source_ids s WHERE s.id <= ? AND s.id NOT IN"
                        f' (SELECT id FROM raw."{table.name}")',
                        [mark.last_id],
                    ).fetchall()[0][0]
                purged = con.execute(
                    f'SELECT count(*) FROM raw."{table.name}" WHERE id NOT IN'
                    " (SELECT id FROM _source_ids)"
                ).fetchall()[0][0]
            finally:
                con.unregister("_source_ids")
        return dg.AssetCheckResult(
            passed=missing == 0,
            metadata={
                "source_rows": len(source_ids),
                "missing_in_raw": missing,
                "only_in_raw_purged": purged,
            },
        )

    return [unique_ids, every_id_once, matches_source]


_BY_TABLE = [build_checks(t) for t in SOURCE_TABLES.values()]
#: Every raw check; the daily_checks job runs :data:`DAILY_RAW_CHECKS`, the hourly run the rest.
raw_checks = [check for checks in _BY_TABLE for check in checks]
DAILY_RAW_CHECKS = [check for checks in _BY_TABLE for check in checks[1:]]
