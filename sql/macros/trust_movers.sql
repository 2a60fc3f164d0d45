-- trust_movers(start_day, end_day): each agent whose trust moved in the UTC days
-- [start_day, end_day): its score before the period's first event, after its last (in the
-- trust model's order), the change and the events, from the per-day first and last scores of
-- marts.agent_trust_daily. Order by abs(change) for the biggest movers.
create or replace temp macro trust_movers(start_day, end_day) as table
with moved as (
    select agent_id,
           arg_min(score_before, day) as score_before,
           arg_max(score_after, day) as score_after,
           sum(events)::bigint as events
    from marts.agent_trust_daily
    where day >= start_day and day < end_day
    group by agent_id
)
select agent_id, score_before, score_after, score_after - score_before as change, events
from moved;
