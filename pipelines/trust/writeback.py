"""Write trust back to the platform: ``agents.trust_score`` and seed 004's ``trust_records``.

Every run sends the events whose ``seq`` is above the write-back cursor (pipelines/trust/
cursor.py) in one platform transaction, streamed out of DuckDB in ``seq`` ranges of ``batch``
events (memory holds one range), and moves the cursor after the commit. A crash before the
commit leaves the platform as it was; a crash between the commit and the cursor's move sends
the events again, which inserts nothing: records are keyed by ``record_id``. Because the
trust model numbers every new or recomputed event above the cursor, nothing the warehouse
holds can be left unsent.

Then every agent's platform score is compared with ``marts.agent_trust`` and the ones that
differ are set, so the scores the platform routes by agree with the warehouse after every
successful run, whatever happened before (a crash, a restored platform, a manual edit).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from sqlalchemy import Engine

from pipelines.trust.cursor import advance_cursor, read_cursor
from platform_core.models import utcnow
from platform_core.trust_writes import (
    RecordLoad,
    ScoreChange,
    load_trust_records,
    set_trust_scores,
)

#: Events per range read out of DuckDB and COPYed: large enough for COPY to run at full
#: speed, small enough to keep the memory of one Arrow batch small (~30 MB).
BATCH = 100_000

#: One range of events as the platform's trust_records columns.
EVENTS_IN_RANGE = """
select record_id, agent_id, event_type,
       source_execution_id as execution_id, source_review_id as review_id,
       trust_delta, trust_score_before, trust_score_after, reason, model_version,
       occurred_at as created_at
from marts.trust_events
where seq > ? and seq <= ?
"""


@dataclass(frozen=True)
class WritebackResult:
    """What one write-back did."""

    records_sent: int
    records_inserted: int
    bulk: bool
    score_changes: list[ScoreChange]
    last_seq: int

    @property
    def agents_updated(self) -> int:
        """Agents whose platform score moved."""
        return len(self.score_changes)


def write_back(
    con: duckdb.DuckDBPyConnection, engine: Engine, batch: int = BATCH, *, resend_all: bool = False
) -> WritebackResult:
    """Send the events above the cursor, then align every agent's platform score.

    ``resend_all`` sends every event again (the platform skips those it has): the repair for
    records lost on the platform's side, e.g. a restore from an older backup.
    """
    if batch <= 0:
        raise ValueError(f"batch must be positive, got {batch}")
    cursor = 0 if resend_all else read_cursor(con)
    top, pending = con.execute(
        "select coalesce(max(seq), 0), count(*) filter (where seq > ?) from marts.trust_events",
        [cursor],
    ).fetchall()[0]

    def ranges() -> Iterator[pa.Table]:
        low = cursor
        while low < top:
            high = min(low + batch, top)
            yield con.sql(EVENTS_IN_RANGE, params=[low, high]).to_arrow_table()
            low = high

    load = RecordLoad(0, 0, bulk=False)
    if pending:
        load = load_trust_records(engine, ranges(), expected=pending)
        advance_cursor(con, top, utcnow())  # only once the platform has committed
    scores = dict(con.execute("select agent_id, trust_score from marts.agent_trust").fetchall())
    changes = set_trust_scores(engine, scores, utcnow())
    return WritebackResult(load.received, load.inserted, load.bulk, changes, max(cursor, int(top)))
