"""Asset checks on the raw mirrors: unique keys, and the same keys as the source."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.ingest.assets import raw_key
from pipelines.ingest.load import read_watermark
from pipelines.ingest.tables import SOURCE_TABLES, SourceTable
from pipelines.resources import PlatformDatabase, Warehouse


def build_checks(table: SourceTable) -> list[dg.AssetChecksDefinition]:
    """The two checks of one raw table."""

    @dg.asset_check(
        asset=raw_key(table.name),
        name="unique_ids",
        blocking=True,
        description=f"raw.{table.name} holds each id once: the merge never duplicates a row.",
    )
    def unique_ids(warehouse: Warehouse) -> dg.AssetCheckResult:
        with warehouse.connect() as con:
            total, distinct = con.execute(
                f'SELECT count(*), count(DISTINCT id) FROM raw."{table.name}"'
            ).fetchall()[0]
        return dg.AssetCheckResult(
            passed=total == distinct,
            metadata={"rows": total, "duplicate_rows": total - distinct},
        )

    @dg.asset_check(
        asset=raw_key(table.name),
        name="matches_source",
        description=(
            f"Every platform {table.name} row read so far (up to the watermark) is in raw; "
            "rows only in raw are counted as purged by maintenance, which is allowed."
        ),
    )
    def matches_source(platform_db: PlatformDatabase, warehouse: Warehouse) -> dg.AssetCheckResult:
        with platform_db.reader() as reader:
            source_ids = reader.ids(table)
        with warehouse.connect() as con:
            mark = read_watermark(con, table.name)
            con.register("_source_ids", source_ids)
            try:
                if mark is None:
                    missing = len(source_ids)
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

    return [unique_ids, matches_source]


raw_checks = [check for t in SOURCE_TABLES.values() for check in build_checks(t)]
