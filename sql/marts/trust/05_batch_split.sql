-- Trust step 5, for a history longer than the batch limit: take each agent's events within
-- $max_span half-lives of its start; the rest waits for the next batch, which starts from the
-- state this one leaves (2 ** 900 is far from overflowing a double).
-- Inputs: _trust_pending, _trust_start (temp). Outputs (temp): _trust_batch, and
-- _trust_pending without it. Parameters: $half_life_seconds, $max_span.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_batch as
select p.* from _trust_pending as p join _trust_start as s using (agent_id)
where (epoch(p.occurred_at) - epoch(s.t0)) / $half_life_seconds <= $max_span;

delete from _trust_pending
where record_id in (select record_id from _trust_batch);
