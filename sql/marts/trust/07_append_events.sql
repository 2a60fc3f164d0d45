-- Trust step 7 (once per batch): append the events of _trust_applied (step 6) to
-- marts.trust_events, and owe their agents' days to marts.agent_trust_daily
-- (ops.trust_days_owed). Inputs: _trust_applied, _trust_sent (temp, step 3).
-- Parameters: $model_version, $applied_at, $first_seq (above every kept seq and the
-- write-back cursor; pipelines/trust/cursor.py).
-- seq orders the platform write-back: an event the platform already has (in _trust_sent: a
-- recomputed agent's event sent before) keeps its seq at or below the cursor and is not sent
-- again; every other event is numbered from $first_seq, above the cursor, and will be.
-- step: marts.trust_events, marts.agent_trust
insert into marts.trust_events
select a.record_id, a.agent_id, a.event_type, a.source_execution_id, a.source_review_id,
       a.occurred_at, a.evidence_weight, a.evidence_value, a.positive_evidence,
       a.negative_evidence, a.trust_score_before, a.trust_score_after,
       a.trust_score_after - a.trust_score_before as trust_delta,
       a.reason, $model_version as model_version, $applied_at as applied_at,
       -- no global sort for the new numbers (10M rows sort slowly); gaps are harmless
       coalesce(s.seq, $first_seq + row_number() over () - 1) as seq
from _trust_applied as a
left join _trust_sent as s using (record_id);

-- marts.agent_trust_daily owes these agents' days from their first applied event on
-- (ops.trust_days_owed).
insert into ops.trust_days_owed
select agent_id, min(occurred_at)::date, $applied_at from _trust_applied group by agent_id;

drop table _trust_applied;
