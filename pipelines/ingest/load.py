"""Load one platform table into ``raw``: stream, merge by key, advance the watermark.

All of one table's work happens in one DuckDB transaction: the rows, the merge and the new
watermark in ``ops.watermarks`` commit together or not at all. A run killed half way leaves
the raw table and its watermark as the last committed run left them, and the next run reads
again from there.

Rows are never deleted from ``raw`` because they disappeared from the source: maintenance
purges old executions from the platform after archiving them, and the warehouse keeps them.

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
from pipelines.sql_files import read_sql
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
    watermark: Watermark | None
    seconds: float


def _column_ddl(table: SourceTable, name: str, kind: str) -> str:
    # JSON documents are long and unique per row, so DuckDB's default string compression
    # (dictionary + FSST, chosen after analysing every segment) buys little for its CPU.
    # Forcing ZSTD on them made the 5M-execution full load ~10% faster and its file smaller
    # (341 -> ~320 MB, bench/ingest.py); short, repetitive strings keep the default.
    compression = " USING COMPRESSION zstd" if name in table.json_columns else ""
    return f'"{name}" {kind}{compression}'


def _raw_columns_ddl(table: SourceTable) -> str:
    cols = ", ".join(_column_ddl(table, name, kind) for name, kind in table.columns)
    return f"{cols}, _ingested_at TIMESTAMP NOT NULL"


def ensure_raw_table(con: duckdb.DuckDBPyConnection, table: SourceTable) -> None:
    """Create ``raw.<table>`` (and the ops tables) if missing; add columns the source gained."""
    for model in ("ops/watermarks.sql", "ops/ingest_runs.sql"):
        con.execute(read_sql(model))
    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = ?",
        [table.name],
    ).fetchall()[0][0]
    if not exists:
        con.execute(f'CREATE TABLE raw."{table.name}" ({_raw_columns_ddl(table)})')
        con.execute(
            f'COMMENT ON TABLE raw."{table.name}" IS \'Mirror of the platform table'
            f" {table.name}, merged by id; rows purged from the platform are kept'"
        )
    existing = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ?",
            [table.name],
        ).fetchall()
    }
    for name, kind in table.columns:
        if name not in existing:
            con.execute(
                f'ALTER TABLE raw."{table.name}" ADD COLUMN {_column_ddl(table, name, kind)}'
            )


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
    con.execute("BEGIN TRANSACTION")
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        counting = pool.submit(_count_source, reader, table) if not full else None
        if full:
            # First load: stream straight into the raw table, no staging copy.
            target = raw
            since = None
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _delta AS SELECT * FROM {raw} LIMIT 0")
            target = "_delta"
        rows_read = 0
        for i, batch in enumerate(reader.batches(table, since, lookback)):
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
                "r.updated_at IS DISTINCT FROM d.updated_at" if table.mode == "mutable" else "true"
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
        if new_mark is not None:
            con.execute(
                "INSERT OR REPLACE INTO ops.watermarks VALUES (?, ?, ?, ?)",
                [table.name, new_mark.updated_at, new_mark.last_id, now],
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
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
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
        new_mark,
        time.perf_counter() - started,
    )


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
