-- marts.agent_alerts: agents that need attention now, one row per (agent, rule) that fired.
-- Four rules over the last 24 hours before $run_at, each against the agent's own baseline
-- (the 7 days before those 24 hours), so a slow or flaky agent is judged against itself:
--   error_rate        failed + timed-out share of finished executions, at least
--                     $error_rate_ratio_percent % of the baseline share and
--                     $error_rate_min_increase_points percentage points above it;
--   p95_latency       p95 duration of completed executions, at least $p95_ratio_percent % of
--                     the baseline p95 (exact percentiles over the executions of each window,
--                     never an average of daily percentiles);
--   stale_heartbeat   an approved or active agent silent for more than $stale_after_minutes
--                     (as marts.agent_liveness, whose threshold has the same default);
--   trust_drop        trust fell by at least $trust_drop_thousandths / 1000 over events that
--                     occurred in the window (score now minus the score before the first of
--                     them to occur).
-- The rate and latency rules need $min_executions in the window and in the baseline, so a
-- handful of executions never raises an alert. The asset check agent_alerts/none_firing
-- (WARN) lists the same rows in the Dagster UI; the dashboards' Overview shows them.
-- materialized: table
-- grain: agent_id, rule
-- report: alerts = count(*), agents = count(distinct agent_id)
-- config: min_executions = 20 (executions needed in the last 24 h and in the baseline before a rate or latency rule applies)
-- config: error_rate_ratio_percent = 200 (error rate in the last 24 h, as a percentage of the agent's 7-day baseline, that raises an alert)
-- config: error_rate_min_increase_points = 10 (and at least this many percentage points above the baseline)
-- config: p95_ratio_percent = 150 (p95 latency in the last 24 h, as a percentage of the 7-day baseline, that raises an alert)
-- config: stale_after_minutes = 30 (minutes a heartbeat may be old before the agent counts as silent)
-- config: trust_drop_thousandths = 50 (trust score drop over the last 24 h, in thousandths, that raises an alert)
create or replace table marts.agent_alerts as
with
windows as (
    select agent_id,
           created_at >= $run_at - interval 24 hour as recent,
           status, duration_ms
    from intermediate.executions_all
    where not is_quarantined
      and created_at >= $run_at - interval 8 day and created_at < $run_at
      and status in ('completed', 'failed', 'timeout')
),
rates as (
    select agent_id,
           count(*) filter (where recent) as recent_n,
           count(*) filter (where not recent) as baseline_n,
           count(*) filter (where recent and status <> 'completed')
               / nullif(count(*) filter (where recent), 0) as recent_rate,
           count(*) filter (where not recent and status <> 'completed')
               / nullif(count(*) filter (where not recent), 0) as baseline_rate,
           quantile_cont(duration_ms, 0.95) filter (where recent and status = 'completed')
               as recent_p95,
           quantile_cont(duration_ms, 0.95) filter (where not recent and status = 'completed')
               as baseline_p95,
           count(*) filter (where recent and status = 'completed') as recent_completed,
           count(*) filter (where not recent and status = 'completed') as baseline_completed
    from windows
    group by agent_id
),
error_rate as (
    select agent_id, 'error_rate' as rule, recent_rate as observed, baseline_rate as baseline,
           greatest(baseline_rate * $error_rate_ratio_percent / 100.0,
                    baseline_rate + $error_rate_min_increase_points / 100.0) as threshold,
           recent_n as executions,
           format('{:.1f}% of {} finished executions failed or timed out in the last 24 h, '
                  || 'against {:.1f}% of {} in the 7 days before',
                  100 * recent_rate, recent_n, 100 * baseline_rate, baseline_n) as detail
    from rates
    where recent_n >= $min_executions and baseline_n >= $min_executions
      and recent_rate >= baseline_rate * $error_rate_ratio_percent / 100.0
      and recent_rate >= baseline_rate + $error_rate_min_increase_points / 100.0
),
p95_latency as (
    select agent_id, 'p95_latency' as rule, recent_p95 as observed, baseline_p95 as baseline,
           baseline_p95 * $p95_ratio_percent / 100.0 as threshold,
           recent_completed as executions,
           format('p95 {:,.0f} ms over {} completed executions in the last 24 h, against '
                  || '{:,.0f} ms over {} in the 7 days before',
                  recent_p95, recent_completed, baseline_p95, baseline_completed) as detail
    from rates
    where recent_completed >= $min_executions and baseline_completed >= $min_executions
      and recent_p95 >= baseline_p95 * $p95_ratio_percent / 100.0
),
beats as (
    select agent_id, max(recorded_at) as last_point_at
    from intermediate.valid_agent_metrics
    where metric_name = 'heartbeat'
    group by agent_id
),
stale_heartbeat as (
    select a.agent_id, 'stale_heartbeat' as rule,
           date_diff('minute', greatest(a.last_heartbeat_at, b.last_point_at), $run_at)::double
               as observed,
           null::double as baseline,
           $stale_after_minutes::double as threshold,
           null::bigint as executions,
           case when greatest(a.last_heartbeat_at, b.last_point_at) is null
                then 'never sent a heartbeat'
                else format('last heartbeat {} minutes ago ({}), limit {} minutes',
                            date_diff('minute', greatest(a.last_heartbeat_at, b.last_point_at),
                                      $run_at),
                            strftime(greatest(a.last_heartbeat_at, b.last_point_at),
                                     '%Y-%m-%d %H:%M'),
                            $stale_after_minutes)
           end as detail
    from intermediate.valid_agents as a
    left join beats as b using (agent_id)
    where a.status in ('approved', 'active')
      and (greatest(a.last_heartbeat_at, b.last_point_at) is null
           or greatest(a.last_heartbeat_at, b.last_point_at)
              < $run_at - to_minutes($stale_after_minutes))
),
recent_events as (
    select agent_id,
           -- By when events occurred (record_id breaks ties), not by seq: seq is the order a
           -- run applied them, which differs between incremental runs and a rebuild.
           arg_min(trust_score_before, (occurred_at, record_id)) as score_before,
           count(*) as events
    from marts.trust_events
    where occurred_at >= $run_at - interval 24 hour and occurred_at < $run_at
    group by agent_id
),
trust_drop as (
    select e.agent_id, 'trust_drop' as rule, t.trust_score as observed,
           e.score_before as baseline,
           e.score_before - $trust_drop_thousandths / 1000.0 as threshold,
           e.events as executions,
           format('trust {:.3f} -> {:.3f} ({:+.3f}) over {} events in the last 24 h',
                  e.score_before, t.trust_score, t.trust_score - e.score_before, e.events)
               as detail
    from recent_events as e
    join marts.agent_trust as t using (agent_id)
    where e.score_before - t.trust_score >= $trust_drop_thousandths / 1000.0
),
fired as (
    select * from error_rate
    union all select * from p95_latency
    union all select * from stale_heartbeat
    union all select * from trust_drop
)
select f.agent_id, a.agent_name, f.rule, f.observed, f.baseline, f.threshold, f.executions,
       f.detail, $run_at::timestamp as checked_at
from fired as f
left join intermediate.valid_agents as a using (agent_id)
order by f.rule, f.agent_id;

comment on table marts.agent_alerts is
    'Agents crossing an attention threshold in the last 24 h against their own 7-day baseline (grain: agent_id, rule); rules and thresholds in sql/marts/agent_alerts.sql';
comment on column marts.agent_alerts.agent_id is 'agents.id';
comment on column marts.agent_alerts.agent_name is 'agents.name';
comment on column marts.agent_alerts.rule is 'error_rate, p95_latency, stale_heartbeat or trust_drop';
comment on column marts.agent_alerts.observed is 'the figure in the last 24 h: error share (0-1), p95 ms, minutes since the heartbeat, or trust score now';
comment on column marts.agent_alerts.baseline is 'the same figure over the 7 days before (trust: the score before the window); NULL for stale_heartbeat';
comment on column marts.agent_alerts.threshold is 'the value observed had to reach (trust: fall to)';
comment on column marts.agent_alerts.executions is 'executions (trust: events) the observed figure is computed over';
comment on column marts.agent_alerts.detail is 'the figures that triggered the rule, in words';
comment on column marts.agent_alerts.checked_at is 'the run that checked (UTC)';
