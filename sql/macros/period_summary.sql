-- period_summary(start_day, end_day, agent): the platform's figures over the UTC days
-- [start_day, end_day), of every agent (agent NULL) or of one: one row with executions,
-- success_rate (completed / (completed + failed + timeout)), p95_duration_ms, active_agents,
-- active_users and revenue. What the Overview's headline shows for a period and the one before.
-- Each figure is exact and comes from the smallest mart that holds it: counts, success rate,
-- active agents and revenue from marts.agent_usage_daily; the p95 over the period's completed
-- durations (never an average of daily percentiles): quantile_cont read off the running sum of
-- marts.duration_histogram_daily (the values at 0-based ranks floor(h) and ceil(h),
-- h = 0.95 (n - 1), interpolated), or, for one agent, quantile_cont over its rows of
-- marts.execution_durations; active users from marts.user_activity_daily, or for one agent
-- from its executions in marts.executions_all.
create or replace temp macro period_summary(start_day, end_day, agent) as table
with usage as (
    select sum(executions) as executions,
           sum(completed) / nullif(sum(completed + failed + timed_out), 0) as success_rate,
           count(distinct agent_id) filter (where executions > 0) as active_agents,
           sum(revenue) as revenue
    from marts.agent_usage_daily
    where day >= start_day and day < end_day and (agent::bigint is null or agent_id = agent)
),
histogram as (
    select duration_ms, sum(executions) as n
    from marts.duration_histogram_daily
    where agent::bigint is null and day >= start_day and day < end_day
    group by duration_ms
),
ranked as (
    select duration_ms,
           sum(n) over (order by duration_ms) as up_to,
           0.95 * (sum(n) over () - 1) as h
    from histogram
),
latency as (
    select min(duration_ms) filter (where up_to > floor(h))
           + (min(duration_ms) filter (where up_to > ceil(h))
              - min(duration_ms) filter (where up_to > floor(h)))
             * (any_value(h) - floor(any_value(h))) as p95_duration_ms
    from ranked
    where agent::bigint is null
    union all
    select quantile_cont(duration_ms, 0.95)
    from marts.execution_durations
    where agent::bigint is not null and agent_id = agent
      and day >= start_day and day < end_day
),
users as (
    select count(distinct user_id) as active_users
    from marts.user_activity_daily
    where agent::bigint is null and day >= start_day and day < end_day
    union all
    select count(distinct user_id)
    from marts.executions_all
    where agent::bigint is not null and agent_id = agent
      and not is_quarantined and user_id is not null
      and created_at >= start_day and created_at < end_day
)
select coalesce(u.executions, 0)::bigint as executions,
       u.success_rate,
       (select max(p95_duration_ms) from latency) as p95_duration_ms,
       coalesce(u.active_agents, 0) as active_agents,
       coalesce((select max(active_users) from users), 0) as active_users,
       coalesce(u.revenue, 0) as revenue
from usage as u;
