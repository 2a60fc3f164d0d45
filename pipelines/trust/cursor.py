"""The write-back cursor: how far ``marts.trust_events.seq`` has been sent to the platform.

The invariant both sides keep: every event with ``seq <= cursor`` has been written to the
platform, and every event the trust model adds gets a ``seq`` above the cursor (see
:func:`next_seq`). The cursor only moves forward, after the platform has committed a batch,
so no event can ever be numbered below it and be skipped, whatever the model deletes and
recomputes (a late event, a new model version).

It is stored in ``ops.watermarks`` under ``trust_writeback`` (``last_id``). Beside it,
``trust_record_counts`` (``advanced_at``) says when the write-back last compared the platform's
record counts with the warehouse's (:func:`read_counts_compared_at`).
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from pipelines.sql_files import run_model
from pipelines.warehouse.upsert import replace_rows

CURSOR_NAME = "trust_writeback"
#: The trust model's own cursor: the newest ``intermediate.executions_all.changed_at`` it has
#: read (``advanced_at``), moved by sql/marts/trust/09_finish.sql.
SOURCE_CURSOR_NAME = "trust_source"
#: When the write-back last compared record counts with the platform (``advanced_at``).
COUNTS_CURSOR_NAME = "trust_record_counts"


def _watermark(con: duckdb.DuckDBPyConnection, name: str) -> tuple[int, datetime] | None:
    """(last_id, advanced_at) of one cursor in ``ops.watermarks``, None when it has none."""
    run_model(con, "ops/watermarks.sql")
    rows = con.execute(
        "select last_id, advanced_at from ops.watermarks where table_name = ?", [name]
    ).fetchall()
    return rows[0] if rows else None


def read_cursor(con: duckdb.DuckDBPyConnection) -> int:
    """The highest ``seq`` known to be on the platform (0 before the first write-back)."""
    row = _watermark(con, CURSOR_NAME)
    return int(row[0]) if row else 0


def advance_cursor(con: duckdb.DuckDBPyConnection, seq: int, at: datetime) -> None:
    """Record that every event up to ``seq`` is on the platform (never moves backwards)."""
    replace_rows(
        con, "ops.watermarks", ["table_name"], [[CURSOR_NAME, None, max(seq, read_cursor(con)), at]]
    )


def next_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The first ``seq`` for events appended now: above every event kept and the cursor."""
    top = con.execute("select coalesce(max(seq), 0) from marts.trust_events").fetchall()[0][0]
    return max(int(top), read_cursor(con)) + 1


def read_source_cursor(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest ``executions_all.changed_at`` the trust model has read; None before its
    first update (or on a warehouse an earlier version built): read every execution then."""
    row = _watermark(con, SOURCE_CURSOR_NAME)
    return row[1] if row else None


def read_counts_compared_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the write-back last compared the platform's trust record counts with the
    warehouse's (None: never, on this warehouse)."""
    row = _watermark(con, COUNTS_CURSOR_NAME)
    return row[1] if row else None


def mark_counts_compared(con: duckdb.DuckDBPyConnection, at: datetime) -> None:
    """Record that the record counts were compared (and any shortfall re-sent) at ``at``."""
    replace_rows(con, "ops.watermarks", ["table_name"], [[COUNTS_CURSOR_NAME, None, 0, at]])
