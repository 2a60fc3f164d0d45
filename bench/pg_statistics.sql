-- The usage and rollup statistics of sql/marts, as plain PostgreSQL SQL, for bench/marts.py.
-- Same grains and columns; each child table aggregated on its own, then joined.
create temp table pg_agent_usage_daily as
with e as (
    select agent_id, created_at::date as day,
           count(*) as executions,
           count(*) filter (where status = 'completed') as completed,
           count(*) filter (where status = 'failed') as failed,
           count(*) filter (where status = 'timeout') as timed_out,
           count(*) filter (where status = 'cancelled') as cancelled,
           avg(duration_ms) filter (where status = 'completed') as avg_duration_ms,
           percentile_cont(array[0.5, 0.95, 0.99]) within group (order by duration_ms)
               filter (where status = 'completed') as q,
           count(distinct user_id) as unique_users,
           avg(cpu_usage) as avg_cpu_usage, avg(memory_usage) as avg_memory_usage
    from executions
    where created_at >= %(start)s and created_at < %(end)s
    group by agent_id, created_at::date
),
h as (
    select agent_id, hired_at::date as day, count(*) as new_hirings
    from hirings where hired_at >= %(start)s and hired_at < %(end)s
    group by agent_id, hired_at::date
)
select coalesce(e.agent_id, h.agent_id) as agent_id, coalesce(e.day, h.day) as day,
       e.executions, e.completed, e.failed, e.timed_out, e.cancelled,
       e.completed::float / nullif(e.completed + e.failed + e.timed_out, 0) as success_rate,
       e.avg_duration_ms, e.q[1] as p50, e.q[2] as p95, e.q[3] as p99, e.unique_users,
       e.avg_cpu_usage, e.avg_memory_usage, coalesce(h.new_hirings, 0) as new_hirings,
       case when a.pricing_model = 'per_use' then coalesce(e.completed, 0) * a.price_per_use
            else 0 end as revenue
from e full join h on h.agent_id = e.agent_id and h.day = e.day
left join agents a on a.id = coalesce(e.agent_id, h.agent_id);
create temp table pg_agent_usage_summary as
with e as (
    select agent_id, count(*) as total_executions,
           count(*) filter (where status = 'completed')::float
               / nullif(count(*) filter (where status in ('completed', 'failed', 'timeout')), 0)
               as success_rate,
           avg(duration_ms) filter (where status = 'completed') as avg_duration_ms,
           percentile_cont(0.95) within group (order by duration_ms)
               filter (where status = 'completed') as p95_duration_ms,
           count(distinct user_id) as unique_users,
           min(created_at) as first_execution_at, max(created_at) as last_execution_at
    from executions group by agent_id
),
h as (select agent_id, count(*) as total_hirings from hirings group by agent_id)
select a.id as agent_id, h.total_hirings, e.total_executions, e.success_rate,
       e.avg_duration_ms, e.p95_duration_ms, e.unique_users, e.first_execution_at,
       e.last_execution_at
from agents a left join h on h.agent_id = a.id left join e on e.agent_id = a.id;
create temp table pg_user_activity as
with e as (
    select user_id, count(*) as total_executions,
           count(*) filter (where status in ('failed', 'timeout')) as failed_executions,
           max(created_at) as last_execution_at
    from executions where user_id is not null group by user_id
),
h as (
    select user_id, count(distinct agent_id) as agents_hired
    from hirings where user_id is not null group by user_id
)
select coalesce(e.user_id, h.user_id) as user_id, h.agents_hired, e.total_executions,
       e.failed_executions, e.last_execution_at
from e full join h on h.user_id = e.user_id;
create temp table pg_metrics_rollup_hourly as
select agent_id, metric_name, date_trunc('hour', recorded_at) as bucket_start,
       count(*) as samples, sum(metric_value) as sum, min(metric_value) as min,
       max(metric_value) as max, avg(metric_value) as avg,
       percentile_cont(array[0.5, 0.95, 0.99]) within group (order by metric_value) as q
from agent_metrics
where recorded_at >= %(start)s and recorded_at < %(end)s
group by agent_id, metric_name, date_trunc('hour', recorded_at);
create temp table pg_metrics_rollup_daily as
select agent_id, metric_name, date_trunc('day', recorded_at) as bucket_start,
       count(*) as samples, sum(metric_value) as sum, min(metric_value) as min,
       max(metric_value) as max, avg(metric_value) as avg,
       percentile_cont(array[0.5, 0.95, 0.99]) within group (order by metric_value) as q
from agent_metrics
where recorded_at >= %(start)s and recorded_at < %(end)s
group by agent_id, metric_name, date_trunc('day', recorded_at)
