"""The platform's trust write path: ``agents.trust_score`` and seed 004's ``trust_records``.

The pipeline computes trust in the warehouse and hands the results here; this module is the
only code that writes them into the platform database. Two operations, both idempotent:

* :func:`load_trust_records` appends audit records, each keyed by its ``record_id``: records
  the platform already has are skipped, so a load sent again, after a crash part-way or
  between the platform's commits and the warehouse noting them, inserts only what is
  missing. The audit trail is append-only: a record already present keeps the values it was
  first written with. On PostgreSQL the records are COPYed into a temporary table and
  inserted with one statement per batch (row-by-row ``executemany`` ran at ~14k rows/s),
  each batch its own short transaction, never locking readers out; on SQLite,
  ``executemany`` per batch.
* :func:`set_trust_scores` compares every agent's stored score with the one given and updates
  only those that differ, so calling it after any sequence of runs, crashes or restores leaves
  the platform's scores equal to the warehouse's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl
import psycopg
import pyarrow as pa
from sqlalchemy import Engine, text

from platform_core.db import for_writing, is_sqlite

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
    #: Records left out because their agent is gone from the platform, per agent id: an
    #: agent deleted there (with its rows) must not fail every later write-back on the
    #: foreign key; its pending records have nowhere to go.
    dropped: dict[int, int] = field(default_factory=dict)


#: The one statement that moves a staged batch into trust_records. It names no other table
#: (the unique index on record_id skips what the platform already has, row by row), so its
#: plan is a scan and a sort whatever the statistics say, and it takes only the ROW EXCLUSIVE
#: lock every INSERT takes: platform reads and writes of trust_records never wait for it.
#: Sorted by record_id, consecutive rows land on neighbouring leaves of that index.
INSERT_STAGED = (
    f"INSERT INTO trust_records ({', '.join(TRUST_RECORD_COLUMNS)})"
    f" SELECT {', '.join(TRUST_RECORD_COLUMNS)} FROM _trust_records_in ORDER BY record_id"
    " ON CONFLICT (record_id) DO NOTHING"
)


#: Records of agents the platform no longer has leave the staged batch first (agents is small
#: and this statement does not write it, so any plan is a quick one).
DROP_GONE_AGENTS = (
    "DELETE FROM _trust_records_in AS i"
    " WHERE NOT EXISTS (SELECT 1 FROM agents AS a WHERE a.id = i.agent_id)"
    " RETURNING i.agent_id"
)


#: A load refreshes trust_records' statistics once it has added more rows than they know of,
#: and at least this many.
ANALYZE_AFTER_ROWS = 50_000


def load_trust_records(engine: Engine, batches: Iterable[pa.Table]) -> RecordLoad:
    """Insert every record of ``batches`` the platform lacks, one platform transaction per
    batch.

    ``batches`` are Arrow tables with the :data:`TRUST_RECORD_COLUMNS`, streamed (memory
    holds one at a time). Records the platform already has (same ``record_id``) are skipped,
    so a load cut short (a crash, a kill) leaves the batches it committed, and sending
    everything again completes it without a duplicate: the write-back moves its cursor only
    after the last batch. A transaction per batch keeps each one short: on SQLite a writer
    holds the whole database, and on PostgreSQL a platform query for an agent's newest
    records would otherwise step over every record the open load had inserted (its p99 grew
    to 0.5 s during a 10M-record first run in one transaction).

    On PostgreSQL each batch is COPYed into a temporary table and moved with
    :data:`INSERT_STAGED`. Its cost depends on the rows, never on luck: an earlier version
    dropped the indexes for large loads and skipped present rows with an anti-join on
    trust_records itself, which (a) held an ACCESS EXCLUSIVE lock, so every platform read of
    trust records waited for the whole load, and (b) after an ordinary ``VACUUM ANALYZE``
    of the empty table was planned as a nested loop re-scanning the rows the statement was
    inserting: quadratic (a 400k-execution first run did not end in 8 minutes).
    bench/trust_writeback.py measures this path with fresh, stale and empty-table
    statistics, and a reader's latency while it runs.

    On SQLite, ``executemany`` with ``ON CONFLICT DO NOTHING``.
    """
    columns = ", ".join(TRUST_RECORD_COLUMNS)
    received = inserted = 0
    dropped: Counter[int] = Counter()
    if is_sqlite(engine):
        marks = ", ".join("?" for _ in TRUST_RECORD_COLUMNS)
        for records in batches:
            if records.num_rows == 0:
                continue
            frame = _checked_records(records)
            rows = frame.with_columns(pl.col("created_at").dt.strftime(TIMESTAMP_FORMAT))
            with for_writing(engine).begin() as conn:  # agents read under the write lock
                agents = set(conn.exec_driver_sql("SELECT id FROM agents").scalars())
                gone = rows.filter(~pl.col("agent_id").is_in(list(agents)))
                dropped.update(gone.get_column("agent_id").to_list())
                result = conn.exec_driver_sql(
                    f"INSERT INTO trust_records ({columns}) VALUES ({marks})"
                    " ON CONFLICT (record_id) DO NOTHING",
                    rows.filter(pl.col("agent_id").is_in(list(agents))).rows(),
                )
            received += records.num_rows
            inserted += max(int(result.rowcount), 0)
        return RecordLoad(received, inserted, dict(dropped))
    with engine.connect() as conn:
        driver = conn.connection.driver_connection  # psycopg 3
        with driver.cursor() as cur:
            # A bare copy of the columns (no constraints, no serial): COPY fills it at full
            # speed; emptied by each batch's commit.
            cur.execute(
                f"CREATE TEMP TABLE _trust_records_in ON COMMIT DELETE ROWS AS"
                f" SELECT {columns} FROM trust_records WITH NO DATA"
            )
            cur.execute(
                "SELECT greatest(reltuples, 0)::bigint FROM pg_class"
                " WHERE oid = 'trust_records'::regclass"
            )
            known = int(cur.fetchone()[0])  # rows the planner's statistics know of
            driver.commit()
            since_analyze = 0
            try:
                for records in batches:
                    if records.num_rows == 0:
                        continue
                    # Polars quotes empty strings and leaves NULLs bare, which is how COPY's
                    # CSV format tells them apart.
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
                    cur.execute(DROP_GONE_AGENTS)
                    batch_dropped = Counter(agent for (agent,) in cur.fetchall())
                    cur.execute(INSERT_STAGED)
                    batch_inserted = int(cur.rowcount)
                    driver.commit()
                    received += records.num_rows
                    inserted += batch_inserted
                    dropped.update(batch_dropped)
                    since_analyze += batch_inserted
                    if since_analyze > max(known, ANALYZE_AFTER_ROWS):
                        # The table has more than doubled since its statistics were taken:
                        # refresh them, so the platform's own queries on trust_records keep
                        # good plans while a first load fills it (a reader's p99 went from
                        # 15 to 110 ms when a 1M load ran on statistics that said "empty").
                        # A few times per load (the count doubles each time); ANALYZE takes
                        # no lock that blocks readers or writers.
                        cur.execute("ANALYZE trust_records")
                        driver.commit()
                        known, since_analyze = known + since_analyze, 0
            except BaseException:
                driver.rollback()
                raise
            finally:
                # The connection goes back to the pool; a broken one is discarded there.
                with suppress(psycopg.Error):
                    cur.execute("DROP TABLE IF EXISTS _trust_records_in")
                    driver.commit()
    return RecordLoad(received, inserted, dict(dropped))


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


def trust_record_ids(
    engine: Engine, versions: Iterable[str], batch_size: int = 200_000
) -> Iterator[pa.Table]:
    """The ``record_id`` of every platform trust record of ``versions``, in tables of at most
    ``batch_size`` rows (one column), streamed from a server-side cursor.

    Streamed, because the daily check compares every record: holding 10M ids as Python
    strings cost 2.7 GB of peak RSS (bench/pipeline.py, 10M executions).
    """
    with engine.connect().execution_options(stream_results=True) as conn:
        for version in sorted(set(versions)):
            result = conn.execute(
                text("SELECT record_id FROM trust_records WHERE model_version = :v"),
                {"v": version},
            )
            for rows in result.partitions(batch_size):
                yield pa.table({"record_id": pa.array([r[0] for r in rows], pa.string())})
