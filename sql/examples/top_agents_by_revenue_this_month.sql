-- Which agents earned the most this month, and how busy and reliable were they?
-- "This month" is the calendar month of the newest day in the warehouse, so the answer stays
-- meaningful on a warehouse that was last refreshed a while ago.
-- Run: .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/top_agents_by_revenue_this_month.sql
with month as (
    select date_trunc('month', max(day))::date as first_day from marts.agent_usage_daily
)
select s.agent_name,
       d.agent_id,
       round(sum(d.revenue), 2) as revenue,
       sum(d.executions)::bigint as executions,
       round(sum(d.completed) / nullif(sum(d.completed + d.failed + d.timed_out), 0), 3)
           as success_rate,
       s.average_rating,
       round(t.trust_score, 3) as trust_score
from marts.agent_usage_daily as d
join month on d.day >= month.first_day
left join marts.agent_usage_summary as s using (agent_id)
left join marts.agent_trust as t using (agent_id)
group by all
order by revenue desc, executions desc
limit 10;
