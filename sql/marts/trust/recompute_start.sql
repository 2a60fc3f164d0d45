-- The full recompute the daily check incremental_equals_full_recompute compares with: every
-- agent's final state from all its events at once, by the closed form of the decayed sums,
--   R = sum_i w_i (1 + v_i) / 2 * 0.5^((t_last - t_i) / h),  S likewise with (1 - v_i) / 2,
--   trust = (1 + R) / (2 + R + S),
-- a different computation from the incremental path (step 6's running sums, step 3a's late
-- additions), and one that cannot overflow. Into temp tables only: the marts stay untouched.
-- Input: _trust_source (temp, step 1). Output (temp): _trust_end (agent_id, r, s, trust).
-- Parameter: $half_life_seconds.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_end as
with
decayed as (
    select agent_id, evidence_weight, evidence_value,
           pow(0.5, (epoch(max(occurred_at) over (partition by agent_id)) - epoch(occurred_at))
                    / $half_life_seconds) as factor
    from _trust_source
),
summed as (
    select agent_id,
           sum(evidence_weight * (1 + evidence_value) / 2 * factor) as r,
           sum(evidence_weight * (1 - evidence_value) / 2 * factor) as s
    from decayed
    group by agent_id
)
select agent_id, r, s, (1 + r) / (2 + r + s) as trust from summed;
