-- Why does one agent fail?
-- Its failed and timed-out executions by error message over the last 30 days of data, most
-- frequent first, with when each was last seen: the agent_failure_reasons macro (sql/macros/),
-- the same figure as the agent page's failure reasons.
-- Set the agent first (the agent with the most failures by default):
--   set variable agent_id = 7;
-- Run from the repository's root (.read paths are relative to it):
--   .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/failure_reasons_of_one_agent.sql
.read sql/macros/agent_failure_reasons.sql

set variable agent_id = coalesce(
    getvariable('agent_id'),
    (select agent_id from marts.agent_usage_daily
     group by agent_id order by sum(failed + timed_out) desc, agent_id limit 1)
);
set variable until = (select max(created_at) from marts.executions_all);

select getvariable('agent_id') as agent_id, r.*
from agent_failure_reasons(
    getvariable('agent_id'),
    getvariable('until') - interval 30 day,
    getvariable('until') + interval 1 microsecond
) as r
order by executions desc, error_message
limit 20;
