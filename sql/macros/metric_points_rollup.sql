-- metric_points_rollup(bucket, start_day, end_day): the valid agent metric points recorded in
-- the UTC days [start_day, end_day) rolled up per agent, metric and bucket ('hour' or 'day',
-- a date_trunc part): samples, sum, min, max, avg and the exact p50, p95 and p99 of the
-- points themselves (never of finer buckets' percentiles). The hourly and daily rollup marts
-- insert it.
create or replace temp macro metric_points_rollup(bucket, start_day, end_day) as table
with points as (
    select agent_id, metric_name, metric_value, date_trunc(bucket, recorded_at) as bucket_start
    from intermediate.valid_agent_metrics
    where recorded_at >= start_day and recorded_at < end_day
),
rolled as (
    select agent_id, metric_name, bucket_start,
           count(*) as samples, sum(metric_value) as sum, min(metric_value) as min,
           max(metric_value) as max, avg(metric_value) as avg,
           quantile_cont(metric_value, [0.5, 0.95, 0.99]) as q
    from points
    group by agent_id, metric_name, bucket_start
)
select agent_id, metric_name, bucket_start, samples, sum, min, max, avg,
       q[1] as p50, q[2] as p95, q[3] as p99
from rolled;
