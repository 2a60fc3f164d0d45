-- Whose trust moved most over the last 7 days of data, up or down, and on how many events?
-- From marts.agent_trust_daily (trust before each day's first event and after its last);
-- marts.trust_events holds every event with its reason, for the why.
-- Run: .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/trust_movers.sql
with window_days as (
    select max(day) - 6 as first_day from marts.agent_trust_daily
),
moved as (
    select agent_id,
           arg_min(score_before, day) as score_before,
           arg_max(score_after, day) as score_after,
           sum(events)::bigint as events
    from marts.agent_trust_daily, window_days
    where day >= window_days.first_day
    group by agent_id
)
select s.agent_name,
       m.agent_id,
       round(m.score_before, 3) as score_before,
       round(m.score_after, 3) as score_after,
       round(m.score_after - m.score_before, 3) as change,
       m.events
from moved as m
left join marts.agent_usage_summary as s using (agent_id)
order by abs(m.score_after - m.score_before) desc, m.agent_id
limit 10;
