-- Trust step 5, the common case: every pending event fits one batch (no agent's pending
-- history spans more than the batch limit in half-lives), so the batch is _trust_pending
-- itself, renamed rather than copied.
-- Input: _trust_pending (temp). Outputs (temp): _trust_batch (the events to apply now), an
-- empty _trust_pending.
-- step: marts.trust_events, marts.agent_trust
drop table if exists _trust_batch;
alter table _trust_pending rename to _trust_batch;
create temp table _trust_pending as select * from _trust_batch limit 0;
