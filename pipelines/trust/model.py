"""The trust model: a time-decayed Beta reputation, applied incrementally in DuckDB.

Per agent the model keeps positive evidence R, negative evidence S and the time of the last
event. Each event at time t (terminal executions and reviews, in (t, event key) order) does

    d = 0.5 ** ((t - last_at) / half_life)
    R = d * R + w * (1 + v) / 2
    S = d * S + w * (1 - v) / 2
    trust = (1 + R) / (2 + R + S)

with completed v = +1, w = 1; failed v = -1, w = 1; timeout v = -1, w = ``timeout_weight``;
a review rated r in 1..5: v = (r - 3) / 2, w = ``review_weight``; cancelled moves nothing.
With no evidence trust is 0.5, and it always stays inside (0, 1). This is Jøsang and Ismail's
Beta Reputation System with a forgetting factor, in the form Storj uses for node reputation.

Decay happens between events, never against the wall clock: a run with no new events changes
no score. Whole histories are computed set-wise with window functions from the closed form
(``sql/marts/trust/06_apply.sql``), not a Python loop per event.

Incremental and idempotent: a run reads only the executions ``executions_all`` rewrote since
the previous update (its ``changed_at`` cursor), and each event's ``record_id`` is derived from
the model version and its source, so a run applies only events it has not applied. An event
that arrives late (its time is not after the agent's last applied event) is added to the
state in closed form, R(t_n) = sum x_i 0.5^((t_n - t_i)/h), without replaying the events after
it (their audit records keep their values; ``03_late_events.sql``), so an hourly run's cost
follows its new events, not the agents' histories. A change of parameters (a new version)
recomputes every agent from its first event, and an event deleted on the platform by hand
recomputes its agent from there (its records are cut back to the state stored with the
event before). Either way the state equals a full recompute, which ``recompute_matches``
checks daily.
Events appended by any of these paths are numbered above the write-back cursor
(pipelines/trust/cursor.py), so the platform write-back sends each of them.

The SQL is in ``sql/marts/trust/``, one file per step, numbered in the order
:func:`update_trust` runs them (each file says its inputs, outputs and parameters): 01 the
events (again for the recomputed agents), 02 new events and agents to recompute, 03a the late
events in closed form, 03 the cut and what to apply, then per batch 04 starting
state, 05 the batch, 06 apply, 07 append to ``marts.trust_events``, 08 update
``marts.agent_trust``; 09 agents without events and cleanup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.sql_files import one_transaction, run_model
from pipelines.trust.cursor import next_seq, read_cursor, read_source_cursor

#: Keep each applied batch within this many half-lives of its start: 2**900 is far from
#: overflowing a double, and anything older has decayed to nothing anyway.
MAX_HALF_LIVES_PER_BATCH = 900.0


@dataclass(frozen=True)
class TrustParameters:
    """The model's parameters; their values make up the version recorded on every row."""

    half_life_days: float = 7.0
    timeout_weight: float = 1.5
    review_weight: float = 0.5

    def __post_init__(self) -> None:
        if not self.half_life_days > 0:
            raise ValueError(f"half_life_days must be positive, got {self.half_life_days}")
        if not (self.timeout_weight >= 0 and self.review_weight >= 0):
            raise ValueError(
                "evidence weights cannot be negative, got "
                f"timeout {self.timeout_weight}, review {self.review_weight}"
            )

    @property
    def version(self) -> str:
        """E.g. ``beta-h7-t1.5-r0.5``: changing any parameter changes it."""
        return f"beta-h{self.half_life_days:g}-t{self.timeout_weight:g}-r{self.review_weight:g}"

    @property
    def half_life_seconds(self) -> float:
        """The half-life in seconds, as the SQL uses it."""
        return self.half_life_days * 86_400.0


@dataclass(frozen=True)
class TrustUpdate:
    """What one update did."""

    events_applied: int
    agents_changed: int
    agents_recomputed: int
    #: Of the events applied, those that arrived late (added in closed form, nothing replayed).
    late_events: int = 0


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    rows = con.execute(sql).fetchall()
    return rows[0][0] if rows else None


STEPS = "marts/trust"


def _step(con: duckdb.DuckDBPyConnection, name: str, **params: object) -> None:
    """Run one step file of ``sql/marts/trust/`` (each says its inputs and outputs)."""
    run_model(con, f"{STEPS}/{name}.sql", params)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``marts.trust_events``, ``marts.agent_trust`` and ``ops.trust_days_owed`` if
    missing."""
    run_model(con, "marts/trust_events.sql")
    run_model(con, "marts/agent_trust.sql")
    run_model(con, "ops/trust_days_owed.sql")


def build_source(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, since: datetime | None = None
) -> None:
    """Step 1: the trust events of executions changed after ``since`` (every one when None),
    of every review and of the agents in ``_trust_scope``, into ``_trust_source``."""
    _step(
        con,
        "01_event_source",
        model_version=params.version,
        timeout_weight=params.timeout_weight,
        review_weight=params.review_weight,
        since=since,
    )


def update_trust(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, run_at: datetime
) -> TrustUpdate:
    """Apply the events not applied yet; recompute agents with late events or old versions.

    One DuckDB transaction: a run killed anywhere inside leaves the events and the state as
    the previous run left them (the events and ``marts.agent_trust`` never disagree).
    """
    with one_transaction(con):
        return _update_trust(con, params, run_at)


def _update_trust(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, run_at: datetime
) -> TrustUpdate:
    ensure_tables(con)
    since = read_source_cursor(con)
    build_source(con, params, since)
    version = params.version
    run_model(con, "ops/platform_deletions.sql")
    _step(
        con,
        "02_new_and_recompute",
        version=version,
        since=since,
        half_life_seconds=params.half_life_seconds,
        max_span=MAX_HALF_LIVES_PER_BATCH,
    )
    recomputed = _scalar(con, "select count(*) from _trust_recompute")
    if recomputed and since is not None:
        # The source holds only changed executions: add the recomputed agents' events from
        # their cut on (step 1 again, scoped to them).
        con.execute(
            "create or replace temp table _trust_scope as "
            "select agent_id, cut_at from _trust_recompute"
        )
        build_source(con, params, since)
    late, applied, changed = 0, 0, set()
    # Only when some agent has a state to be late against (never in a first run). DuckDB 2.0.0
    # answered count(*) and max(seq) of marts.trust_events with 0 and NULL for the rest of the
    # run after this step inserted no rows ahead of step 7's two million in one transaction
    # (the rows were there: ORDER BY seq found them), so the write-back sent nothing.
    if _scalar(con, "select count(*) from marts.agent_trust where last_event_at is not null"):
        _step(
            con,
            "03_late_events",
            version=version,
            half_life_seconds=params.half_life_seconds,
            first_seq=next_seq(con),
            run_at=run_at,
        )
        late = int(_scalar(con, "select coalesce(sum(events), 0) from _trust_late_end") or 0)
        applied = late
        changed = {r[0] for r in con.execute("select agent_id from _trust_late_end").fetchall()}
        con.execute("drop table _trust_late_end")
    _step(con, "03_pending", cursor=read_cursor(con), version=version, run_at=run_at)
    # Usually one pass; a history spanning more than MAX_HALF_LIVES_PER_BATCH half-lives is
    # applied in consecutive slices, each starting from the state the previous one left.
    while _scalar(con, "select count(*) from _trust_pending"):
        _step(
            con,
            "04_start",
            half_life_seconds=params.half_life_seconds,
            max_span=MAX_HALF_LIVES_PER_BATCH,
        )
        too_long = con.execute(
            "select count(*) from _trust_start where (epoch(last_pending_at) - epoch(t0)) / ? > ?",
            [params.half_life_seconds, MAX_HALF_LIVES_PER_BATCH],
        ).fetchall()[0][0]
        if too_long:
            _step(
                con,
                "05_batch_split",
                half_life_seconds=params.half_life_seconds,
                max_span=MAX_HALF_LIVES_PER_BATCH,
            )
        else:  # the common case: everything fits one pass, no copy
            _step(con, "05_batch_whole")
        # Above every kept event and the write-back cursor, never below: recomputed agents'
        # events were deleted in step 3, and renumbering them from the remaining max would put
        # them under the cursor, where the write-back never looks.
        first_seq = next_seq(con)
        _step(con, "06_apply", half_life_seconds=params.half_life_seconds)
        _step(
            con,
            "07_append_events",
            model_version=version,
            applied_at=run_at,
            first_seq=first_seq,
        )
        applied += _scalar(con, "select coalesce(sum(events), 0) from _trust_end")
        changed |= {r[0] for r in con.execute("select agent_id from _trust_end").fetchall()}
        _step(con, "08_update_state", version=version, run_at=run_at)
    _step(con, "09_finish", version=version, run_at=run_at)
    return TrustUpdate(int(applied), len(changed), int(recomputed or 0), late)


def recompute_matches(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, tolerance: float = 1e-9
) -> tuple[bool, int, float]:
    """Recompute every agent's final state from all its events at once, by the closed form
    (``recompute_start.sql``: a different computation from the incremental path, into temp
    tables only) and compare with the stored state.

    Returns (matches, agents compared, largest absolute trust difference); R and S are
    compared relative to their size (``tolerance`` times max(1, |R|)).
    """
    build_source(con, params, since=None)
    _step(con, "recompute_start", half_life_seconds=params.half_life_seconds)
    _step(con, "recompute_compare")
    compared, trust_diff, r_diff, s_diff = con.execute(
        "select agents, trust_diff, r_diff, s_diff from _trust_recompute_diff"
    ).fetchall()[0]
    con.execute("drop table _trust_recompute_diff")
    worst = max(trust_diff, r_diff, s_diff)
    return worst <= tolerance, int(compared), float(trust_diff)
