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
(``sql/marts/trust/trust_apply.sql``), not a Python loop per event.

Incremental and idempotent: each event's ``record_id`` is derived from the model version and
its source, so a run applies only events it has not applied. An event that arrives late (its
time is not after the agent's last applied event) cannot be slotted in, so that agent is
recomputed from all its events; a change of parameters (a new version) recomputes every
agent. Either way the state equals a full recompute, which ``recompute_matches`` checks.
Events appended by any of these paths are numbered above the write-back cursor
(pipelines/trust/cursor.py), so the platform write-back sends each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from pipelines.sql_files import execute_script, run_model
from pipelines.trust.cursor import next_seq, read_cursor

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


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    rows = con.execute(sql).fetchall()
    return rows[0][0] if rows else None


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``marts.trust_events`` and ``marts.agent_trust`` if missing."""
    run_model(con, "marts/trust/trust_events.sql")
    run_model(con, "marts/trust/agent_trust.sql")


def build_source(con: duckdb.DuckDBPyConnection, params: TrustParameters) -> None:
    """Materialise every trust event from executions_all and reviews into ``_trust_source``."""
    run_model(
        con,
        "marts/trust/trust_event_source.sql",
        {
            "model_version": params.version,
            "timeout_weight": params.timeout_weight,
            "review_weight": params.review_weight,
        },
    )


def update_trust(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, run_at: datetime
) -> TrustUpdate:
    """Apply the events not applied yet; recompute agents with late events or old versions.

    One DuckDB transaction: a run killed anywhere inside leaves the events and the state as
    the previous run left them (the events and ``marts.agent_trust`` never disagree).
    """
    con.begin()
    try:
        result = _update_trust(con, params, run_at)
    except BaseException:
        con.rollback()
        raise
    con.commit()
    return result


def _update_trust(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, run_at: datetime
) -> TrustUpdate:
    ensure_tables(con)
    build_source(con, params)
    version = params.version
    # Agents to recompute from scratch: state under another version, or a new event that is
    # not after the agent's last applied one.
    execute_script(
        con,
        """
        create or replace temp table _trust_new as
        select s.* from _trust_source as s
        where s.record_id not in (select record_id from marts.trust_events);

        create or replace temp table _trust_recompute as
        select agent_id from marts.agent_trust where model_version <> $version
        union
        select n.agent_id
        from _trust_new as n
        join marts.agent_trust as a using (agent_id)
        where a.last_event_at is not null
          and (n.occurred_at, n.event_key) <= (a.last_event_at, a.last_event_key);
        """,
        {"version": version},
    )
    recomputed = _scalar(con, "select count(*) from _trust_recompute")
    execute_script(
        con,
        """
        -- Events of recomputed agents the platform already has keep their seq (at or below
        -- the write-back cursor): recomputing an agent after a late event must not send its
        -- whole history again (the platform keeps a record's first values; the audit trail is
        -- append-only). A new version changes every record_id, so nothing is kept then.
        create or replace temp table _trust_sent as
        select record_id, seq from marts.trust_events
        where agent_id in (select agent_id from _trust_recompute) and seq <= $cursor;

        delete from marts.trust_events
        where agent_id in (select agent_id from _trust_recompute);
        delete from marts.agent_trust
        where agent_id in (select agent_id from _trust_recompute);

        create or replace temp table _trust_pending as
        select * from _trust_new where agent_id not in (select agent_id from _trust_recompute)
        union all
        select * from _trust_source where agent_id in (select agent_id from _trust_recompute);
        """,
        {"cursor": read_cursor(con)},
    )
    applied = 0
    changed: set[int] = set()
    # Usually one pass; a history spanning more than MAX_HALF_LIVES_PER_BATCH half-lives is
    # applied in consecutive slices, each starting from the state the previous one left.
    while _scalar(con, "select count(*) from _trust_pending"):
        execute_script(
            con,
            """
            create or replace temp table _trust_start as
            select p.agent_id,
                   coalesce(any_value(a.positive_evidence), 0.0) as r0,
                   coalesce(any_value(a.negative_evidence), 0.0) as s0,
                   coalesce(any_value(a.last_event_at), min(p.occurred_at)) as t0,
                   coalesce(any_value(a.trust_score), 0.5) as trust0,
                   max(p.occurred_at) as last_pending_at
            from _trust_pending as p
            left join marts.agent_trust as a using (agent_id)
            group by p.agent_id;
            """,
        )
        too_long = con.execute(
            "select count(*) from _trust_start where (epoch(last_pending_at) - epoch(t0)) / ? > ?",
            [params.half_life_seconds, MAX_HALF_LIVES_PER_BATCH],
        ).fetchall()[0][0]
        if too_long:
            execute_script(
                con,
                """
                create or replace temp table _trust_batch as
                select p.* from _trust_pending as p join _trust_start as s using (agent_id)
                where (epoch(p.occurred_at) - epoch(s.t0)) / $half_life_seconds <= $max_span;

                delete from _trust_pending
                where record_id in (select record_id from _trust_batch);
                """,
                {
                    "half_life_seconds": params.half_life_seconds,
                    "max_span": MAX_HALF_LIVES_PER_BATCH,
                },
            )
        else:  # the common case: everything fits one pass, no copy
            execute_script(
                con,
                "drop table if exists _trust_batch;"
                " alter table _trust_pending rename to _trust_batch;"
                " create temp table _trust_pending as select * from _trust_batch limit 0;",
            )
        # Above every kept event and the write-back cursor, never below: recomputed agents'
        # events were deleted above, and renumbering them from the remaining max would put
        # them under the cursor, where the write-back never looks.
        first_seq = next_seq(con)
        run_model(
            con, "marts/trust/trust_apply.sql", {"half_life_seconds": params.half_life_seconds}
        )
        run_model(
            con,
            "marts/trust/trust_events_append.sql",
            {"model_version": version, "applied_at": run_at, "first_seq": first_seq},
        )
        applied += _scalar(con, "select coalesce(sum(events), 0) from _trust_end")
        changed |= {r[0] for r in con.execute("select agent_id from _trust_end").fetchall()}
        execute_script(
            con,
            """
            insert or replace into marts.agent_trust
            select e.agent_id, e.trust, e.r, e.s,
                   coalesce(a.event_count, 0) + e.events, e.last_at, e.last_key,
                   $version, $run_at
            from _trust_end as e
            left join marts.agent_trust as a using (agent_id);
            """,
            {"version": version, "run_at": run_at},
        )
    # Every agent has a row: 0.5 and no evidence until its first event.
    execute_script(
        con,
        """
        insert into marts.agent_trust
        select agent_id, 0.5, 0.0, 0.0, 0, null, null, $version, $run_at
        from staging.stg_agents
        where agent_id not in (select agent_id from marts.agent_trust);

        drop table if exists _trust_new;
        drop table if exists _trust_recompute;
        drop table if exists _trust_sent;
        drop table if exists _trust_pending;
        drop table if exists _trust_batch;
        drop table if exists _trust_start;
        drop table if exists _trust_end;
        """,
        {"version": version, "run_at": run_at},
    )
    return TrustUpdate(int(applied), len(changed), int(recomputed or 0))


def recompute_matches(
    con: duckdb.DuckDBPyConnection, params: TrustParameters, tolerance: float = 1e-9
) -> tuple[bool, int, float]:
    """Recompute every agent from all its events in a scratch copy and compare with the state.

    Returns (matches, agents compared, largest absolute trust difference).
    """
    build_source(con, params)
    execute_script(
        con,
        """
        create or replace temp table _trust_pending as select * from _trust_source;
        create or replace temp table _trust_start as
        select agent_id, 0.0 as r0, 0.0 as s0, min(occurred_at) as t0, 0.5 as trust0
        from _trust_pending group by agent_id;
        create or replace temp table _trust_batch as select * from _trust_pending;
        """,
    )
    # The same SQL as the update, into temp tables only: marts.trust_events stays untouched.
    run_model(con, "marts/trust/trust_apply.sql", {"half_life_seconds": params.half_life_seconds})
    rows = con.execute(
        """
        select count(*),
               coalesce(max(abs(coalesce(a.trust_score, 0.5) - e.trust)), 0.0),
               coalesce(max(abs(coalesce(a.positive_evidence, 0) - e.r)), 0.0),
               coalesce(max(abs(coalesce(a.negative_evidence, 0) - e.s)), 0.0)
        from _trust_end as e
        left join marts.agent_trust as a using (agent_id)
        """
    ).fetchall()[0]
    execute_script(
        con,
        "drop table _trust_applied; drop table _trust_end;"
        " drop table _trust_batch; drop table _trust_start; drop table _trust_pending",
    )
    compared, trust_diff, r_diff, s_diff = rows
    worst = max(trust_diff, r_diff, s_diff)
    return worst <= tolerance, int(compared), float(trust_diff)
