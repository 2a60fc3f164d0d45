-- Trust step 6 (once per batch).
-- Apply a batch of trust events to each agent's starting state, in (occurred_at, event_key)
-- order, with the decayed-sum closed form of the Beta reputation model:
--   R(t_n) = R0 * 0.5^((t_n - t0) / h) + sum_{i<=n} w_i (1 + v_i) / 2 * 0.5^((t_n - t_i) / h)
--   S(t_n) likewise with (1 - v_i) / 2;   trust = (1 + R) / (2 + R + S)
-- computed as running sums of evidence weighted 2^((t_i - t0) / h), t0 the agent's starting
-- time, scaled back by 2^(-(t_n - t0) / h). The caller keeps each batch within 900 half-lives
-- of t0 so the weights stay far from overflow.
-- Inputs (temp): _trust_batch (events), _trust_start (agent_id, r0, s0, t0, trust0).
-- Parameter: $half_life_seconds.
-- Outputs (temp): _trust_applied (one row per event with its before/after scores) and
-- _trust_end (agent_id, r, s, last_at, last_key, trust, events): each agent's new state.
-- One window (partition by agent, order by time then key) serves every running quantity, so
-- DuckDB sorts the batch once. trust_score_before is the previous event's score, rebuilt from
-- the running sums without the current event and the previous event's age.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_applied as
with
ordered as (
    select b.record_id, b.agent_id, b.event_type, b.event_key, b.source_execution_id,
           b.source_review_id, b.occurred_at, b.evidence_weight, b.evidence_value, b.reason,
           s.r0, s.s0, s.trust0,
           (epoch(b.occurred_at) - epoch(s.t0)) / $half_life_seconds as age,
           b.evidence_weight * (1 + b.evidence_value) / 2 as x_r,
           b.evidence_weight * (1 - b.evidence_value) / 2 as x_s
    from _trust_batch as b
    join _trust_start as s using (agent_id)
),
running as (
    select *,
           row_number() over w as n,
           r0 + sum(x_r * pow(2.0, age)) over w as r_scaled,
           s0 + sum(x_s * pow(2.0, age)) over w as s_scaled,
           lag(age) over w as previous_age
    from ordered
    window w as (partition by agent_id order by occurred_at, event_key
                 rows between unbounded preceding and current row)
),
scored as (
    select *,
           r_scaled * pow(2.0, -age) as positive_evidence,
           s_scaled * pow(2.0, -age) as negative_evidence,
           (r_scaled - x_r * pow(2.0, age)) * pow(2.0, -previous_age) as r_previous,
           (s_scaled - x_s * pow(2.0, age)) * pow(2.0, -previous_age) as s_previous
    from running
)
select record_id, agent_id, event_type, event_key, source_execution_id, source_review_id,
       occurred_at, evidence_weight, evidence_value, positive_evidence, negative_evidence,
       case when n = 1 then trust0
            else (1 + r_previous) / (2 + r_previous + s_previous) end as trust_score_before,
       (1 + positive_evidence) / (2 + positive_evidence + negative_evidence)
           as trust_score_after,
       reason, n
from scored;

create or replace temp table _trust_end as
select agent_id,
       arg_max(positive_evidence, n) as r,
       arg_max(negative_evidence, n) as s,
       max(occurred_at) as last_at,
       arg_max(event_key, n) as last_key,
       arg_max(trust_score_after, n) as trust,
       count(*) as events
from _trust_applied
group by agent_id;

