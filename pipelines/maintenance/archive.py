"""Archive old platform rows to Parquet, then purge them from the platform: exactly once.

Two tables are archived (:data:`EXECUTIONS`, :data:`AGENT_METRICS`); per batch (a keyset
slice of old rows, in id order):

1. inside one platform transaction, lock the batch (``SELECT`` of its key columns ``FOR
   UPDATE`` on PostgreSQL) and keep the ids the warehouse holds (below);
2. ``DELETE ... RETURNING`` those rows (not committed yet: the platform still has them for
   everyone else);
3. write the returned rows with one ``COPY ... PARTITION_BY`` into a temporary folder (one
   file per month of the partition column), read every file back and verify its row count
   and id checksum, fsync it, rename it into place
   (``ARCHIVE_DIR/<table>/month=YYYY-MM/<table>_<first id>_<last id>.parquet``), fsync the
   folders, and record it in ``ops.archive_manifest`` with ``purged_at`` NULL (so a power
   cut, not only a crash, can never leave a listed file missing with its rows purged);
4. commit the platform transaction, then set ``purged_at`` on the batch's manifest rows.

A crash before the commit leaves the rows in the platform (the delete rolls back); a crash
after it leaves them only in verified, listed files. :func:`recover` (the start of every run)
settles what a crash left unconfirmed: a listed file whose rows are gone from the platform
gets its ``purged_at``; a listed file whose rows are still there is dropped (they are
archived again). A file that is not listed is never read as archive: a temporary name or
folder, or a file whose rows are all still in the platform (a crash between the rename and
the manifest), is deleted; a verified file whose rows are all gone from the platform (a
warehouse rebuilt without its manifest) is listed
again, so losing the warehouse never deletes the archive.

Only rows the warehouse already holds as they are are purged (executions: same ``id`` and
``updated_at`` in ``raw.executions``; metric points: ingested, and counted in both their
hourly and daily rollup buckets), so the warehouse's statistics never lose a row. Pending and
running executions are never touched.

Readers see the archive through ``ops.archived_executions`` and ``ops.archived_agent_metrics``:
views over exactly the files the manifest lists as purged (:func:`refresh_views`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, func, select

from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.maintenance.archive_specs import (
    SPECS,
    ArchiveError,
    ArchiveSpec,
)
from pipelines.maintenance.batches import open_batches
from pipelines.sql_files import missing_relations, run_model
from pipelines.warehouse.upsert import replace_rows


@dataclass
class ArchiveResult:
    """What one archive run of one table did (or, in a dry run, would do)."""

    table: str
    dry_run: bool
    rows: int = 0
    bytes: int = 0
    files: int = 0
    months: dict[str, int] = field(default_factory=dict)
    #: Old rows left in the platform because the warehouse does not hold them as they are
    #: yet (not ingested, or not rolled up): a later run takes them.
    waiting_for_warehouse: int = 0
    #: Why nothing was archived, when the warehouse was not ready (e.g. never built).
    not_ready: str | None = None
    recovered_purged: int = 0
    recovered_dropped: int = 0
    recovered_adopted: int = 0
    leftovers_deleted: int = 0

    @property
    def detail(self) -> dict[str, object]:
        """What the run found, for the report and the run's metadata."""
        return {
            "not_ready": self.not_ready,
            "months": self.months,
            "files": self.files,
            "waiting_for_warehouse": self.waiting_for_warehouse,
            "recovered_purged": self.recovered_purged,
            "recovered_dropped": self.recovered_dropped,
            "recovered_adopted": self.recovered_adopted,
            "leftovers_deleted": self.leftovers_deleted,
        }


def _checksum(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    count, total = con.execute(
        f"select count(*), coalesce(sum(hash(id)), 0)::varchar from {relation}"
    ).fetchall()[0]
    return int(count), str(total)


def _held(con: duckdb.DuckDBPyConnection, spec: ArchiveSpec, keys: pa.Table) -> list[int]:
    """The ids of ``keys`` the warehouse holds (see :class:`ArchiveSpec`), in id order."""
    con.register("_archive_batch", keys)
    try:
        return [r[0] for r in con.execute(spec.held_sql).fetchall()]
    finally:
        con.unregister("_archive_batch")


def _present(engine: Engine, spec: ArchiveSpec, ids: list[int]) -> int:
    """How many of ``ids`` are rows of the platform table."""
    if not ids:
        return 0
    model = spec.model
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(model)
            .where(model.id.between(min(ids), max(ids)), model.id.in_(ids))
        ).scalar_one()


def _file_ids(con: duckdb.DuckDBPyConnection, path: Path) -> list[int]:
    return [r[0] for r in con.execute("select id from read_parquet(?)", [str(path)]).fetchall()]


def recover(
    con: duckdb.DuckDBPyConnection, engine: Engine, archive_dir: Path, spec: ArchiveSpec
) -> dict[str, int]:
    """Settle what an interrupted run left for one table: see the module docstring."""
    run_model(con, "ops/archive_manifest.sql")
    settled = {"purged": 0, "dropped": 0, "adopted": 0, "leftovers": 0}
    pending = con.execute(
        "select file, rows from ops.archive_manifest where table_name = ? and purged_at is null",
        [spec.table],
    ).fetchall()
    for file, rows in pending:
        path = archive_dir / file
        present = _present(engine, spec, _file_ids(con, path))
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
    root = archive_dir / spec.table
    if not root.exists():
        return settled
    for staging in sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(".")):
        # A batch's temporary folder (see _write_months): its rows were never deleted.
        settled["leftovers"] += sum(1 for p in staging.rglob("*") if p.is_file())
        shutil.rmtree(staging)
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(archive_dir).as_posix()
        if not path.is_file() or relative in listed:
            continue
        if path.name.startswith(".") or path.suffix != ".parquet":
            path.unlink()  # a temporary file: its rows were never deleted
            settled["leftovers"] += 1
            continue
        ids = _file_ids(con, path)
        present = _present(engine, spec, ids)
        if present == len(ids):
            path.unlink()  # renamed, but the platform transaction never committed
            settled["leftovers"] += 1
        elif present == 0:
            _list_file(con, archive_dir, relative, spec, purged=True)
            settled["adopted"] += 1
        else:
            raise ArchiveError(
                f"{relative} is not in ops.archive_manifest and {present} of its {len(ids)} "
                "rows are still in the platform. Nothing was changed: compare the file with "
                "the platform before running again."
            )
    return settled


def _list_file(
    con: duckdb.DuckDBPyConnection,
    archive_dir: Path,
    relative: str,
    spec: ArchiveSpec,
    *,
    purged: bool,
) -> tuple[int, int]:
    """Record a verified file in the manifest; its (rows, bytes)."""
    path = archive_dir / relative
    source = f"read_parquet('{_quoted(path)}')"
    rows, checksum = _checksum(con, source)
    first, last = con.execute(f"select min(id), max(id) from {source}").fetchall()[0]
    month = path.parent.name.removeprefix("month=")
    size = path.stat().st_size
    # Listed again (a rebuilt warehouse): its rows are not in raw until the next ingest.
    now = _now(con)
    purged_at = now if purged else None
    replace_rows(
        con,
        "ops.archive_manifest",
        ["file"],
        [[relative, spec.table, month, rows, first, last, checksum, size, now, purged_at, False]],
    )
    return rows, size


def refresh_views(
    con: duckdb.DuckDBPyConnection, archive_dir: Path, specs: tuple[ArchiveSpec, ...] = SPECS
) -> None:
    """Point ``ops.archived_<table>`` of ``specs`` at the files the manifest lists as purged.

    A view, so the warehouse does not hold a second copy; it names the files one by one, so a
    file the manifest does not list (a crash's leftover) is never read. Table functions take
    no bound parameters inside a view, hence the quoted literals.
    """
    run_model(con, "ops/archive_manifest.sql")
    for spec in specs:
        files = [
            archive_dir.resolve() / r[0]
            for r in con.execute(
                "select file from ops.archive_manifest"
                " where table_name = ? and purged_at is not null order by file",
                [spec.table],
            ).fetchall()
        ]
        columns = ", ".join(name for name, _ in SOURCE_TABLES[spec.table].columns)
        if files:
            listed = ", ".join(f"'{_quoted(f)}'" for f in files)
            # By name: files written before a platform column existed read it as NULL.
            source = f"select {columns} from read_parquet([{listed}], union_by_name = true)"
        else:
            typed = ", ".join(
                f"null::{kind} as {name}" for name, kind in SOURCE_TABLES[spec.table].columns
            )
            source = f"select {typed} where false"
        con.execute(f"create or replace view {spec.view} as {source}")
        con.execute(
            f"comment on view {spec.view} is 'Archived (purged) platform {spec.table} rows, "
            "read from the Parquet files ops.archive_manifest lists'"
        )


def archive_table(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    archive_dir: Path,
    spec: ArchiveSpec,
    cutoff: datetime,
    *,
    batch_size: int = 10_000,
    dry_run: bool = False,
    progress: Callable[[int], None] = lambda _rows: None,
    crash: Callable[[str], None] = lambda _point: None,
) -> ArchiveResult:
    """Archive and purge the rows of ``spec`` older than ``cutoff`` (see module doc).

    ``crash(point)`` is called at the points a crash matters ("written", "deleted",
    "committed"); tests pass one that raises there, stopping the run as a crash would.
    """
    result = ArchiveResult(table=spec.table, dry_run=dry_run)
    missing = missing_relations(con, spec.requires)
    if missing:
        result.not_ready = (
            f"the warehouse has no {missing[0]} yet (never built, or rebuilt): nothing is "
            "archived until `agenthub pipeline run` has read the platform"
        )
    if dry_run:
        return result if missing else _dry_run(con, engine, spec, cutoff, batch_size, result)
    # Settling what a crash left, and listing the files a rebuilt warehouse lacks, needs
    # only the platform and the archive.
    settled = recover(con, engine, archive_dir, spec)
    result.recovered_purged = settled["purged"]
    result.recovered_dropped = settled["dropped"]
    result.recovered_adopted = settled["adopted"]
    result.leftovers_deleted = settled["leftovers"]
    if missing:
        refresh_views(con, archive_dir, (spec,))
        return result
    if spec.prepare_sql:
        con.execute(spec.prepare_sql, {"cutoff": cutoff})
    source = open_batches(engine, spec, cutoff, lock=True)
    last_id = 0
    try:
        while True:
            keys = source.next_keys(last_id, batch_size)
            if not keys.num_rows:
                source.rollback()
                break
            last_id = keys.column("id")[-1].as_py()
            ids = _held(con, spec, keys)
            result.waiting_for_warehouse += keys.num_rows - len(ids)
            files: list[str] = []
            if ids:
                rows = source.delete_returning(ids)
                if rows.num_rows != len(ids):
                    source.rollback()
                    raise ArchiveError(
                        f"{spec.table}: deleted {rows.num_rows} of {len(ids)} rows locked for "
                        "the batch; rolled back"
                    )
                files = _write_months(con, spec, rows, archive_dir, result)
                crash("written")
                crash("deleted")
            source.commit()
            # The platform transaction has committed: these rows are only in the archive.
            if files:
                crash("committed")
                con.execute(
                    "update ops.archive_manifest set purged_at = now()"
                    " where file in (select unnest(?::varchar[]))",
                    [files],
                )
                result.rows += len(ids)
                progress(result.rows)
            if keys.num_rows < batch_size:
                break
    except BaseException:
        source.rollback()
        raise
    finally:
        source.close()
    refresh_views(con, archive_dir, (spec,))  # the other table's view is its own run's
    return result


def _write_months(
    con: duckdb.DuckDBPyConnection,
    spec: ArchiveSpec,
    held: pa.Table,
    archive_dir: Path,
    result: ArchiveResult,
) -> list[str]:
    """Write, verify, rename and list one file per month of ``held``; their manifest paths.

    One ``COPY ... PARTITION_BY`` writes every month of the batch into a temporary folder
    (``.<table>_<first id>_<last id>``, which :func:`recover` deletes if a crash leaves it)
    and one query reads all of them back, so a batch costs the same few statements however
    many months its rows span.
    """
    table, month_of = spec.table, f"strftime({spec.month_column}, '%Y-%m')"
    con.register("_archive_held", held)
    try:
        expected = {
            month: (int(rows), str(checksum), int(first), int(last))
            for month, rows, checksum, first, last in con.execute(
                f"select {month_of} as month, count(*), coalesce(sum(hash(id)), 0)::varchar,"
                " min(id), max(id) from _archive_held group by month order by month"
            ).fetchall()
        }
        first_id = min(v[2] for v in expected.values())
        last_id = max(v[3] for v in expected.values())
        staging = archive_dir / table / f".{table}_{first_id}_{last_id}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select *, {month_of} as month from _archive_held order by id)"
            f" to '{_quoted(staging)}' (format parquet, compression zstd,"
            " partition_by (month), filename_pattern 'part_{i}')"
        )
    finally:
        con.unregister("_archive_held")
    # Read back from the files themselves before anything is deleted.
    written: dict[str, list[tuple[Path, int, str]]] = {}
    for name, rows, checksum in con.execute(
        "select filename, count(*), coalesce(sum(hash(id)), 0)::varchar"
        " from read_parquet(?, filename = true, hive_partitioning = false) group by filename",
        [str(staging / "*" / "*.parquet")],
    ).fetchall():
        path = Path(name)
        month = path.parent.name.removeprefix("month=")
        written.setdefault(month, []).append((path, int(rows), str(checksum)))
    found = {m: (files[0][1], files[0][2]) for m, files in written.items() if len(files) == 1}
    if found != {m: v[:2] for m, v in expected.items()} or len(found) != len(written):
        shutil.rmtree(staging, ignore_errors=True)
        raise ArchiveError(
            f"{table}: the files read back from {staging} differ from the batch's rows"
        )
    files: list[str] = []
    manifest = []
    folders: set[Path] = set()
    for month, (rows, checksum, first, last) in expected.items():
        relative = f"{table}/month={month}/{table}_{first}_{last}.parquet"
        final = archive_dir / relative
        if not final.parent.is_dir():
            final.parent.mkdir(parents=True, exist_ok=True)
            folders.add(final.parent.parent)  # the new month folder's own entry
        _fsync(written[month][0][0])  # the file's bytes, before its name points at them
        os.replace(written[month][0][0], final)
        folders.add(final.parent)
        size = final.stat().st_size
        manifest.append((relative, table, month, rows, first, last, checksum, size))
        files.append(relative)
        result.files += 1
        result.bytes += size
        result.months[month] = result.months.get(month, 0) + rows
    shutil.rmtree(staging, ignore_errors=True)
    # The renames themselves, before the manifest lists the files and the platform deletes
    # their rows: after a power cut the manifest never names a file the disk lost.
    for folder in sorted(folders):
        _fsync(folder)
    now = _now(con)
    replace_rows(
        con, "ops.archive_manifest", ["file"], [[*row, now, None, True] for row in manifest]
    )
    return files


def _now(con: duckdb.DuckDBPyConnection) -> object:
    """DuckDB's ``now()`` as the manifest stores it (a timestamp)."""
    return con.execute("select now()::timestamp").fetchall()[0][0]


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries, to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _quoted(path: Path) -> str:
    """A path as a SQL string literal's body (COPY TO takes no bound parameter)."""
    return str(path).replace("'", "''")


def _dry_run(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    spec: ArchiveSpec,
    cutoff: datetime,
    batch_size: int,
    result: ArchiveResult,
) -> ArchiveResult:
    """Count what a run would archive, per month, changing nothing anywhere."""
    if spec.prepare_sql:
        con.execute(spec.prepare_sql, {"cutoff": cutoff})
    source = open_batches(engine, spec, cutoff, lock=False)
    last_id = 0
    try:
        while True:
            keys = source.next_keys(last_id, batch_size)
            if not keys.num_rows:
                return result
            last_id = keys.column("id")[-1].as_py()
            ids = _held(con, spec, keys)
            result.waiting_for_warehouse += keys.num_rows - len(ids)
            result.rows += len(ids)
            held = set(ids)
            stamps = keys.column(spec.month_column).to_pylist()
            for row_id, stamp in zip(keys.column("id").to_pylist(), stamps, strict=True):
                if row_id in held:
                    month = stamp.strftime("%Y-%m")
                    result.months[month] = result.months.get(month, 0) + 1
            if keys.num_rows < batch_size:
                return result
    finally:
        source.rollback()
        source.close()
