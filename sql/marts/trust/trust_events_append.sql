-- Append the events of _trust_applied (see trust_apply.sql) to marts.trust_events.
-- Parameters: $model_version, $applied_at, $first_seq (seq continues across runs).
insert into marts.trust_events
select record_id, agent_id, event_type, source_execution_id, source_review_id, occurred_at,
       evidence_weight, evidence_value, positive_evidence, negative_evidence,
       trust_score_before, trust_score_after,
       trust_score_after - trust_score_before as trust_delta,
       reason, $model_version as model_version, $applied_at as applied_at,
       -- a cursor for the platform write-back; no global sort (10M rows sort slowly)
       $first_seq + row_number() over () - 1 as seq
from _trust_applied;

drop table _trust_applied;
