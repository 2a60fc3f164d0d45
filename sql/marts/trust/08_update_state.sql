-- Trust step 8 (once per batch): store each applied agent's new state in marts.agent_trust.
-- Inputs: _trust_end (temp, step 6: the state after the batch), marts.agent_trust (the event
-- count so far). Output: marts.agent_trust rows inserted or replaced (a merge by agent_id:
-- the DuckLake warehouse has no primary keys to replace on).
-- Parameters: $version, $run_at.
-- step: marts.trust_events, marts.agent_trust
merge into marts.agent_trust as t
using (
    select e.agent_id, e.trust, e.r, e.s,
           coalesce(a.event_count, 0) + e.events, e.last_at, e.last_key,
           $version, $run_at
    from _trust_end as e
    left join marts.agent_trust as a using (agent_id)
) as s
on t.agent_id = s.agent_id
when matched then update set * when not matched then insert *;
