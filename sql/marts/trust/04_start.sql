-- Trust step 4 (once per batch): each pending agent's starting state.
-- Inputs: _trust_pending (temp, step 3), marts.agent_trust.
-- Output (temp): _trust_start (agent_id, r0, s0, t0, trust0, last_pending_at): the stored
-- state, or no evidence (0.5) from the agent's first pending event.
-- Parameters: $half_life_seconds, $max_span.
-- A stored state more than $max_span half-lives before the agent's first pending event has
-- decayed below 2^-900 of itself: it starts there instead, its evidence decayed to it (step 6
-- weighs events by 2^(age from t0), which must stay far from overflow, and a batch must
-- never come out empty).
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_start as
with pending as (
    select agent_id, min(occurred_at) as first_pending_at, max(occurred_at) as last_pending_at
    from _trust_pending
    group by agent_id
),
gaps as (
    select p.*, a.positive_evidence, a.negative_evidence, a.last_event_at, a.trust_score,
           (epoch(p.first_pending_at) - epoch(a.last_event_at)) / $half_life_seconds as gap
    from pending as p
    left join marts.agent_trust as a using (agent_id)
)
select agent_id,
       case when gap > $max_span then positive_evidence * pow(0.5, gap)
            else coalesce(positive_evidence, 0.0) end as r0,
       case when gap > $max_span then negative_evidence * pow(0.5, gap)
            else coalesce(negative_evidence, 0.0) end as s0,
       case when gap > $max_span then first_pending_at
            else coalesce(last_event_at, first_pending_at) end as t0,
       coalesce(trust_score, 0.5) as trust0,
       last_pending_at
from gaps;
