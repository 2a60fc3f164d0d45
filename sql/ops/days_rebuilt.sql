-- ops.days_rebuilt: the days the day-partitioned marts were rebuilt for, with what each holds
-- for the day (grain: day). It runs after every daily mart of the partition run (it reads
-- them), so a day leaves ops.pending_days only once all of them were rebuilt for it.
-- Rebuilds the days in [$start_day, $end_day).
-- materialized: day_partitioned
-- partition_day: day
-- grain: day
-- report: days = count(*)
create table if not exists ops.days_rebuilt (
    day date not null,
    rebuilt_at timestamp not null,
    usage_rows bigint not null,
    execution_durations bigint not null,
    histogram_rows bigint not null,
    user_activity_rows bigint not null,
    hourly_buckets bigint not null,
    daily_buckets bigint not null
);

delete from ops.days_rebuilt where day >= $start_day and day < $end_day;

insert into ops.days_rebuilt
with days as (
    select unnest(generate_series($start_day::date, $end_day::date - 1, interval 1 day))::date as day
)
select d.day, $run_at,
       (select count(*) from marts.agent_usage_daily as u where u.day = d.day),
       (select count(*) from marts.execution_durations as x where x.day = d.day),
       (select count(*) from marts.duration_histogram_daily as h where h.day = d.day),
       (select count(*) from marts.user_activity_daily as a where a.day = d.day),
       (select count(*) from marts.metrics_rollup_hourly as m
         where m.bucket_start >= d.day and m.bucket_start < d.day + 1),
       (select count(*) from marts.metrics_rollup_daily as m
         where m.bucket_start >= d.day and m.bucket_start < d.day + 1)
from days as d;

delete from ops.pending_days where day >= $start_day and day < $end_day;

comment on table ops.days_rebuilt is
    'The days the day-partitioned marts were last rebuilt for (grain: day), with the rows each holds for the day';
comment on column ops.days_rebuilt.rebuilt_at is 'when the partition run that rebuilt the day ran (UTC)';
