-- platform.trust_records: what the write-back (pipelines/trust/writeback.py) reads from the
-- warehouse to write the platform's trust_records (seed 004's audit trail, one row per trust
-- event) and agents.trust_score. The platform side of the write lives in
-- platform_core/trust_writes.py (COPY, one INSERT ... ON CONFLICT, in one transaction).
-- materialized: python (pipelines/trust/writeback.py)
-- Named queries (`-- name:`), each run on its own with positional parameters.

-- name: events_in_range
-- One range of events (seq > ?, seq <= ?) as the platform's trust_records columns.
select record_id, agent_id, event_type,
       source_execution_id as execution_id, source_review_id as review_id,
       trust_delta, trust_score_before, trust_score_after, reason, model_version,
       occurred_at as created_at
from marts.trust_events
where seq > ? and seq <= ?;

-- name: pending_events
-- How many events lie in a range (seq > ?, seq <= ?).
select count(*) from marts.trust_events where seq > ? and seq <= ?;

-- name: top_seq
-- The highest seq the warehouse holds (0 before the first event). Read off the rows (a top-1
-- sort), not max(seq): DuckDB 2.0.0 once answered max() from statistics that said the table
-- was empty right after a transaction had appended two million rows, and the write-back then
-- sent nothing (pipelines/trust/model.py avoids what caused it; this does not depend on it).
select coalesce((select seq from marts.trust_events order by seq desc limit 1), 0);

-- name: events_by_version
-- Events per model version of the agents the platform has (a list parameter), to compare
-- with the platform's record counts: an agent deleted there takes its records' place away.
select model_version, count(*) from marts.trust_events
where agent_id in (select unnest(?::bigint[]))
group by model_version;

-- name: scores
-- Every agent's current score, which agents.trust_score must equal.
select agent_id, trust_score from marts.agent_trust;
