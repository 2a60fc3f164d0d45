-- ops.touched_days: the UTC days whose daily partitions this run asks to rebuild (grain: day):
-- the days of the executions, hirings and metric points ingested since the previous run, late
-- ones included, and of those found deleted on the platform (ops.platform_deletions), plus every day still owed from earlier runs (ops.pending_days: a run that
-- failed after touching a day, or a partition run that failed). The touched_days sensor and
-- `agenthub pipeline run` read them from this asset's metadata; ops.days_rebuilt settles them.
-- "Since the previous run" is the touched_days cursor in ops.watermarks (advanced_at: the
-- newest _ingested_at already recorded as owed), moved in the same statement batch.
-- Days outside the daily partitions ($first_day to tomorrow) are left out: a clock far ahead
-- or far behind on the platform is no partition to build.
-- Parameters: $run_at, $first_day.
-- materialized: table
-- grain: day
-- report: touched_days = list(strftime(day, '%Y-%m-%d') order by day), count = count(*)
create or replace temp table _touched as
with
since as (
    select coalesce(max(advanced_at), timestamp '1970-01-01') as ingested_after
    from ops.watermarks where table_name = 'touched_days'
),
touched as (
    select created_at::date as day, _ingested_at from staging.stg_executions
    union all select hired_at::date, _ingested_at from staging.stg_hirings
    union all select recorded_at::date, _ingested_at from staging.stg_agent_metrics
    -- rows deleted on the platform by hand: their days lose them
    union all select day, detected_at from ops.platform_deletions
    where table_name in ('executions', 'hirings', 'agent_metrics')
)
select day, _ingested_at
from touched, since
where _ingested_at > since.ingested_after;

-- (merges by key: the DuckLake warehouse has no primary keys to replace on)
merge into ops.pending_days as p
using (
    select day, $run_at as touched_at from _touched
    where day is not null and day >= $first_day and day <= current_date + 1
    group by day
) as s
on p.day = s.day
when not matched then insert *;

merge into ops.watermarks as w
using (
    select 'touched_days' as table_name, null::timestamp as updated_at, 0::bigint as last_id,
           max(_ingested_at) as advanced_at
    from _touched having count(*) > 0
) as s
on w.table_name = s.table_name
when matched then update set * when not matched then insert *;

drop table _touched;

create or replace table ops.touched_days as
select day, touched_at from ops.pending_days order by day;

comment on table ops.touched_days is
    'UTC days whose daily partitions this pipeline run asks to rebuild (grain: day): touched by its new rows, or still owed from an earlier run';
comment on column ops.touched_days.touched_at is 'when a pipeline run first found new rows on that day (UTC)';
