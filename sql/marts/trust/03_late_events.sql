-- Trust step 3a: apply the events that arrived late without replaying anything after them.
-- A late event is a new event not after its agent's last applied one, (occurred_at, event key)
-- <= (last_event_at, last_event_key), for an agent whose state is under this model version
-- and is not recomputed (step 2). The model's decayed sums have a closed form,
--   R(t_n) = sum_i x_i * 0.5^((t_n - t_i) / h),
-- so a late event adds x * 0.5^((last_event_at - t) / h) to the stored R (S alike) and the
-- state equals a full recompute (the daily check incremental_equals_full_recompute compares).
-- The audit trail is append-only: the records already written keep their values, and the late
-- event's own record shows it at its own instant: before it, the evidence of the agent's last
-- recorded event strictly earlier (0 without one) decayed to its time, plus the late events of
-- this run before it; after it, that plus its own evidence. Its trust_delta is the move it
-- made then; the agent's current score moves by less, as the event has decayed since.
-- Inputs: _trust_new, _trust_recompute (temp, step 2), marts.agent_trust, marts.trust_events
-- (only the late agents' rows). Outputs: the late events appended to marts.trust_events
-- (numbered from $first_seq, above the write-back cursor), their agents' marts.agent_trust
-- rows moved, their days owed to marts.agent_trust_daily (ops.trust_days_owed); _trust_new
-- without them; _trust_late_end (agent_id, events) for the report.
-- Parameters: $version, $half_life_seconds, $first_seq, $run_at.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_late as
select n.*, a.last_event_at as state_at
from _trust_new as n
join marts.agent_trust as a using (agent_id)
where a.model_version = $version
  and a.last_event_at is not null
  and (n.occurred_at, n.event_key) <= (a.last_event_at, a.last_event_key)
  and n.agent_id not in (select agent_id from _trust_recompute);

delete from _trust_new where record_id in (select record_id from _trust_late);

create or replace temp table _trust_late_applied as
with
recorded as (
    -- one record per instant, the last applied (highest seq): two events of an agent at the
    -- same instant would otherwise leave the ASOF join below to pick one of them by chance
    select agent_id, occurred_at, positive_evidence, negative_evidence
    from marts.trust_events
    where agent_id in (select agent_id from _trust_late)
    qualify row_number() over (partition by agent_id, occurred_at order by seq desc) = 1
),
placed as (
    select l.*,
           l.evidence_weight * (1 + l.evidence_value) / 2 as x_r,
           l.evidence_weight * (1 - l.evidence_value) / 2 as x_s,
           -- the recorded evidence just before the late event, decayed to its instant
           coalesce(p.positive_evidence
                    * pow(0.5, (epoch(l.occurred_at) - epoch(p.occurred_at)) / $half_life_seconds),
                    0.0) as r_recorded,
           coalesce(p.negative_evidence
                    * pow(0.5, (epoch(l.occurred_at) - epoch(p.occurred_at)) / $half_life_seconds),
                    0.0) as s_recorded
    from _trust_late as l
    asof left join recorded as p
        on l.agent_id = p.agent_id and l.occurred_at > p.occurred_at
),
aged as (
    -- ages in half-lives from the agent's first late event (step 2 recomputes an agent whose
    -- late events span more than 900, so 2^age stays far from overflow)
    select *,
           (epoch(occurred_at) - epoch(min(occurred_at) over (partition by agent_id)))
               / $half_life_seconds as age
    from placed
),
running as (
    select *,
           -- this run's late events before this one, scaled by 2^age
           coalesce(sum(x_r * pow(2.0, age)) over earlier, 0.0) as r_earlier_scaled,
           coalesce(sum(x_s * pow(2.0, age)) over earlier, 0.0) as s_earlier_scaled
    from aged
    window earlier as (partition by agent_id order by occurred_at, event_key
                       rows between unbounded preceding and 1 preceding)
),
slotted as (
    select *,
           r_recorded + r_earlier_scaled * pow(2.0, -age) as r_before,
           s_recorded + s_earlier_scaled * pow(2.0, -age) as s_before
    from running
)
select record_id, agent_id, event_type, source_execution_id, source_review_id, occurred_at,
       evidence_weight, evidence_value,
       r_before + x_r as positive_evidence,
       s_before + x_s as negative_evidence,
       (1 + r_before) / (2 + r_before + s_before) as trust_score_before,
       (1 + r_before + x_r) / (2 + r_before + x_r + s_before + x_s) as trust_score_after,
       reason || ' (arrived late)' as reason,
       -- what it adds to the stored state, at the agent's last event
       x_r * pow(0.5, (epoch(state_at) - epoch(occurred_at)) / $half_life_seconds) as r_added,
       x_s * pow(0.5, (epoch(state_at) - epoch(occurred_at)) / $half_life_seconds) as s_added
from slotted;

insert into marts.trust_events
select record_id, agent_id, event_type, source_execution_id, source_review_id, occurred_at,
       evidence_weight, evidence_value, positive_evidence, negative_evidence,
       trust_score_before, trust_score_after, trust_score_after - trust_score_before,
       reason, $version, $run_at,
       $first_seq + row_number() over (order by agent_id, occurred_at, record_id) - 1
from _trust_late_applied;

-- marts.agent_trust_daily owes these agents' days from their first late event on.
insert into ops.trust_days_owed
select agent_id, min(occurred_at)::date, $run_at from _trust_late_applied group by agent_id;

create or replace temp table _trust_late_end as
select agent_id, sum(r_added) as r_added, sum(s_added) as s_added, count(*) as events
from _trust_late_applied
group by agent_id;

update marts.agent_trust as a
set positive_evidence = a.positive_evidence + e.r_added,
    negative_evidence = a.negative_evidence + e.s_added,
    trust_score = (1 + a.positive_evidence + e.r_added)
        / (2 + a.positive_evidence + e.r_added + a.negative_evidence + e.s_added),
    event_count = a.event_count + e.events,
    updated_at = $run_at
from _trust_late_end as e
where a.agent_id = e.agent_id;

drop table _trust_late;
drop table _trust_late_applied;
