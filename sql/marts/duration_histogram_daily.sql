-- marts.duration_histogram_daily: how many completed executions took each duration, per UTC
-- day, over all agents (grain: day, duration_ms). An exact histogram, not a sketch: durations
-- are whole milliseconds, so a day holds at most a few thousand distinct values however many
-- executions it has (10M executions in 30 days: 150k rows). The percentile of any range of
-- days is a running sum over it, equal to quantile_cont over the executions themselves
-- (dashboards/queries.py `headline`); per agent, read marts.execution_durations.
-- Rebuilds the days in [$start_day, $end_day).
-- materialized: day_partitioned
-- partition_day: day
-- grain: day, duration_ms
-- report: rows = count(*), executions = coalesce(sum(executions), 0)
create table if not exists marts.duration_histogram_daily (
    day date not null,
    duration_ms integer not null,
    executions bigint not null
);

delete from marts.duration_histogram_daily where day >= $start_day and day < $end_day;

insert into marts.duration_histogram_daily
select created_at::date as day, duration_ms::integer as duration_ms, count(*) as executions
from intermediate.executions_all
where status = 'completed' and not is_quarantined and duration_ms is not null
  and created_at >= $start_day and created_at < $end_day
group by all
order by day, duration_ms;

comment on table marts.duration_histogram_daily is
    'Completed, unquarantined executions per UTC day and duration in ms, all agents (grain: day, duration_ms): exact percentiles over any days by a running sum';
comment on column marts.duration_histogram_daily.day is 'UTC day the executions were created';
comment on column marts.duration_histogram_daily.duration_ms is 'running time in milliseconds';
comment on column marts.duration_histogram_daily.executions is 'completed executions that day with that duration';
