-- Trust step 9: every agent has a row (0.5, no evidence, until its first event), and the
-- temporary tables of steps 1-8 are dropped.
-- Inputs: intermediate.valid_agents, marts.agent_trust. Parameters: $version, $run_at.
-- step: marts.trust_events, marts.agent_trust
insert into marts.agent_trust
select agent_id, 0.5, 0.0, 0.0, 0, null, null, $version, $run_at
from intermediate.valid_agents
where agent_id not in (select agent_id from marts.agent_trust);

drop table if exists _trust_source;
drop table if exists _trust_new;
drop table if exists _trust_recompute;
drop table if exists _trust_sent;
drop table if exists _trust_pending;
drop table if exists _trust_batch;
drop table if exists _trust_start;
drop table if exists _trust_end;
