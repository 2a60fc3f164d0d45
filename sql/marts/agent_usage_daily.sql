-- marts.agent_usage_daily: one row per (agent_id, day) with executions or new hirings.
-- Rebuilds the days in [$start_day, $end_day) (a Dagster daily partition, or a backfill range):
-- delete the slice, insert it again, so re-running a day never double counts.
-- Executions count on the UTC day they were created; quarantined rows are left out.
-- Executions and hirings are aggregated separately and then joined (joining the two child
-- tables first, as seed 000's statistics query does, multiplies rows).
-- materialized: day_partitioned
-- partition_day: day
-- grain: agent_id, day
-- report: rows = count(*), executions = coalesce(sum(executions), 0)
create table if not exists marts.agent_usage_daily (
    agent_id bigint not null,
    day date not null,
    executions bigint not null,
    completed bigint not null,
    failed bigint not null,
    timed_out bigint not null,
    cancelled bigint not null,
    success_rate double,
    avg_duration_ms double,
    p50_duration_ms double,
    p95_duration_ms double,
    p99_duration_ms double,
    unique_users bigint not null,
    avg_cpu_usage double,
    avg_memory_usage double,
    new_hirings bigint not null,
    revenue double not null
);

delete from marts.agent_usage_daily where day >= $start_day and day < $end_day;

insert into marts.agent_usage_daily
with
executions as (
    select agent_id, user_id, status, duration_ms, cpu_usage, memory_usage,
           created_at::date as day
    from intermediate.executions_all
    where not is_quarantined
      and created_at >= $start_day and created_at < $end_day
),
execution_stats as (
    select agent_id, day,
           count(*) as executions,
           count(*) filter (where status = 'completed') as completed,
           count(*) filter (where status = 'failed') as failed,
           count(*) filter (where status = 'timeout') as timed_out,
           count(*) filter (where status = 'cancelled') as cancelled,
           avg(duration_ms) filter (where status = 'completed') as avg_duration_ms,
           quantile_cont(duration_ms, [0.5, 0.95, 0.99]) filter (where status = 'completed')
               as duration_quantiles,
           count(distinct user_id) as unique_users,
           avg(cpu_usage) as avg_cpu_usage,
           avg(memory_usage) as avg_memory_usage
    from executions
    group by agent_id, day
),
hiring_stats as (
    select agent_id, hired_at::date as day, count(*) as new_hirings
    from intermediate.valid_hirings
    where hired_at >= $start_day and hired_at < $end_day
    group by agent_id, day
),
agents as (
    select agent_id, pricing_model, price_per_use from intermediate.valid_agents
)
select coalesce(e.agent_id, h.agent_id) as agent_id,
       coalesce(e.day, h.day) as day,
       coalesce(e.executions, 0) as executions,
       coalesce(e.completed, 0) as completed,
       coalesce(e.failed, 0) as failed,
       coalesce(e.timed_out, 0) as timed_out,
       coalesce(e.cancelled, 0) as cancelled,
       e.completed / nullif(e.completed + e.failed + e.timed_out, 0) as success_rate,
       e.avg_duration_ms,
       e.duration_quantiles[1] as p50_duration_ms,
       e.duration_quantiles[2] as p95_duration_ms,
       e.duration_quantiles[3] as p99_duration_ms,
       coalesce(e.unique_users, 0) as unique_users,
       e.avg_cpu_usage,
       e.avg_memory_usage,
       coalesce(h.new_hirings, 0) as new_hirings,
       case when a.pricing_model = 'per_use'
            then coalesce(e.completed, 0) * a.price_per_use else 0.0 end as revenue
from execution_stats as e
full outer join hiring_stats as h on h.agent_id = e.agent_id and h.day = e.day
left join agents as a on a.agent_id = coalesce(e.agent_id, h.agent_id);

comment on table marts.agent_usage_daily is
    'Agent usage per UTC day (grain: agent_id, day); days with executions or new hirings';
comment on column marts.agent_usage_daily.agent_id is 'agents.id';
comment on column marts.agent_usage_daily.day is 'UTC day the executions were created / hirings made';
comment on column marts.agent_usage_daily.executions is 'executions created that day, any status';
comment on column marts.agent_usage_daily.completed is 'of which completed';
comment on column marts.agent_usage_daily.failed is 'of which failed';
comment on column marts.agent_usage_daily.timed_out is 'of which timed out';
comment on column marts.agent_usage_daily.cancelled is 'of which cancelled';
comment on column marts.agent_usage_daily.success_rate is 'completed / (completed + failed + timed_out); NULL when none finished';
comment on column marts.agent_usage_daily.avg_duration_ms is 'mean duration of completed executions, ms';
comment on column marts.agent_usage_daily.p50_duration_ms is 'median duration of completed executions (exact, interpolated), ms';
comment on column marts.agent_usage_daily.p95_duration_ms is '95th percentile duration of completed executions, ms';
comment on column marts.agent_usage_daily.p99_duration_ms is '99th percentile duration of completed executions, ms';
comment on column marts.agent_usage_daily.unique_users is 'distinct users with an execution that day';
comment on column marts.agent_usage_daily.avg_cpu_usage is 'mean CPU usage, percent';
comment on column marts.agent_usage_daily.avg_memory_usage is 'mean memory usage, MB';
comment on column marts.agent_usage_daily.new_hirings is 'hirings of the agent made that day';
comment on column marts.agent_usage_daily.revenue is 'price_per_use x completed executions for per_use agents; 0 otherwise';
