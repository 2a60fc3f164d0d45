-- The full recompute the daily check incremental_equals_full_recompute compares with: every
-- event as one batch from no evidence, fed to step 6 (06_apply.sql) into temp tables only,
-- so marts.trust_events and marts.agent_trust stay untouched.
-- Input: _trust_source (temp, step 1). Outputs (temp): _trust_pending, _trust_start,
-- _trust_batch.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_pending as select * from _trust_source;
create or replace temp table _trust_start as
select agent_id, 0.0 as r0, 0.0 as s0, min(occurred_at) as t0, 0.5 as trust0
from _trust_pending group by agent_id;
create or replace temp table _trust_batch as select * from _trust_pending;
