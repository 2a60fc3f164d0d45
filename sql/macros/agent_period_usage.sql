-- agent_period_usage(start_day, end_day): each agent's usage over the UTC days
-- [start_day, end_day): executions, success_rate (completed / (completed + failed + timeout))
-- and revenue from marts.agent_usage_daily; p50_ms, p95_ms and p99_ms exact over the period's
-- completed durations (marts.execution_durations; never averaged from daily percentiles).
-- One row per agent with usage or durations in the period.
create or replace temp macro agent_period_usage(start_day, end_day) as table
with usage as (
    select agent_id,
           sum(executions)::bigint as executions,
           sum(completed) / nullif(sum(completed + failed + timed_out), 0) as success_rate,
           sum(revenue) as revenue
    from marts.agent_usage_daily
    where day >= start_day and day < end_day
    group by agent_id
),
latency as (
    select agent_id, quantile_cont(duration_ms, [0.5, 0.95, 0.99]) as q
    from marts.execution_durations
    where day >= start_day and day < end_day
    group by agent_id
)
select agent_id,
       coalesce(u.executions, 0)::bigint as executions,
       u.success_rate,
       coalesce(u.revenue, 0) as revenue,
       d.q[1] as p50_ms,
       d.q[2] as p95_ms,
       d.q[3] as p99_ms
from usage as u
full join latency as d using (agent_id);
