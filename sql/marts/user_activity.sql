-- marts.user_activity: one row per user (grain: user_id), all time.
-- Hirings and executions are aggregated on their own, then joined to users.
-- materialized: table
-- grain: user_id
-- report: rows = count(*)
create or replace table marts.user_activity as
with
users as (select user_id, username from intermediate.valid_users),
hiring_stats as (
    select user_id, count(distinct agent_id) as agents_hired
    from intermediate.valid_hirings
    where user_id is not null
    group by user_id
),
execution_stats as (
    select user_id,
           count(*) as total_executions,
           count(*) filter (where status in ('failed', 'timeout')) as failed_executions,
           max(created_at) as last_execution_at
    from intermediate.executions_all
    where not is_quarantined and user_id is not null
    group by user_id
)
select u.user_id, u.username,
       coalesce(h.agents_hired, 0) as agents_hired,
       coalesce(e.total_executions, 0) as total_executions,
       coalesce(e.failed_executions, 0) as failed_executions,
       e.last_execution_at
from users as u
left join hiring_stats as h using (user_id)
left join execution_stats as e using (user_id);

comment on table marts.user_activity is 'All-time activity per user (grain: user_id)';
comment on column marts.user_activity.user_id is 'users.id';
comment on column marts.user_activity.username is 'users.username';
comment on column marts.user_activity.agents_hired is 'distinct agents the user has hired';
comment on column marts.user_activity.total_executions is 'executions run for the user, those purged from the platform included';
comment on column marts.user_activity.failed_executions is 'of which failed or timed out';
comment on column marts.user_activity.last_execution_at is 'latest execution created (UTC)';
