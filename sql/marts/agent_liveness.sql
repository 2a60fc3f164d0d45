-- marts.agent_liveness: agents whose heartbeat is older than the threshold (grain: agent_id).
-- Parameters: $run_at, $stale_after_minutes. Approved and active agents only: the others are
-- not expected to be running.
-- materialized: table
-- grain: agent_id
-- report: silent_agents = count(*)
-- config: stale_after_minutes = 30 (minutes a heartbeat may be old before the agent counts as silent)
create or replace table marts.agent_liveness as
with
agents as (
    select agent_id, agent_name, status, last_heartbeat_at
    from intermediate.valid_agents
    where status in ('approved', 'active')
),
beats as (
    select agent_id, max(recorded_at) as last_heartbeat_point_at
    from intermediate.valid_agent_metrics
    where metric_name = 'heartbeat'
    group by agent_id
)
select a.agent_id, a.agent_name, a.status,
       greatest(a.last_heartbeat_at, b.last_heartbeat_point_at) as last_heartbeat_at,
       date_diff('minute', greatest(a.last_heartbeat_at, b.last_heartbeat_point_at), $run_at)
           as minutes_since_heartbeat,
       $run_at as checked_at
from agents as a
left join beats as b using (agent_id)
where greatest(a.last_heartbeat_at, b.last_heartbeat_point_at) is null
   or greatest(a.last_heartbeat_at, b.last_heartbeat_point_at)
      < $run_at - to_minutes($stale_after_minutes);

comment on table marts.agent_liveness is
    'Approved or active agents whose last heartbeat is older than the threshold, or that never sent one (grain: agent_id)';
comment on column marts.agent_liveness.last_heartbeat_at is 'latest heartbeat (agents.last_heartbeat_at or a heartbeat point); NULL if none';
comment on column marts.agent_liveness.minutes_since_heartbeat is 'minutes between that heartbeat and checked_at';
comment on column marts.agent_liveness.checked_at is 'the run that checked (UTC)';
comment on column marts.agent_liveness.agent_id is 'agents.id';
comment on column marts.agent_liveness.agent_name is 'agents.name';
comment on column marts.agent_liveness.status is 'agents.status (approved or active)';
