-- Trust step 3: clear the recomputed agents and gather every event to apply.
-- Inputs: _trust_source, _trust_new, _trust_recompute (temp, steps 1-2), marts.trust_events.
-- Outputs: _trust_sent (temp: record_id, seq of recomputed agents' events the platform already
-- has), _trust_pending (temp: the events to apply); the recomputed agents' rows deleted from
-- marts.trust_events and marts.agent_trust.
-- Parameter: $cursor (the write-back cursor, pipelines/trust/cursor.py).
-- Events of recomputed agents the platform already has keep their seq (at or below the
-- cursor): recomputing an agent after a late event must not send its whole history again
-- (the platform keeps a record's first values; the audit trail is append-only). A new version
-- changes every record_id, so nothing is kept then.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_sent as
select record_id, seq from marts.trust_events
where agent_id in (select agent_id from _trust_recompute) and seq <= $cursor;

delete from marts.trust_events
where agent_id in (select agent_id from _trust_recompute);
delete from marts.agent_trust
where agent_id in (select agent_id from _trust_recompute);

create or replace temp table _trust_pending as
select * from _trust_new where agent_id not in (select agent_id from _trust_recompute)
union all
select * from _trust_source where agent_id in (select agent_id from _trust_recompute);
