"""Write what a maintenance run did and found into its bookkeeping tables, ``ops.*``.

Each function creates its table from ``sql/ops/<name>.sql`` (idempotent) and writes one run's
rows: ``maintenance_runs``, ``expired_hirings``, ``counter_drift``, ``orphans``,
``table_health`` and ``archive_months``. Analysts and the Maintenance page read them as the
views ``marts.<name>`` (sql/marts/), which the pipeline builds.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.maintenance.counters import Drift
from pipelines.maintenance.health import Orphans, TableHealth
from pipelines.sql_files import run_model
from pipelines.warehouse.upsert import replace_rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat(sep=" ") if isinstance(value, datetime) else str(value)


def record_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    started: datetime,
    operation: str,
    *,
    dry_run: bool,
    rows: int,
    bytes_: int = 0,
    seconds: float,
    detail: object,
) -> None:
    """One ``ops.maintenance_runs`` row: what ``operation`` did (or would do)."""
    run_model(con, "ops/maintenance_runs.sql")
    replace_rows(
        con,
        "ops.maintenance_runs",
        ["run_id", "operation"],
        [[run_id, started, operation, dry_run, rows, bytes_, seconds, json.dumps(detail)]],
    )


def record_expired(
    con: duckdb.DuckDBPyConnection, hirings: list[Any], expired_at: datetime
) -> None:
    """The hirings this run set to expired."""
    run_model(con, "ops/expired_hirings.sql")
    if hirings:
        replace_rows(
            con,
            "ops.expired_hirings",
            ["hiring_id"],
            [[h.id, h.agent_id, h.user_id, h.expires_at, expired_at] for h in hirings],
        )


def record_drift(
    con: duckdb.DuckDBPyConnection, run_id: str, drift: list[Drift], repaired_at: datetime
) -> None:
    """The counters this run repaired."""
    run_model(con, "ops/counter_drift.sql")
    if drift:
        replace_rows(
            con,
            "ops.counter_drift",
            ["run_id", "table_name", "row_id", "column_name"],
            [
                [
                    run_id,
                    d.table_name,
                    d.row_id,
                    d.column_name,
                    _text(d.stored),
                    _text(d.actual),
                    d.difference,
                    repaired_at,
                ]
                for d in drift
            ],
        )


def record_orphans(
    con: duckdb.DuckDBPyConnection, run_id: str, found: list[Orphans], checked_at: datetime
) -> None:
    """Every relation checked, orphans or not."""
    run_model(con, "ops/orphans.sql")
    replace_rows(
        con,
        "ops.orphans",
        ["run_id", "relation"],
        [
            [
                run_id,
                checked_at,
                o.relation,
                o.child_table,
                o.child_column,
                o.parent_table,
                o.rows,
                o.sample_ids,
            ]
            for o in found
        ],
    )


def record_health(
    con: duckdb.DuckDBPyConnection, run_id: str, health: list[TableHealth], checked_at: datetime
) -> None:
    """Every platform table's health, with its growth since the previous run."""
    run_model(con, "ops/table_health.sql")
    previous = {
        table: (rows, at)
        for table, rows, at in con.execute(
            "select table_name, rows, checked_at from ops.table_health"
            " where run_id <> ? qualify row_number() over"
            " (partition by table_name order by checked_at desc) = 1",
            [run_id],
        ).fetchall()
    }
    rows = []
    for h in health:
        growth = None
        if h.table_name in previous:
            before, at = previous[h.table_name]
            days = (checked_at - at).total_seconds() / 86_400
            growth = (h.rows - before) / days if days > 0 else None
        rows.append(
            [
                run_id,
                checked_at,
                h.table_name,
                h.rows,
                h.total_bytes,
                h.index_bytes,
                h.dead_tuple_ratio,
                h.seq_scans,
                h.index_scans,
                h.unused_indexes,
                h.pages,
                growth,
            ]
        )
    replace_rows(con, "ops.table_health", ["run_id", "table_name"], rows)


def rebuild_archive_months(
    con: duckdb.DuckDBPyConnection, archive_dir: Path, checked_at: datetime
) -> bool:
    """Summarise the manifest per table and month, checking every listed file against its
    footer; False when a file is missing or its row count disagrees (the run then fails)."""
    run_model(con, "ops/archive_manifest.sql")
    run_model(con, "ops/archive_months.sql")
    listed = con.execute("select file, rows from ops.archive_manifest").fetchall()
    intact: dict[str, bool] = {}
    for file, rows in listed:
        path = archive_dir / file
        if not path.is_file():
            intact[file] = False
            continue
        footer = con.execute(
            "select sum(num_rows) from parquet_file_metadata(?)", [str(path)]
        ).fetchall()[0][0]
        intact[file] = footer == rows
    con.execute("create or replace temp table _archive_intact (file varchar, intact boolean)")
    if intact:
        con.executemany("insert into _archive_intact values (?, ?)", list(intact.items()))
    con.execute("delete from ops.archive_months")
    con.execute(
        "insert into ops.archive_months"
        " select m.table_name, m.month,"
        "  coalesce(sum(m.rows) filter (where m.purged_at is not null), 0),"
        "  sum(m.bytes), count(*), count(*) filter (where m.purged_at is null),"
        "  bool_and(i.intact), ?"
        " from ops.archive_manifest as m join _archive_intact as i using (file)"
        " group by m.table_name, m.month",
        [checked_at],
    )
    con.execute("drop table _archive_intact")
    return all(intact.values())
