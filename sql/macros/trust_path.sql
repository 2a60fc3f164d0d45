-- trust_path(agent, start_day, end_day): one agent's trust score through the UTC days
-- [start_day, end_day), one row per hour with events: the score after the hour's last event
-- (in the trust model's order: occurred_at, then the event's source, not seq, which a
-- recompute keeps for events the platform already has), the events and their summed change.
-- An agent may have hundreds of thousands of events; a chart needs the path.
create or replace temp macro trust_path(agent, start_day, end_day) as table
select date_trunc('hour', occurred_at) as hour,
       arg_max(trust_score_after, (occurred_at, coalesce(
           'execution:' || source_execution_id, 'review:' || source_review_id))) as trust_score,
       count(*) as events,
       sum(trust_delta) as change
from marts.trust_events
where agent_id = agent and occurred_at >= start_day and occurred_at < end_day
group by hour;
