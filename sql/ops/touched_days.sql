-- ops.touched_days: the UTC days whose executions, hirings or metric points arrived since the
-- previous run, late ones included (grain: day): the daily partitions to rebuild. The
-- touched_days sensor and `agenthub pipeline run` read them from this asset's metadata.
-- "Since the previous run" is the touched_days cursor in ops.watermarks (advanced_at: the
-- newest _ingested_at already handed to the partitions), moved in the same statement batch.
-- Days after tomorrow are left out: a clock far ahead on the platform is no partition to build.
-- materialized: table
-- grain: day
-- report: touched_days = list(strftime(day, '%Y-%m-%d') order by day), count = count(*)
create or replace table ops.touched_days as
with
since as (
    select coalesce(max(advanced_at), timestamp '1970-01-01') as ingested_after
    from ops.watermarks where table_name = 'touched_days'
),
touched as (
    select created_at::date as day, _ingested_at from raw.executions
    union all select hired_at::date, _ingested_at from raw.hirings
    union all select recorded_at::date, _ingested_at from raw.agent_metrics
)
select day, max(_ingested_at) as newest_ingested_at
from touched, since
where _ingested_at > since.ingested_after and day is not null and day <= current_date + 1
group by day
order by day;

insert or replace into ops.watermarks
select 'touched_days', null, 0, max(newest_ingested_at)
from ops.touched_days
having count(*) > 0;

comment on table ops.touched_days is
    'UTC days touched by the rows the latest pipeline run ingested (grain: day): the daily partitions it rebuilt';
comment on column ops.touched_days.newest_ingested_at is 'the newest _ingested_at among that day''s new rows';
