-- marts.execution_durations: the duration of every completed execution, narrow and sorted:
-- one row per completed, unquarantined execution with a duration (archived ones included),
-- kept in (day, agent_id, duration_ms) order. Exact percentiles of any range of days, for all
-- agents or per agent, read ~9M small sorted integers here instead of the wide
-- marts.executions_all (10M executions: the Agents table's p50/p95/p99 520 -> 180 ms, the
-- Overview's p95 235 -> 130 ms; bench/dashboards.py). Percentiles of days are never averaged
-- from marts.agent_usage_daily's daily ones.
-- Rebuilds the days in [$start_day, $end_day) like marts.agent_usage_daily.
-- materialized: day_partitioned
-- partition_day: day
-- report: rows = count(*)
create table if not exists marts.execution_durations (
    day date not null,
    agent_id integer not null,
    duration_ms integer not null
);

delete from marts.execution_durations where day >= $start_day and day < $end_day;

insert into marts.execution_durations
select created_at::date as day, agent_id::integer, duration_ms::integer
from intermediate.executions_all
where status = 'completed' and not is_quarantined and duration_ms is not null
  and created_at >= $start_day and created_at < $end_day
order by day, agent_id, duration_ms;

comment on table marts.execution_durations is
    'Durations of completed, unquarantined executions (archived included), one row each, sorted by day, agent_id, duration_ms: for exact percentiles over any days';
comment on column marts.execution_durations.day is 'UTC day the execution was created';
comment on column marts.execution_durations.agent_id is 'agents.id';
comment on column marts.execution_durations.duration_ms is 'running time in milliseconds';
