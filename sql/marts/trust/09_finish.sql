-- Trust step 9: every agent has a row (0.5, no evidence, until its first event), the trust
-- cursor moves to the newest executions_all.changed_at read (the next update reads only rows
-- changed after it), and the temporary tables of steps 1-8 are dropped.
-- Inputs: intermediate.valid_agents, intermediate.executions_all, marts.agent_trust.
-- Output: ops.watermarks 'trust_source' (advanced_at). Parameters: $version, $run_at.
-- step: marts.trust_events, marts.agent_trust
insert into marts.agent_trust
select agent_id, 0.5, 0.0, 0.0, 0, null, null, $version, $run_at
from intermediate.valid_agents
where agent_id not in (select agent_id from marts.agent_trust);

merge into ops.watermarks as w
using (
    select 'trust_source' as table_name, null::timestamp as updated_at, 0::bigint as last_id,
           max(changed_at) as advanced_at
    from intermediate.executions_all
    having max(changed_at) is not null
) as s
on w.table_name = s.table_name
when matched then update set * when not matched then insert *;

drop table if exists _trust_source;
drop table if exists _trust_scope;
drop table if exists _trust_new;
drop table if exists _trust_recompute;
drop table if exists _trust_sent;
drop table if exists _trust_pending;
drop table if exists _trust_batch;
drop table if exists _trust_start;
drop table if exists _trust_end;
