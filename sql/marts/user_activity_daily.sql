-- marts.user_activity_daily: one row per (user_id, day) with executions (grain: user_id, day).
-- Active users over any range of days are count(distinct user_id) here: ~3M rows at 10M
-- executions instead of a distinct over every execution (bench/dashboards.py). Quarantined
-- and anonymous executions are left out, as in marts.agent_usage_daily.
-- Rebuilds the days in [$start_day, $end_day).
-- materialized: day_partitioned
-- partition_day: day
-- grain: user_id, day
-- report: rows = count(*), executions = coalesce(sum(executions), 0)
create table if not exists marts.user_activity_daily (
    day date not null,
    user_id bigint not null,
    executions bigint not null,
    agents bigint not null
);

delete from marts.user_activity_daily where day >= $start_day and day < $end_day;

insert into marts.user_activity_daily
select created_at::date as day, user_id, count(*) as executions,
       count(distinct agent_id) as agents
from intermediate.executions_all
where not is_quarantined and user_id is not null
  and created_at >= $start_day and created_at < $end_day
group by all
order by day, user_id;

comment on table marts.user_activity_daily is
    'Users active per UTC day (grain: user_id, day): executions created that day, quarantined and anonymous ones left out';
comment on column marts.user_activity_daily.day is 'UTC day the executions were created';
comment on column marts.user_activity_daily.user_id is 'users.id';
comment on column marts.user_activity_daily.executions is 'the user''s executions that day, any status';
comment on column marts.user_activity_daily.agents is 'distinct agents those executions ran on';
