-- Trust step 2: which events are new, and which agents must be recomputed from scratch.
-- Inputs: _trust_source (temp, step 1), marts.trust_events, marts.agent_trust.
-- Outputs (temp): _trust_new (events not applied yet, by record_id) and _trust_recompute
-- (agent_id, cut_at, cut_key): agents to recompute from the cut on. An agent whose state is
-- under another model version recomputes everything (cut NULL); an agent with a new event not
-- after its last applied one (a late event cannot be slotted into decayed sums) recomputes
-- from its earliest new event: the events before it keep their state, as applied.
-- Parameter: $version (the model version now).
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_new as
select s.* from _trust_source as s
where s.record_id not in (select record_id from marts.trust_events);

create or replace temp table _trust_recompute as
select agent_id, null::timestamp as cut_at, null::varchar as cut_key
from marts.agent_trust where model_version <> $version
union all
select n.agent_id, n.occurred_at, n.event_key
from _trust_new as n
join marts.agent_trust as a using (agent_id)
where a.model_version = $version
  and a.last_event_at is not null
  and (n.occurred_at, n.event_key) <= (a.last_event_at, a.last_event_key)
qualify row_number() over (partition by n.agent_id order by n.occurred_at, n.event_key) = 1;
