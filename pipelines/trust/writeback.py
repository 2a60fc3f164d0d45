"""Write trust back to the platform: ``agents.trust_score`` and seed 004's ``trust_records``.

Every run sends the events whose ``seq`` is above the write-back cursor (pipelines/trust/
cursor.py), streamed out of DuckDB in ``seq`` ranges of ``batch`` events (memory holds one
range), one short platform transaction per range, and moves the cursor once the last has
committed. A crash part-way leaves the ranges committed so far on the platform and the cursor
where it was: the next run sends them again, and the platform skips the records it has (they
are keyed by ``record_id``). Because the trust model numbers every new or recomputed event
above the cursor, nothing the warehouse holds can be left unsent.

Records of an agent the platform no longer has (deleted there with its rows) are left out
and noted in ``ops.writeback_rejections``, which the data-quality mart counts: a deleted
agent must not fail every later write-back on the foreign key.

Once a day (``count_every``; the first run after it has passed) the platform's record count
per model version is checked against the warehouse's, over the agents the platform has (a
shortfall re-sends everything): counting reads every trust record on both sides (about 1 s
each at 10M records), which an hourly run must not pay. Every run compares every agent's
platform score with ``marts.agent_trust`` and sets the ones that differ. So after every
successful run the platform's scores agree with the warehouse, and within a day its records do
too, whatever happened before (a crash, a restored platform, a manual edit, events an earlier
version of this pipeline skipped); the daily check platform_has_every_trust_record compares
the records id by id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
from sqlalchemy import Engine

from pipelines.sql_files import run_model
from pipelines.sql_models import read_queries
from pipelines.trust.cursor import (
    advance_cursor,
    mark_counts_compared,
    read_counts_compared_at,
    read_cursor,
)
from platform_core.models import utcnow
from platform_core.trust_writes import (
    RecordLoad,
    ScoreChange,
    load_trust_records,
    set_trust_scores,
    stored_trust_scores,
    trust_record_counts,
)

#: Events per range read out of DuckDB and COPYed: large enough for COPY to run at full
#: speed, small enough to keep the memory of one Arrow batch small (~30 MB).
BATCH = 100_000

#: How often the write-back compares record counts with the platform (see the module's
#: docstring); the run configuration of the asset overrides it.
COUNT_EVERY = timedelta(hours=24)

#: The warehouse side of the write-back: named queries over marts.trust_events/agent_trust.
QUERIES = read_queries("platform/trust_records.sql")


def _one(con: duckdb.DuckDBPyConnection, query: str, *params: object) -> int:
    return int(con.execute(QUERIES[query], list(params)).fetchall()[0][0])


@dataclass(frozen=True)
class WritebackResult:
    """What one write-back did."""

    records_sent: int
    records_inserted: int
    score_changes: list[ScoreChange]
    last_seq: int
    #: Per model version, records the platform lacked after the incremental send (found by
    #: count), which made this write-back send every event again.
    resent_for: dict[str, int]
    #: Records not sent because their agent is gone from the platform, per agent id.
    dropped: dict[int, int] = field(default_factory=dict)

    #: Whether this run compared the record counts (once per ``count_every``).
    counts_compared: bool = False

    @property
    def agents_updated(self) -> int:
        """Agents whose platform score moved."""
        return len(self.score_changes)


def write_back(
    con: duckdb.DuckDBPyConnection,
    engine: Engine,
    batch: int = BATCH,
    *,
    resend_all: bool = False,
    count_every: timedelta = COUNT_EVERY,
) -> WritebackResult:
    """Send the events the platform lacks, then align every agent's platform score.

    Normally that is the events above the cursor. Then, when the last comparison is
    ``count_every`` old or more (or there was none), the platform's record count per model
    version is compared with the warehouse's: if the platform holds fewer (records lost on its
    side, e.g. a restore from an older backup, or events a version of this pipeline before the
    cursor fix never sent), every event is sent again and the platform keeps those it has.
    ``resend_all`` does that unconditionally.
    """
    if batch <= 0:
        raise ValueError(f"batch must be positive, got {batch}")
    if count_every < timedelta(0):
        raise ValueError(f"count_every must not be negative, got {count_every}")
    top = _one(con, "top_seq")
    cursor = 0 if resend_all else read_cursor(con)
    load = _send_from(con, engine, cursor, top, batch)
    resent_for: dict[str, int] = {}
    now = utcnow()
    last_compared = read_counts_compared_at(con)
    compare = not resend_all and (last_compared is None or now - last_compared >= count_every)
    if compare:
        resent_for = record_counts(con, engine).missing
        if resent_for:
            again = _send_from(con, engine, 0, top, batch)
            load = RecordLoad(
                load.received + again.received,
                load.inserted + again.inserted,
                dict(Counter(load.dropped) + Counter(again.dropped)),
            )
    if compare or resend_all:
        mark_counts_compared(con, now)
    scores = dict(con.execute(QUERIES["scores"]).fetchall())
    changes = set_trust_scores(engine, scores, utcnow())
    if load.dropped:
        record_dropped(con, load.dropped, utcnow())
    return WritebackResult(
        load.received,
        load.inserted,
        changes,
        max(cursor, top),
        resent_for,
        load.dropped,
        counts_compared=compare,
    )


def record_dropped(con: duckdb.DuckDBPyConnection, dropped: dict[int, int], at: datetime) -> None:
    """Note records left out for agents gone from the platform (ops.writeback_rejections),
    which marts.data_quality counts."""
    run_model(con, "ops/writeback_rejections.sql")
    con.executemany(
        "insert into ops.writeback_rejections values (?, 'trust_records', ?,"
        " 'agent_deleted_on_platform', ?)",
        [(at, agent, records) for agent, records in sorted(dropped.items())],
    )


@dataclass(frozen=True)
class RecordCounts:
    """Trust events in the warehouse and records on the platform, per model version."""

    events: dict[str, int]
    records: dict[str, int]

    @property
    def missing(self) -> dict[str, int]:
        """Versions whose platform records are fewer than the warehouse's events, by how many.
        (More is allowed: records of events later quarantined stay in the audit trail.)"""
        return {v: n - self.records[v] for v, n in self.events.items() if self.records[v] < n}


def record_counts(con: duckdb.DuckDBPyConnection, engine: Engine) -> RecordCounts:
    """Count both sides, for each model version the warehouse holds, over the agents the
    platform has (a sequential scan of trust_records on the platform: 0.4 s at 2.1M
    records)."""
    agents = sorted(stored_trust_scores(engine))
    events = dict(con.execute(QUERIES["events_by_version"], [agents]).fetchall())
    return RecordCounts(events, trust_record_counts(engine, events))


def _send_from(
    con: duckdb.DuckDBPyConnection, engine: Engine, cursor: int, top: int, batch: int
) -> RecordLoad:
    """Send the events with cursor < seq <= top (a platform transaction per range), then move
    the cursor to ``top``."""
    if not _one(con, "pending_events", cursor, top):
        return RecordLoad(0, 0)

    def ranges() -> Iterator[pa.Table]:
        low = cursor
        while low < top:
            high = min(low + batch, top)
            yield con.sql(QUERIES["events_in_range"], params=[low, high]).to_arrow_table()
            low = high

    load = load_trust_records(engine, ranges())
    advance_cursor(con, top, utcnow())  # only once the platform has committed every range
    return load
