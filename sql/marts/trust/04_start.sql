-- Trust step 4 (once per batch): each pending agent's starting state.
-- Inputs: _trust_pending (temp, step 3), marts.agent_trust.
-- Output (temp): _trust_start (agent_id, r0, s0, t0, trust0, last_pending_at): the stored
-- state, or no evidence (0.5) from the agent's first pending event.
-- step: marts.trust_events, marts.agent_trust
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
