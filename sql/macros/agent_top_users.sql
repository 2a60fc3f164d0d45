-- agent_top_users(agent, start_day, end_day): one agent's users over the UTC days
-- [start_day, end_day): executions, failed (failed or timed out) and the last execution, with
-- the user's name and email (unmasked: a dashboard masks them). Quarantined and anonymous
-- executions are left out.
create or replace temp macro agent_top_users(agent, start_day, end_day) as table
with used as (
    select user_id,
           count(*) as executions,
           count(*) filter (where status in ('failed', 'timeout')) as failed,
           max(created_at) as last_execution_at
    from marts.executions_all
    where agent_id = agent and not is_quarantined and user_id is not null
      and created_at >= start_day and created_at < end_day
    group by user_id
)
select used.user_id, u.username, u.email, used.executions, used.failed, used.last_execution_at
from used
left join intermediate.valid_users as u using (user_id);
