-- agent_failure_reasons(agent, start_from, end_before): one agent's failed and timed-out
-- executions created in [start_from, end_before) by outcome and error message: how many, when
-- last seen, and how many of them are archived (purged from the platform). Quarantined
-- executions are left out. Timestamps or dates both work as bounds.
create or replace temp macro agent_failure_reasons(agent, start_from, end_before) as table
select status,
       coalesce(error_message, '(no message)') as error_message,
       count(*) as executions,
       max(created_at) as last_seen,
       count(*) filter (where is_archived) as archived
from marts.executions_all
where agent_id = agent and status in ('failed', 'timeout') and not is_quarantined
  and created_at >= start_from and created_at < end_before
group by all;
