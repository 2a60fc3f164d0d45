-- Whose trust moved most over the last 7 days of data, up or down, and on how many events?
-- The same figure as the Trust page's movers: the trust_movers macro (sql/macros/) over
-- marts.agent_trust_daily; marts.trust_events holds every event with its reason, for the why.
-- Run from the repository's root (.read paths are relative to it):
--   .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/trust_movers.sql
.read sql/macros/trust_movers.sql

set variable last_day = (select max(day) from marts.agent_trust_daily);

select s.agent_name,
       m.agent_id,
       round(m.score_before, 3) as score_before,
       round(m.score_after, 3) as score_after,
       round(m.change, 3) as change,
       m.events
from trust_movers(getvariable('last_day') - 6, getvariable('last_day') + 1) as m
left join marts.agent_usage_summary as s using (agent_id)
order by abs(m.change) desc, m.agent_id
limit 10;
