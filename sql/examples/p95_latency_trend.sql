-- Is the platform getting slower?
-- p50 and p95 duration of completed executions per week, exact: computed over each week's
-- durations, never averaged from daily percentiles.
-- Per agent: add agent_id to the select, the group by and the window's partition.
-- Run: .venv/bin/duckdb -readonly data/warehouse.duckdb < sql/examples/p95_latency_trend.sql
with weekly as (
    select date_trunc('week', day)::date as week,
           count(*) as completed,
           quantile_cont(duration_ms, 0.5) as p50_ms,
           quantile_cont(duration_ms, 0.95) as p95_ms
    from marts.execution_durations
    group by week
)
select week, completed, p50_ms, p95_ms,
       round(p95_ms / lag(p95_ms) over (order by week), 3) as p95_vs_previous_week
from weekly
order by week;
