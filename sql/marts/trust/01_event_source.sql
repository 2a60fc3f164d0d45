-- Trust step 1 (pipelines/trust/model.py runs the steps in order, in one transaction).
-- Inputs: intermediate.executions_all (clean terminal executions), intermediate.valid_agent_reviews,
-- _trust_scope (temp: agent_id, cut_at; agents whose events from cut_at on are wanted, every
-- event when cut_at is NULL; empty on the first pass).
-- Output (temp): _trust_source.
-- _trust_source (temp): the events that move an agent's trust, with their evidence: the
-- executions changed since $since (the trust cursor: executions_all.changed_at of the last
-- update; NULL reads every execution), every review (few), and the events of the agents in
-- _trust_scope (step 2 puts there the agents a late event makes recompute from a cut).
-- Grain: one row per event. Terminal executions (completed v=+1, failed v=-1, timeout v=-1
-- with its own weight; cancelled moves nothing) and reviews (v = (rating - 3) / 2).
-- record_id is derived from the model version and the source event, so an event applied
-- twice is recognised, and a change of parameters (a new version) recomputes everything.
-- Parameters: $model_version, $timeout_weight, $review_weight, $since.
-- step: marts.trust_events, marts.agent_trust
create temp table if not exists _trust_scope (agent_id bigint, cut_at timestamp);

create or replace temp table _trust_source as
with
executions as (
    select e.agent_id, e.execution_id, e.status, e.completed_at, e.error_message
    from intermediate.executions_all as e
    left join _trust_scope as s using (agent_id)
    where not e.is_quarantined
      and e.status in ('completed', 'failed', 'timeout')
      and e.completed_at is not null
      and ($since is null
           or e.changed_at > $since
           or (s.agent_id is not null and (s.cut_at is null or e.completed_at >= s.cut_at)))
),
reviews as (
    select review_id, agent_id, rating, created_at from intermediate.valid_agent_reviews
),
events as (
    select agent_id,
           'execution:' || execution_id as event_key,
           'execution_' || status as event_type,
           execution_id as source_execution_id,
           null::bigint as source_review_id,
           completed_at as occurred_at,
           case status when 'completed' then 1.0 else -1.0 end as evidence_value,
           case status when 'timeout' then $timeout_weight else 1.0 end as evidence_weight,
           case status
               when 'completed' then 'execution completed'
               when 'failed' then 'execution failed: ' || coalesce(left(error_message, 200), 'no message')
               else 'execution timed out'
           end as reason
    from executions
    union all
    select agent_id,
           'review:' || review_id,
           'review',
           null,
           review_id,
           created_at,
           (rating - 3) / 2.0,
           $review_weight,
           'review rated ' || rating || '/5'
    from reviews
)
select md5($model_version || '|' || event_key) as record_id, *
from events;
