-- Why does one agent fail?
-- Its failed and timed-out executions by error message over the last 30 days of data, most
-- frequent first, with when each was last seen.
-- Set the agent first (the agent with the most failures by default):
--   set variable agent_id = 7;
-- Run: .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/failure_reasons_of_one_agent.sql
set variable agent_id = coalesce(
    getvariable('agent_id'),
    (select agent_id from marts.agent_usage_daily
     group by agent_id order by sum(failed + timed_out) desc, agent_id limit 1)
);

with since as (
    select max(created_at) - interval 30 day as at from marts.executions_all
)
select e.agent_id,
       e.status,
       coalesce(e.error_message, '(no message)') as error_message,
       count(*) as executions,
       max(e.created_at) as last_seen,
       count(*) filter (where e.is_archived) as archived
from marts.executions_all as e, since
where e.agent_id = getvariable('agent_id')
  and e.status in ('failed', 'timeout')
  and not e.is_quarantined
  and e.created_at >= since.at
group by all
order by executions desc, error_message
limit 20;
