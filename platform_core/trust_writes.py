"""The platform's trust write path: ``agents.trust_score`` and seed 004's ``trust_records``.

The pipeline computes trust in the warehouse and hands the results here; this module is the
only code that writes them into the platform database. Two operations, both idempotent:

* :func:`load_trust_records` appends audit records, each keyed by its ``record_id``: records
  the platform already has are skipped, so a load sent twice, after a crash between the
  platform's commit and the warehouse noting it, inserts nothing the second time. The audit
  trail is append-only: a record already present keeps the values it was first written with.
  On PostgreSQL the records are COPYed into a temporary table and inserted with one
  statement (row-by-row ``executemany`` ran at ~14k rows/s), large loads without
  maintaining the secondary indexes; on SQLite, ``executemany`` in one transaction.
* :func:`set_trust_scores` compares every agent's stored score with the one given and updates
  only those that differ, so calling it after any sequence of runs, crashes or restores leaves
  the platform's scores equal to the warehouse's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl
import psycopg
import pyarrow as pa
from sqlalchemy import Engine, text

from platform_core.db import is_sqlite

#: The trust_records columns a record carries (``id`` is the platform's own serial key).
TRUST_RECORD_COLUMNS = (
    "record_id",
    "agent_id",
    "event_type",
    "execution_id",
    "review_id",
    "trust_delta",
    "trust_score_before",
    "trust_score_after",
    "reason",
    "model_version",
    "created_at",
)
REASON_MAX = 512  # trust_records.reason is VARCHAR(512)
#: Timestamps as PostgreSQL's COPY reads them and as SQLAlchemy's SQLite DateTime stores them.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S%.6f"


@dataclass(frozen=True)
class ScoreChange:
    """One agent whose platform score was moved to the warehouse's."""

    agent_id: int
    stored: float
    new: float


def _checked_records(records: pa.Table) -> pl.DataFrame:
    missing = [c for c in TRUST_RECORD_COLUMNS if c not in records.column_names]
    if missing:
        raise ValueError(f"trust records lack column(s) {missing}")
    frame = pl.from_arrow(records.select(list(TRUST_RECORD_COLUMNS)))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col("reason").str.slice(0, REASON_MAX))


@dataclass(frozen=True)
class RecordLoad:
    """What one load of trust records did."""

    received: int
    inserted: int
    #: True when the load ran without maintaining trust_records' indexes row by row.
    bulk: bool


def load_trust_records(engine: Engine, batches: Iterable[pa.Table], *, expected: int) -> RecordLoad:
    """Insert every record of ``batches`` the platform lacks, in one platform transaction.

    ``batches`` are Arrow tables with the :data:`TRUST_RECORD_COLUMNS`, streamed (memory
    holds one at a time); ``expected`` is about how many rows they hold, which picks the path
    on PostgreSQL:

    * fewer than the table holds: COPY into a temporary table, then one ``INSERT ... ON
      CONFLICT (record_id) DO NOTHING``;
    * at least as many (a first run, a new model version): the same, but without maintaining
      trust_records' indexes row by row, which is most of the time (500,000 records: 9.8 s
      into the indexed table, 1.35 s into a bare heap; bench/trust_writeback.py). The
      primary key, the unique record_id index and the agent indexes are dropped, rows already
      present are skipped with an anti-join, and the indexes are rebuilt from their catalog
      definitions before commit. The foreign key to agents stays, checked row by row:
      dropping it would lock ``agents`` against the platform's own writes. Readers of
      trust_records wait for the commit (DROP INDEX takes an exclusive lock), so no one ever
      sees the table without its indexes, and a failure rolls everything back.

    On SQLite, ``executemany`` with ``ON CONFLICT DO NOTHING`` in one transaction.
    """
    columns = ", ".join(TRUST_RECORD_COLUMNS)
    received = inserted = 0
    if is_sqlite(engine):
        marks = ", ".join("?" for _ in TRUST_RECORD_COLUMNS)
        with engine.begin() as conn:
            for records in batches:
                if records.num_rows == 0:
                    continue
                frame = _checked_records(records)
                rows = frame.with_columns(pl.col("created_at").dt.strftime(TIMESTAMP_FORMAT))
                result = conn.exec_driver_sql(
                    f"INSERT INTO trust_records ({columns}) VALUES ({marks})"
                    " ON CONFLICT (record_id) DO NOTHING",
                    rows.rows(),
                )
                received += records.num_rows
                inserted += int(result.rowcount)
        return RecordLoad(received, inserted, bulk=False)
    with engine.begin() as conn:
        driver = conn.connection.driver_connection  # psycopg 3, inside SQLAlchemy's transaction
        with driver.cursor() as cur:
            # A bare copy of the columns (no constraints, no serial): COPY fills it at full
            # speed, then one INSERT ... SELECT moves the records the platform lacks.
            cur.execute(
                f"CREATE TEMP TABLE _trust_records_in ON COMMIT DROP AS"
                f" SELECT {columns} FROM trust_records WITH NO DATA"
            )
            for records in batches:
                if records.num_rows == 0:
                    continue
                # Polars quotes empty strings and leaves NULLs bare, which is how COPY's CSV
                # format tells them apart.
                payload = (
                    _checked_records(records)
                    .write_csv(
                        include_header=False, datetime_format=TIMESTAMP_FORMAT, null_value=""
                    )
                    .encode()
                )
                with cur.copy(
                    f"COPY _trust_records_in ({columns}) FROM STDIN (FORMAT csv)"
                ) as copy:
                    copy.write(payload)
                received += records.num_rows
            if received == 0:
                return RecordLoad(0, 0, bulk=False)
            cur.execute(
                "SELECT GREATEST(reltuples, 0)::bigint FROM pg_class"
                " WHERE oid = 'trust_records'::regclass"
            )
            bulk = max(expected, received) >= max(int(cur.fetchone()[0]), BULK_MIN_ROWS)
            if not bulk:
                cur.execute(
                    f"INSERT INTO trust_records ({columns}) SELECT {columns}"
                    " FROM _trust_records_in ON CONFLICT (record_id) DO NOTHING"
                )
                return RecordLoad(received, int(cur.rowcount), bulk=False)
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            rebuild = _drop_indexes(cur)
            cur.execute(
                f"INSERT INTO trust_records ({columns}) SELECT {columns}"
                " FROM _trust_records_in AS i WHERE NOT EXISTS"
                " (SELECT 1 FROM trust_records AS t WHERE t.record_id = i.record_id)"
            )
            inserted = int(cur.rowcount)
            for statement in rebuild:
                cur.execute(statement)
            cur.execute("ANALYZE trust_records")
            return RecordLoad(received, inserted, bulk=True)


#: Below this many rows the indexed path is fast enough whatever the table holds.
BULK_MIN_ROWS = 10_000


def _drop_indexes(cur: psycopg.Cursor) -> list[str]:
    """Drop every index of trust_records (primary key, unique constraint, plain indexes);
    return the statements that rebuild them exactly (from the catalog), keys first.

    Only trust_records is locked: nothing references it. Its foreign key to agents stays.
    """
    cur.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'trust_records'::regclass AND contype IN ('p', 'u')"
        " ORDER BY contype, conname"
    )
    constraints = cur.fetchall()
    cur.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes AS i"
        " WHERE i.tablename = 'trust_records' AND i.schemaname = current_schema()"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid ="
        " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"
        " ORDER BY i.indexname"
    )
    indexes = cur.fetchall()
    for name, _definition in constraints:
        cur.execute(f'ALTER TABLE trust_records DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        cur.execute(f'DROP INDEX "{name}"')
    return [
        *(f'ALTER TABLE trust_records ADD CONSTRAINT "{n}" {d}' for n, d in constraints),
        *(d for _n, d in indexes),
    ]


def stored_trust_scores(engine: Engine) -> dict[int, float]:
    """Every agent's ``trust_score`` as the platform stores it."""
    with engine.connect() as conn:
        return {
            int(a): float(s)
            for a, s in conn.execute(text("SELECT id, trust_score FROM agents")).all()
        }


def score_changes(stored: Mapping[int, float], scores: Mapping[int, float]) -> list[ScoreChange]:
    """The agents whose ``stored`` platform score differs from ``scores`` clamped to [0, 1]
    (the column's CHECK), by agent id; agents the platform does not have are left out."""
    return [
        ScoreChange(agent, stored[agent], clamped)
        for agent, score in sorted(scores.items())
        if agent in stored and stored[agent] != (clamped := min(max(float(score), 0.0), 1.0))
    ]


def set_trust_scores(
    engine: Engine, scores: Mapping[int, float], now: datetime
) -> list[ScoreChange]:
    """Make ``agents.trust_score`` equal ``scores`` wherever it differs, in one transaction.

    Scores are clamped to [0, 1] (the column's CHECK); agents the platform does not have are
    ignored; a changed agent gets ``updated_at = now``. Returns the changes made.
    """
    changes = score_changes(stored_trust_scores(engine), scores)
    if changes:
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE agents SET trust_score = :score, updated_at = :now WHERE id = :agent"),
                [{"score": c.new, "now": now, "agent": c.agent_id} for c in changes],
            )
    return changes


def trust_record_counts(engine: Engine, versions: Iterable[str]) -> dict[str, int]:
    """How many trust records the platform holds for each of ``versions``."""
    wanted = sorted(set(versions))
    if not wanted:
        return {}
    counts = dict.fromkeys(wanted, 0)
    with engine.connect() as conn:
        for version in wanted:
            counts[version] = int(
                conn.execute(
                    text("SELECT count(*) FROM trust_records WHERE model_version = :v"),
                    {"v": version},
                ).scalar_one()
            )
    return counts


def trust_record_ids(engine: Engine, versions: Iterable[str]) -> pa.Table:
    """The ``record_id`` of every platform trust record of ``versions`` (one column)."""
    ids: list[str] = []
    with engine.connect() as conn:
        for version in sorted(set(versions)):
            ids += conn.execute(
                text("SELECT record_id FROM trust_records WHERE model_version = :v"),
                {"v": version},
            ).scalars()
    return pa.table({"record_id": pa.array(ids, pa.string())})
