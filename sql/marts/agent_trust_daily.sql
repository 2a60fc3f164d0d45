-- marts.agent_trust_daily: each agent's trust per UTC day it had events (grain: agent_id, day):
-- the score before the day's first event and after its last, the change and the events. A
-- window's movers are then a first/last over a few thousand rows instead of every event
-- (10M events: 410 -> ~50 ms; bench/dashboards.py).
-- "First" and "last" are in the trust model's own order, (occurred_at, event key), never by
-- seq: a recompute re-applies an agent's events from a cut, and the events the platform
-- already has keep their old seq, so seq order is not the order the scores follow
-- (tests/pipelines/test_incremental.py caught it: incremental and rebuilt disagreed).
-- Incremental: only the agents the trust model owes (ops.trust_days_owed: new and late events
-- from their first day, a recompute from its cut) are rebuilt, from that day on: delete the
-- slice, insert it again from marts.trust_events (an hourly run reads a day of events, where
-- the whole rebuild read all of them: 1.1 s at 10M). An empty table with trust events (a new
-- or emptied warehouse) is rebuilt whole. The owed rows go in the same transaction.
-- materialized: incremental
-- grain: agent_id, day
-- report: rows = count(*), events = coalesce(sum(events), 0)
create table if not exists marts.agent_trust_daily (
    agent_id bigint,
    day date,
    score_before double,
    score_after double,
    change double,
    first_event_at timestamp,
    last_event_at timestamp,
    events bigint
);

-- Per agent the first day owed (NULL: every day).
create or replace temp table _trust_daily_owed as
select agent_id, case when bool_or(from_day is null) then null else min(from_day) end as from_day
from ops.trust_days_owed
group by agent_id
union all
-- a new or emptied table while the model has state: every agent with events, whole
select agent_id, null
from marts.agent_trust
where last_event_at is not null
  and not exists (select 1 from marts.agent_trust_daily)
  and agent_id not in (select agent_id from ops.trust_days_owed);

-- The earliest instant any owed slice starts: marts.trust_events is sorted by time, so the
-- read below skips the files and row groups before it.
set variable trust_daily_from = (
    select coalesce(min(coalesce(from_day, date '-infinity')), date 'infinity')::timestamp
    from _trust_daily_owed
);

-- a view, not a copy: a first run's slice is every event (10M: ~800 MB held in memory)
create or replace temp view _trust_daily_events as
select e.agent_id, e.occurred_at, e.trust_score_before, e.trust_score_after,
       e.source_execution_id, e.source_review_id
from marts.trust_events as e
join _trust_daily_owed as o using (agent_id)
where e.occurred_at >= getvariable('trust_daily_from')
  and (o.from_day is null or e.occurred_at >= o.from_day);

delete from marts.agent_trust_daily as d
where exists (
    select 1 from _trust_daily_owed as o
    where o.agent_id = d.agent_id and (o.from_day is null or d.day >= o.from_day)
);

insert into marts.agent_trust_daily
with
days as (
    select agent_id, occurred_at::date as day,
           min(occurred_at) as first_event_at, max(occurred_at) as last_event_at,
           count(*) as events
    from _trust_daily_events
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
    join _trust_daily_events as e on e.agent_id = d.agent_id and e.occurred_at = d.first_event_at
    group by all
),
lasts as (
    select d.agent_id, d.day,
           arg_max(e.trust_score_after, coalesce('execution:' || e.source_execution_id,
                                                 'review:' || e.source_review_id))
               as score_after
    from days as d
    join _trust_daily_events as e on e.agent_id = d.agent_id and e.occurred_at = d.last_event_at
    group by all
)
select d.agent_id, d.day, f.score_before, l.score_after,
       l.score_after - f.score_before as change,
       d.first_event_at, d.last_event_at, d.events
from days as d
join firsts as f using (agent_id, day)
join lasts as l using (agent_id, day)
order by d.day, d.agent_id;

delete from ops.trust_days_owed;
drop table _trust_daily_owed;
drop view _trust_daily_events;
reset variable trust_daily_from;


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
