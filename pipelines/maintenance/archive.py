"""Archive old executions to Parquet, then purge them from the platform: exactly once.

Per batch (a keyset slice of terminal executions older than the retention, in id order):

1. inside one platform transaction, select the batch (rows locked on PostgreSQL);
2. per month of ``created_at``, write the rows to a temporary Parquet file, read it back and
   verify its row count and id checksum, rename it into place
   (``ARCHIVE_DIR/executions/month=YYYY-MM/executions_<first id>_<last id>.parquet``) and
   record it in ``ops.archive_manifest`` with ``purged_at`` NULL;
3. delete the batch's rows and commit the platform transaction;
4. set ``purged_at`` on the batch's manifest rows.

A crash before 3 commits leaves the rows in the platform; a crash after it leaves them only
in verified, listed files. :func:`recover` (the start of every run) settles what a crash left
unconfirmed: a listed file whose rows are gone from the platform gets its ``purged_at``; a
listed file whose rows are still there is dropped (they are archived again); a file that is
not listed (a leftover, a temporary name) is deleted and never read as archive.

Only rows the warehouse already holds as they are (same ``id`` and ``updated_at`` in
``raw.executions``) are purged, so the warehouse's all-time statistics never lose a row.
Pending and running executions are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import JSON, Connection, Engine, Text, cast, delete, func, select

from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.sql_files import run_model
from platform_core.db import is_sqlite
from platform_core.models import Execution

TERMINAL = ("completed", "failed", "timeout", "cancelled")
TABLE = "executions"
_ARROW = {
    "BIGINT": pa.int64(),
    "VARCHAR": pa.string(),
    "DOUBLE": pa.float64(),
    "TIMESTAMP": pa.timestamp("us"),
    "BOOLEAN": pa.bool_(),
}
#: Every seed-000 column plus id, typed as the raw layer types them.
SCHEMA = pa.schema([(name, _ARROW[kind]) for name, kind in SOURCE_TABLES[TABLE].columns])


class ArchiveError(RuntimeError):
    """The archive and the platform disagree in a way no crash explains; nothing is deleted."""


@dataclass
class ArchiveResult:
    """What one archive run did (or, in a dry run, would do)."""

    dry_run: bool
    rows: int = 0
    bytes: int = 0
    files: int = 0
    months: dict[str, int] = field(default_factory=dict)
    #: Old terminal rows left in the platform because the warehouse has not ingested them as
    #: they are yet (the next run takes them).
    waiting_for_ingest: int = 0
    recovered_purged: int = 0
    recovered_dropped: int = 0
    leftovers_deleted: int = 0


def _columns() -> list:
    table = Execution.__table__
    return [
        cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c
        for c in (table.c[name] for name, _ in SOURCE_TABLES[TABLE].columns)
    ]


def _old_terminal(cutoff: datetime):
    return (Execution.status.in_(TERMINAL)) & (
        func.coalesce(Execution.completed_at, Execution.created_at) < cutoff
    )


def _fetch_batch(
    conn: Connection, cutoff: datetime, after_id: int, batch_size: int, *, lock: bool
) -> pa.Table:
    """The next keyset batch of old terminal executions after ``after_id``, as Arrow.

    ``lock`` takes row locks (PostgreSQL; SQLite locks the whole database on write anyway):
    a concurrent update of one of these rows waits for the purge instead of being deleted
    unseen.
    """
    query = (
        select(*_columns())
        .where(_old_terminal(cutoff), Execution.id > after_id)
        .order_by(Execution.id)
        .limit(batch_size)
    )
    if lock:
        query = query.with_for_update()
    rows = conn.execute(query).all()
    return pa.Table.from_pylist([r._asdict() for r in rows], schema=SCHEMA)


def _checksum(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    count, total = con.execute(
        f"select count(*), coalesce(sum(hash(id)), 0)::varchar from {relation}"
    ).fetchall()[0]
    return int(count), str(total)


def _ingested(con: duckdb.DuckDBPyConnection, batch: pa.Table) -> pa.Table:
    """The rows of ``batch`` the warehouse holds with the same ``updated_at``."""
    con.register("_archive_batch", batch)
    try:
        return con.sql(
            "select b.* from _archive_batch as b"
            " join raw.executions as r on r.id = b.id and r.updated_at = b.updated_at"
            " order by b.id"
        ).to_arrow_table()
    finally:
        con.unregister("_archive_batch")


def recover(con: duckdb.DuckDBPyConnection, engine: Engine, archive_dir: Path) -> dict[str, int]:
    """Settle what an interrupted run left: see the module docstring."""
    run_model(con, "ops/archive_manifest.sql")
    settled = {"purged": 0, "dropped": 0, "leftovers": 0}
    pending = con.execute(
        "select file, rows, min_id, max_id from ops.archive_manifest"
        " where table_name = ? and purged_at is null",
        [TABLE],
    ).fetchall()
    for file, rows, min_id, max_id in pending:
        path = archive_dir / file
        ids = [r[0] for r in con.execute("select id from read_parquet(?)", [str(path)]).fetchall()]
        with engine.connect() as conn:
            present = conn.execute(
                select(func.count())
                .select_from(Execution)
                .where(Execution.id.between(min_id, max_id), Execution.id.in_(ids))
            ).scalar_one()
        if present == 0:
            con.execute("update ops.archive_manifest set purged_at = now() where file = ?", [file])
            settled["purged"] += 1
        elif present == rows:
            con.execute("delete from ops.archive_manifest where file = ?", [file])
            path.unlink(missing_ok=True)
            settled["dropped"] += 1
        else:
            raise ArchiveError(
                f"{file}: {present} of its {rows} rows are still in the platform; a purge "
                "commits a whole batch or nothing, so something else deleted rows. Nothing "
                "was changed: compare the file with the platform before running again."
            )
    listed = {r[0] for r in con.execute("select file from ops.archive_manifest").fetchall()}
    root = archive_dir / TABLE
    if root.exists():
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.relative_to(archive_dir).as_posix() not in listed:
                path.unlink()
                settled["leftovers"] += 1
    return settled


def archive_executions(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    archive_dir: Path,
    cutoff: datetime,
    *,
    batch_size: int = 10_000,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _rows: None,
    crash: Callable[[str], None] = lambda _point: None,
) -> ArchiveResult:
    """Archive and purge terminal executions finished before ``cutoff`` (see module doc).

    ``crash(point)`` is called at the points a crash matters ("written", "deleted",
    "committed"); tests pass one that raises there, stopping the run as a crash would.
    """
    result = ArchiveResult(dry_run=dry_run)
    if dry_run:
        return _dry_run(con, engine, cutoff, batch_size, result)
    settled = recover(con, engine, archive_dir)
    result.recovered_purged = settled["purged"]
    result.recovered_dropped = settled["dropped"]
    result.leftovers_deleted = settled["leftovers"]
    last_id = 0
    while True:
        with engine.begin() as conn:
            batch = _fetch_batch(conn, cutoff, last_id, batch_size, lock=not is_sqlite(engine))
            if not batch.num_rows:
                break
            last_id = batch.column("id")[-1].as_py()
            held = _ingested(con, batch)
            result.waiting_for_ingest += batch.num_rows - held.num_rows
            if held.num_rows:
                files = _write_months(con, held, archive_dir, result)
                crash("written")
                ids = held.column("id").to_pylist()
                deleted = conn.execute(delete(Execution).where(Execution.id.in_(ids))).rowcount
                if deleted != len(ids):
                    raise ArchiveError(
                        f"deleted {deleted} of {len(ids)} archived rows; rolled back"
                    )
                crash("deleted")
        # The platform transaction has committed: these files' rows are only in the archive.
        if held.num_rows:
            crash("committed")
            con.execute(
                "update ops.archive_manifest set purged_at = now()"
                " where file in (select unnest(?::varchar[]))",
                [files],
            )
            result.rows += held.num_rows
            progress(result.rows)
        if batch.num_rows < batch_size:
            break
    return result


def _write_months(
    con: duckdb.DuckDBPyConnection, held: pa.Table, archive_dir: Path, result: ArchiveResult
) -> list[str]:
    """Write, verify, rename and list one file per month of ``held``; their manifest paths."""
    con.register("_archive_held", held)
    files: list[str] = []
    try:
        months = [
            r[0]
            for r in con.execute(
                "select distinct strftime(created_at, '%Y-%m') from _archive_held order by 1"
            ).fetchall()
        ]
        for month in months:
            con.execute(
                "create or replace temp table _archive_month as select * from _archive_held"
                " where strftime(created_at, '%Y-%m') = ? order by id",
                [month],
            )
            rows, checksum = _checksum(con, "_archive_month")
            first, last = con.execute("select min(id), max(id) from _archive_month").fetchall()[0]
            relative = f"{TABLE}/month={month}/{TABLE}_{first}_{last}.parquet"
            final = archive_dir / relative
            final.parent.mkdir(parents=True, exist_ok=True)
            temporary = final.with_name(f".{final.name}.tmp")
            con.execute(
                f"copy _archive_month to '{_quoted(temporary)}' (format parquet, compression zstd)"
            )
            # Read back from the file itself before anything is deleted.
            if _checksum(con, f"read_parquet('{_quoted(temporary)}')") != (rows, checksum):
                temporary.unlink(missing_ok=True)
                raise ArchiveError(f"{relative}: the file read back differs from its rows")
            os.replace(temporary, final)
            size = final.stat().st_size
            con.execute(
                "insert or replace into ops.archive_manifest"
                " values (?, ?, ?, ?, ?, ?, ?, ?, now(), null)",
                [relative, TABLE, month, rows, first, last, checksum, size],
            )
            files.append(relative)
            result.files += 1
            result.bytes += size
            result.months[month] = result.months.get(month, 0) + rows
        con.execute("drop table if exists _archive_month")
    finally:
        con.unregister("_archive_held")
    return files


def _quoted(path: Path) -> str:
    """A path as a SQL string literal's body (COPY TO takes no bound parameter)."""
    return str(path).replace("'", "''")


def _dry_run(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    cutoff: datetime,
    batch_size: int,
    result: ArchiveResult,
) -> ArchiveResult:
    """Count what a run would archive, per month, changing nothing anywhere."""
    last_id = 0
    while True:
        with engine.connect() as conn:
            batch = _fetch_batch(conn, cutoff, last_id, batch_size, lock=False)
        if not batch.num_rows:
            return result
        last_id = batch.column("id")[-1].as_py()
        held = _ingested(con, batch)
        result.waiting_for_ingest += batch.num_rows - held.num_rows
        result.rows += held.num_rows
        for created in held.column("created_at").to_pylist():
            month = created.strftime("%Y-%m")
            result.months[month] = result.months.get(month, 0) + 1
        if batch.num_rows < batch_size:
            return result
