-- outcomes_by_day(start_day, end_day, agent): executions per UTC day in [start_day, end_day)
-- and outcome (completed, failed, timed_out, cancelled), of every agent (agent NULL) or of one,
-- from marts.agent_usage_daily: one row per day and outcome, long form for a stacked chart.
create or replace temp macro outcomes_by_day(start_day, end_day, agent) as table
select day, status, sum(n)::bigint as executions
from marts.agent_usage_daily
unpivot (n for status in (completed, failed, timed_out, cancelled))
where day >= start_day and day < end_day and (agent::bigint is null or agent_id = agent)
group by day, status;
