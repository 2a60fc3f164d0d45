"""Load one platform table into ``raw``: stream, merge by key, advance the watermark.

All of one table's work happens in one DuckDB transaction: the rows, the merge and the new
watermark in ``ops.watermarks`` (and change-capture cursor in ``ops.capture_cursors``)
commit together or not at all. Tables with change capture (``change_id``, platform migration
0004) are read by it: every row whose change committed after the previous read's bound,
however early its id or ``updated_at`` (a late commit is never skipped); the watermark and
its lookback serve only tables without it, and the first read after the migration.

A run killed half way leaves the raw table and its watermark as the last committed run left
them, and the next run reads again from there.

Rows purged by maintenance stay in ``raw`` (they are archived, and a rebuilt warehouse gets
them back from the archive: :func:`restore_archived`). Rows deleted on the platform by hand
leave it, found once a day by comparing every id (:func:`remove_deleted`).

The statements here are built from the table specs (identifiers only, quoted; every value is
a bound parameter): one generic merge serves all seven tables.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import duckdb

from pipelines.ingest.extract import SourceReader, Watermark
from pipelines.ingest.tables import SourceTable
from pipelines.sql_files import (
    missing_relations,
    one_transaction,
    run_model,
)
from pipelines.warehouse.upsert import replace_rows
from platform_core.models import utcnow


@dataclass(frozen=True)
class LoadResult:
    """What one table's load did; reported as Dagster metadata."""

    table: str
    full_load: bool
    rows_read: int
    rows_inserted: int
    rows_updated: int
    source_rows: int
    raw_rows: int
    #: Ids this load left more than once in raw: 0 unless the merge is broken (see
    #: :func:`_duplicates_added`); the hourly ``unique_ids`` check reads it.
    duplicate_ids: int
    #: Archived rows put back into raw (a rebuilt warehouse; see :func:`restore_archived`).
    rows_restored: int
    #: Rows found deleted on the platform by hand and removed from raw (see
    #: :func:`remove_deleted`); None when this run did not compare (once a day it does).
    rows_deleted: int | None
    watermark: Watermark | None
    seconds: float


def _column_ddl(table: SourceTable, name: str, kind: str) -> str:
    # Compression is the lake's, per Parquet file (zstd: pipelines/warehouse/lake.py).
    return f'"{name}" {kind}'


def _raw_columns_ddl(table: SourceTable) -> str:
    cols = ", ".join(_column_ddl(table, name, kind) for name, kind in table.columns)
    return f"{cols}, _ingested_at TIMESTAMP NOT NULL"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
    """Create ``raw.<table>`` (and the ops tables) if missing; add columns the source gained."""
    # Applied once per version of each file (ops.model_versions); one transaction for the
    # four checks, which each began one (~10 ms apiece: DuckLake loads its snapshot).
    with one_transaction(con):
        for model in (
            "ops/watermarks.sql",
            "ops/ingest_runs.sql",
            "ops/capture_cursors.sql",
            "ops/platform_deletions.sql",
        ):
            run_model(con, model)
    # duckdb_columns(), not duckdb_tables(): the latter sizes every table of the DuckLake.
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'raw'"
            " AND table_name = ?",
            [table.name],
        ).fetchall()
    }
    if not existing:
        con.execute(f'CREATE TABLE raw."{table.name}" ({_raw_columns_ddl(table)})')
        con.execute(
            f'COMMENT ON TABLE raw."{table.name}" IS \'Mirror of the platform table'
            f" {table.name}, merged by id; rows purged from the platform are kept'"
        )
        existing = {name for name, _ in table.columns}
    for name, kind in table.columns:
        if name not in existing:
            con.execute(
                f'ALTER TABLE raw."{table.name}" ADD COLUMN {_column_ddl(table, name, kind)}'
            )


def read_capture_cursor(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """The ``change_id`` the next read of ``table`` starts from, or None before change
    capture has read it once (then the watermark decides, one last time)."""
    rows = con.execute(
        "SELECT change_from FROM ops.capture_cursors WHERE table_name = ?", [table]
    ).fetchall()
    return int(rows[0][0]) if rows else None


def read_watermark(con: duckdb.DuckDBPyConnection, table: str) -> Watermark | None:
    """The last committed watermark of ``table``, or None before its first load."""
    rows = con.execute(
        "SELECT updated_at, last_id FROM ops.watermarks WHERE table_name = ?", [table]
    ).fetchall()
    return Watermark(rows[0][0], rows[0][1]) if rows else None


def _select_cast(table: SourceTable, source: str) -> str:
    # TRY_CAST: a value the source let through but the type cannot hold becomes NULL rather
    # than failing the run; classifying such rows is the staging layer's job.
    cols = ", ".join(
        f'CAST("{n}" AS VARCHAR) AS "{n}"' if k == "VARCHAR" else f'TRY_CAST("{n}" AS {k}) AS "{n}"'
        for n, k in table.columns
    )
    return f"SELECT {cols}, CAST(? AS TIMESTAMP) AS _ingested_at FROM {source}"


def load_table(
    con: duckdb.DuckDBPyConnection,
    reader: SourceReader,
    table: SourceTable,
    *,
    lookback: timedelta = timedelta(0),
    now: datetime | None = None,
) -> LoadResult:
    """Bring ``raw.<table>`` up to date with the platform table, in one transaction."""
    started = time.perf_counter()
    now = now or utcnow()
    ensure_raw_table(con, table)
    raw = f'raw."{table.name}"'
    since = read_watermark(con, table.name)
    raw_before = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
    full = since is None or not raw_before
    # Change capture (platform migration 0004): read what changed since the bound taken
    # before the previous read, whatever its id or timestamp; take the next bound first.
    changed_from = None if full else read_capture_cursor(con, table.name)
    bound = reader.capture_bound(table)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        with one_transaction(con):
            counting = pool.submit(_count_source, reader, table) if not full else None
            if full:
                # First load: stream straight into the raw table, no staging copy.
                target = raw
                since = None
            else:
                con.execute(f"CREATE OR REPLACE TEMP TABLE _delta AS SELECT * FROM {raw} LIMIT 0")
                target = "_delta"
            rows_read = 0
            for i, batch in enumerate(reader.batches(table, since, lookback, changed_from)):
                view = f"_batch_{i}"
                con.register(view, batch)
                try:
                    con.execute(f"INSERT INTO {target} {_select_cast(table, view)}", [now])
                finally:
                    con.unregister(view)
            if full:
                rows_read = inserted = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
                updated = 0
                # Every row is new: count repeated ids with a grouping, which spills to disk
                # under the ingest's memory limit (count(DISTINCT) over 10M ids did not).
                duplicates = con.execute(
                    f"SELECT count(*) FROM (SELECT id FROM {raw} GROUP BY id HAVING count(*) > 1)"
                ).fetchall()[0][0]
                new_mark = _newest(con, raw, table, now)
            else:
                rows_read = con.execute("SELECT count(*) FROM _delta").fetchall()[0][0]
                changed = (
                    "r.updated_at IS DISTINCT FROM d.updated_at"
                    if table.mode == "mutable"
                    else "true"
                )
                inserted, updated = con.execute(
                    "SELECT count(*) FILTER (WHERE r.id IS NULL),"
                    f" count(*) FILTER (WHERE r.id IS NOT NULL AND {changed})"
                    f" FROM _delta d LEFT JOIN {raw} r ON r.id = d.id"
                ).fetchall()[0]
                delta_ids = con.execute("SELECT count(DISTINCT id) FROM _delta").fetchall()[0][0]
                # An upsert by id; unchanged re-reads (lookback) are left alone. MERGE updates in
                # place, which checkpoints far cheaper than DELETE + INSERT of the same rows.
                con.execute(
                    f"MERGE INTO {raw} AS r USING _delta AS d ON r.id = d.id"
                    f" WHEN MATCHED AND {changed} THEN UPDATE SET *"
                    " WHEN NOT MATCHED THEN INSERT *"
                )
                after = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
                duplicates = _duplicates_added(raw_before, after, inserted, rows_read, delta_ids)
                new_mark = _newest(con, "_delta", table, now) or since
                if since and new_mark and _before(new_mark, since):
                    new_mark = since  # a lookback re-read never moves the watermark back
                con.execute("DROP TABLE _delta")
            if bound is not None:
                replace_rows(con, "ops.capture_cursors", ["table_name"], [[table.name, bound, now]])
            restored = restore_archived(con, table, now)
            # A first load is the platform as it is: nothing to compare until a day has passed.
            deleted = (
                remove_deleted(con, reader, table, now, compare=not full)
                if _comparison_due(con, table, now)
                else None
            )
            if new_mark is not None:
                replace_rows(
                    con,
                    "ops.watermarks",
                    ["table_name"],
                    [[table.name, new_mark.updated_at, new_mark.last_id, now]],
                )
            # A full load read the whole table in one snapshot, so its row count is the source's;
            # otherwise the count ran on its own connection while this one loaded.
            source_rows = rows_read if full else counting.result()
            raw_rows = con.execute(f"SELECT count(*) FROM {raw}").fetchall()[0][0]
            seconds = time.perf_counter() - started
            con.execute(
                "INSERT INTO ops.ingest_runs (table_name, started_at, seconds, rows_read,"
                " rows_inserted, rows_updated, source_rows, watermark_updated_at, watermark_id,"
                " duplicate_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    table.name,
                    now,
                    seconds,
                    rows_read,
                    inserted,
                    updated,
                    source_rows,
                    new_mark.updated_at if new_mark else None,
                    new_mark.last_id if new_mark else None,
                    duplicates,
                ],
            )
    finally:
        pool.shutdown(wait=True)
    return LoadResult(
        table.name,
        full,
        rows_read,
        inserted,
        updated,
        source_rows,
        raw_rows,
        duplicates,
        restored,
        deleted,
        new_mark,
        time.perf_counter() - started,
    )


#: How often each table's raw rows are compared with every platform id to find rows deleted
#: on the platform by hand (the comparison reads every id, so not every hour).
DELETIONS_EVERY = timedelta(days=1)

#: What a deleted row touched, as SQL over its raw row: (its day, its agent, when it counted
#: for trust). The next pipeline run rebuilds those days and recomputes that agent's trust.
_TOUCHED_BY = {
    "executions": ("created_at::date", "agent_id", "coalesce(completed_at, created_at)"),
    "hirings": ("hired_at::date", "agent_id", "null"),
    "agent_metrics": ("recorded_at::date", "agent_id", "null"),
    "agent_reviews": ("created_at::date", "agent_id", "created_at"),
    "agents": ("null", "id", "null"),
    "users": ("null", "null", "null"),
    "trust_records": ("null", "agent_id", "null"),
}


def _comparison_due(con: duckdb.DuckDBPyConnection, table: SourceTable, now: datetime) -> bool:
    last = con.execute(
        "SELECT max(advanced_at) FROM ops.watermarks WHERE table_name = ?",
        [f"deletions:{table.name}"],
    ).fetchall()[0][0]
    return last is None or now - last >= DELETIONS_EVERY


def remove_deleted(
    con: duckdb.DuckDBPyConnection,
    reader: SourceReader,
    table: SourceTable,
    now: datetime,
    *,
    compare: bool = True,
) -> int:
    """Remove from raw the rows the platform no longer has and maintenance did not archive
    (deleted there by hand: a fraudulent listing, a user's erasure request); how many.

    Every platform id is read (after this run's rows, so a row inserted meanwhile is simply
    there) and raw's ids not among them, and not in the archive, are the deleted rows. They
    are noted in ``ops.platform_deletions`` (ids, day, agent; nothing personal) for the
    models the next steps build, and deleted from raw in the load's transaction. Runs once
    a day per table (:data:`DELETIONS_EVERY`): it reads every id.
    """
    run_model(con, "ops/platform_deletions.sql")
    if not compare:
        replace_rows(
            con, "ops.watermarks", ["table_name"], [[f"deletions:{table.name}", None, 0, now]]
        )
        return 0
    day, agent, occurred = _TOUCHED_BY.get(table.name, ("null", "null", "null"))
    view = f"ops.archived_{table.name}"
    archived = (
        "" if missing_relations(con, (view,)) else f" AND r.id NOT IN (SELECT id FROM {view})"
    )
    con.register("_platform_ids", reader.ids(table).select(["id"]))
    try:
        gone = con.execute(
            f"INSERT INTO ops.platform_deletions"
            f" SELECT ?, r.id, {day}, {agent}, {occurred}, CAST(? AS TIMESTAMP)"
            f' FROM raw."{table.name}" AS r'
            f" WHERE r.id NOT IN (SELECT id FROM _platform_ids){archived}",
            [table.name, now],
        ).fetchall()[0][0]
    finally:
        con.unregister("_platform_ids")
    if gone:
        con.execute(
            f'DELETE FROM raw."{table.name}" WHERE id IN (SELECT id FROM ops.platform_deletions'
            " WHERE table_name = ? AND detected_at = ?)",
            [table.name, now],
        )
    replace_rows(
        con, "ops.watermarks", ["table_name"], [[f"deletions:{table.name}", None, gone, now]]
    )
    return int(gone)


def restore_archived(con: duckdb.DuckDBPyConnection, table: SourceTable, now: datetime) -> int:
    """Put archived rows that raw lacks back into raw; how many.

    Raw keeps the rows maintenance purged from the platform (they were ingested before they
    were archived). A warehouse rebuilt from scratch has never seen them: maintenance lists
    the archive's files again (``in_raw`` false in ``ops.archive_manifest``), and the next
    load reads them back from ``ops.archived_<table>``, so quarantine, executions_all, the
    rollups and trust count them as before. Costs one manifest lookup when nothing is owed.
    """
    view = f"ops.archived_{table.name}"
    if missing_relations(con, ("ops.archive_manifest", view)):
        return 0
    owed = con.execute(
        "SELECT count(*) FROM ops.archive_manifest"
        " WHERE table_name = ? AND purged_at IS NOT NULL AND NOT in_raw",
        [table.name],
    ).fetchall()[0][0]
    if not owed:
        return 0
    cols = ", ".join(f'"{n}"' for n in table.column_names)
    # One row per id (two files never hold the same id, but a restored copy might).
    restored = con.execute(
        f'INSERT INTO raw."{table.name}" ({cols}, _ingested_at)'
        f" SELECT {cols}, CAST(? AS TIMESTAMP) FROM {view}"
        f' WHERE id NOT IN (SELECT id FROM raw."{table.name}")'
        " QUALIFY row_number() OVER (PARTITION BY id ORDER BY id) = 1",
        [now],
    ).fetchall()[0][0]
    con.execute(
        "UPDATE ops.archive_manifest SET in_raw = true"
        " WHERE table_name = ? AND purged_at IS NOT NULL AND NOT in_raw",
        [table.name],
    )
    return int(restored)


def _duplicates_added(
    raw_before: int, raw_after: int, inserted: int, delta_rows: int, delta_ids: int
) -> int:
    """Ids an incremental merge left twice in raw, from counts of what it merged alone.

    Raw held each id once before (the previous run's check, or the daily ``every_id_once``).
    The merge updates the ids raw has and inserts the others, so raw stays unique exactly
    when the delta holds each id once and raw grew by the delta's ids that were new. Both
    are counted over the delta, and ``count(*)`` of a table is metadata: the hourly check
    costs what the run read, not the history (a ``count(DISTINCT id)`` over 10M raw rows ran
    out of the ingest's memory).
    """
    return (delta_rows - delta_ids) + abs(raw_after - raw_before - inserted)


def _count_source(reader: SourceReader, table: SourceTable) -> int:
    """The source's row count, on a second connection so it overlaps with the load."""
    other = reader.fork()
    try:
        return other.count(table)
    finally:
        other.close()


def _newest(
    con: duckdb.DuckDBPyConnection, relation: str, table: SourceTable, cap: datetime
) -> Watermark | None:
    """The newest (updated_at, id) of ``relation``, ignoring timestamps after ``cap``.

    A row stamped in the future (a bad clock, a bad client) must not drag the watermark
    ahead of real time, or every genuine update until then would be skipped. Such rows are
    still loaded, and re-read (harmlessly, merged by id) until time catches up with them.
    """
    if table.mode == "mutable":
        rows = con.execute(
            f"SELECT updated_at, id FROM {relation} WHERE updated_at <= ?"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            [cap],
        ).fetchall()
        return Watermark(rows[0][0], rows[0][1]) if rows else None
    row = con.execute(f"SELECT max(id) FROM {relation}").fetchall()[0]
    return Watermark(None, row[0]) if row and row[0] is not None else None


def _before(a: Watermark, b: Watermark) -> bool:
    if a.updated_at is not None and b.updated_at is not None:
        return (a.updated_at, a.last_id) < (b.updated_at, b.last_id)
    return a.last_id < b.last_id
