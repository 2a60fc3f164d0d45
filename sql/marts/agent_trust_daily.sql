-- marts.agent_trust_daily: each agent's trust per UTC day it had events (grain: agent_id, day):
-- the score before the day's first event and after its last, the change and the events. A
-- window's movers are then a first/last over a few thousand rows instead of every event
-- (10M events: 410 -> ~50 ms; bench/dashboards.py).
-- "First" and "last" are in the trust model's own order, (occurred_at, event key), never by
-- seq: a recompute re-applies an agent's events from a cut, and the events the platform
-- already has keep their old seq, so seq order is not the order the scores follow
-- (tests/pipelines/test_incremental.py caught it: incremental and rebuilt disagreed).
-- Rebuilt whole each run (0.5-0.7 s over 10M events): a recompute deletes and re-appends an
-- agent's events, which a watermark would miss.
-- materialized: table
-- grain: agent_id, day
-- report: rows = count(*), events = coalesce(sum(events), 0)
create or replace table marts.agent_trust_daily as
with
days as (
    select agent_id, occurred_at::date as day,
           min(occurred_at) as first_event_at, max(occurred_at) as last_event_at,
           count(*) as events
    from marts.trust_events
    group by all
),
-- Ties on a timestamp are broken by the event key, as the model does (sql/marts/trust/
-- 03_pending.sql). Two equality joins on the day's first and last instant: 0.5-0.7 s over 10M
-- events, where arg_min over an (occurred_at, key) struct took 0.9 s.
firsts as (
    select d.agent_id, d.day,
           arg_min(e.trust_score_before, coalesce('execution:' || e.source_execution_id,
                                                  'review:' || e.source_review_id))
               as score_before
    from days as d
    join marts.trust_events as e on e.agent_id = d.agent_id and e.occurred_at = d.first_event_at
    group by all
),
lasts as (
    select d.agent_id, d.day,
           arg_max(e.trust_score_after, coalesce('execution:' || e.source_execution_id,
                                                 'review:' || e.source_review_id))
               as score_after
    from days as d
    join marts.trust_events as e on e.agent_id = d.agent_id and e.occurred_at = d.last_event_at
    group by all
)
select d.agent_id, d.day, f.score_before, l.score_after,
       l.score_after - f.score_before as change,
       d.first_event_at, d.last_event_at, d.events
from days as d
join firsts as f using (agent_id, day)
join lasts as l using (agent_id, day)
order by d.day, d.agent_id;

comment on table marts.agent_trust_daily is
    'Trust per agent and UTC day with events (grain: agent_id, day): score before the first and after the last event of the day, in the order the trust model applies them';
comment on column marts.agent_trust_daily.agent_id is 'agents.id';
comment on column marts.agent_trust_daily.day is 'UTC day the events occurred';
comment on column marts.agent_trust_daily.score_before is 'trust_score_before of the day''s first event (by occurred_at, then event key)';
comment on column marts.agent_trust_daily.score_after is 'trust_score_after of the day''s last event (by occurred_at, then event key)';
comment on column marts.agent_trust_daily.change is 'score_after - score_before';
comment on column marts.agent_trust_daily.first_event_at is 'when the day''s first event occurred (UTC)';
comment on column marts.agent_trust_daily.last_event_at is 'when the day''s last event occurred (UTC)';
comment on column marts.agent_trust_daily.events is 'events that day';
