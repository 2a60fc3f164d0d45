-- marts.metrics_rollup_daily: per agent, metric and UTC day (grain: agent_id, metric_name,
-- bucket_start). Rebuilds the buckets in [$start_day, $end_day) from the points themselves
-- (delete the slice, insert it again): a late point re-aggregates its bucket exactly.
-- Percentiles come from the points, never from hourly percentiles.
-- materialized: day_partitioned
-- partition_day: bucket_start::date
-- grain: agent_id, metric_name, bucket_start
-- report: buckets = count(*), samples = coalesce(sum(samples), 0)
create table if not exists marts.metrics_rollup_daily (
    agent_id bigint not null,
    metric_name varchar not null,
    bucket_start timestamp not null,
    samples bigint not null,
    sum double not null,
    min double not null,
    max double not null,
    avg double not null,
    p50 double not null,
    p95 double not null,
    p99 double not null
);

delete from marts.metrics_rollup_daily
where bucket_start >= $start_day and bucket_start < $end_day;

insert into marts.metrics_rollup_daily
select * from metric_points_rollup('day', $start_day, $end_day);

comment on table marts.metrics_rollup_daily is
    'Agent metric points rolled up per UTC day (grain: agent_id, metric_name, bucket_start)';
comment on column marts.metrics_rollup_daily.bucket_start is 'start of the UTC day';
comment on column marts.metrics_rollup_daily.samples is 'points in the bucket';
comment on column marts.metrics_rollup_daily.sum is 'sum of the points';
comment on column marts.metrics_rollup_daily.min is 'smallest point';
comment on column marts.metrics_rollup_daily.max is 'largest point';
comment on column marts.metrics_rollup_daily.avg is 'mean of the points';
comment on column marts.metrics_rollup_daily.p50 is 'median of the points (exact, interpolated)';
comment on column marts.metrics_rollup_daily.p95 is '95th percentile of the points';
comment on column marts.metrics_rollup_daily.p99 is '99th percentile of the points';
comment on column marts.metrics_rollup_daily.agent_id is 'agents.id reporting the metric';
comment on column marts.metrics_rollup_daily.metric_name is 'metric, e.g. cpu_usage, memory_mb, queue_depth, heartbeat';
