-- marts.agent_usage_summary: one row per agent, all time (grain: agent_id).
-- Executions come from intermediate.executions_all (every execution ever ingested, purged ones
-- included), quarantined rows left out;
-- hirings, executions and reviews are each aggregated on their own, then joined to agents.
-- Parameter: $run_at (what "active" hirings are measured against).
-- materialized: table
-- grain: agent_id
-- report: rows = count(*)
create or replace table marts.agent_usage_summary as
with
agents as (select agent_id, agent_name from intermediate.valid_agents),
hiring_stats as (
    select agent_id,
           count(*) as total_hirings,
           count(*) filter (
               where status = 'active' and (expires_at is null or expires_at > $run_at)
           ) as active_hirings
    from intermediate.valid_hirings
    group by agent_id
),
execution_stats as (
    select agent_id,
           count(*) as total_executions,
           count(*) filter (where status = 'completed') /
               nullif(count(*) filter (where status in ('completed', 'failed', 'timeout')), 0)
               as success_rate,
           avg(duration_ms) filter (where status = 'completed') as avg_duration_ms,
           quantile_cont(duration_ms, 0.95) filter (where status = 'completed')
               as p95_duration_ms,
           count(distinct user_id) as unique_users,
           min(created_at) as first_execution_at,
           max(created_at) as last_execution_at
    from intermediate.executions_all
    where not is_quarantined
    group by agent_id
),
review_stats as (
    select agent_id, avg(rating) as average_rating, count(*) as rating_count
    from intermediate.valid_agent_reviews
    group by agent_id
),
trust as (select agent_id, trust_score from marts.agent_trust)
select a.agent_id, a.agent_name,
       coalesce(h.total_hirings, 0) as total_hirings,
       coalesce(h.active_hirings, 0) as active_hirings,
       coalesce(e.total_executions, 0) as total_executions,
       e.success_rate, e.avg_duration_ms, e.p95_duration_ms,
       coalesce(e.unique_users, 0) as unique_users,
       r.average_rating,
       coalesce(r.rating_count, 0) as rating_count,
       coalesce(t.trust_score, 0.5) as trust_score,
       e.first_execution_at, e.last_execution_at
from agents as a
left join hiring_stats as h using (agent_id)
left join execution_stats as e using (agent_id)
left join review_stats as r using (agent_id)
left join trust as t using (agent_id);

comment on table marts.agent_usage_summary is 'All-time usage per agent (grain: agent_id), executions purged from the platform included';
comment on column marts.agent_usage_summary.agent_id is 'agents.id';
comment on column marts.agent_usage_summary.agent_name is 'agents.name';
comment on column marts.agent_usage_summary.total_hirings is 'hirings ever made';
comment on column marts.agent_usage_summary.active_hirings is 'hirings with status active that have not expired';
comment on column marts.agent_usage_summary.total_executions is 'executions ever run, those purged from the platform included';
comment on column marts.agent_usage_summary.success_rate is 'completed / (completed + failed + timeout)';
comment on column marts.agent_usage_summary.avg_duration_ms is 'mean duration of completed executions, ms';
comment on column marts.agent_usage_summary.p95_duration_ms is '95th percentile duration of completed executions, ms';
comment on column marts.agent_usage_summary.unique_users is 'distinct users that ran it';
comment on column marts.agent_usage_summary.average_rating is 'mean review rating (1-5); NULL without reviews';
comment on column marts.agent_usage_summary.rating_count is 'number of reviews';
comment on column marts.agent_usage_summary.trust_score is 'current trust score from marts.agent_trust (0.5 without evidence)';
comment on column marts.agent_usage_summary.first_execution_at is 'first execution created (UTC)';
comment on column marts.agent_usage_summary.last_execution_at is 'latest execution created (UTC)';
