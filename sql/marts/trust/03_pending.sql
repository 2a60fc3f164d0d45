-- Trust step 3: cut the recomputed agents back and gather every event to apply.
-- Inputs: _trust_source (temp, step 1 run again with the recomputed agents in _trust_scope),
-- _trust_new, _trust_recompute (temp, step 2), marts.trust_events.
-- Outputs: _trust_sent (temp: record_id, seq of cut events the platform already has),
-- _trust_pending (temp: the events to apply); the recomputed agents' events from the cut on
-- deleted from marts.trust_events, and their marts.agent_trust rows set to the state after
-- their last kept event (deleted when nothing is kept); their days from the cut on owed to
-- marts.agent_trust_daily (ops.trust_days_owed).
-- Parameters: $cursor (the write-back cursor, pipelines/trust/cursor.py), $version, $run_at.
-- Cut events the platform already has keep their seq (at or below the cursor): recomputing an
-- agent after a late event must not send those events again (the platform keeps a record's
-- first values; the audit trail is append-only). A new version changes every record_id, so
-- nothing is kept then.
-- step: marts.trust_events, marts.agent_trust
create or replace temp macro _trust_event_key(source_execution_id, source_review_id) as
    coalesce('execution:' || source_execution_id, 'review:' || source_review_id);

create or replace temp table _trust_cut as
select e.record_id, e.agent_id, e.seq,
       r.cut_at is not null
           and (e.occurred_at, _trust_event_key(e.source_execution_id, e.source_review_id))
               < (r.cut_at, r.cut_key) as kept
from marts.trust_events as e
join _trust_recompute as r using (agent_id);

create or replace temp table _trust_sent as
select record_id, seq from _trust_cut where not kept and seq <= $cursor;

-- The state after each recomputed agent's last kept event, from that event's own row.
create or replace temp table _trust_kept as
select e.agent_id, e.trust_score_after as trust, e.positive_evidence as r,
       e.negative_evidence as s, e.occurred_at as last_at,
       _trust_event_key(e.source_execution_id, e.source_review_id) as last_key,
       count(*) over (partition by e.agent_id) as events
from marts.trust_events as e
where e.record_id in (select record_id from _trust_cut where kept)
qualify row_number() over (
    partition by e.agent_id
    order by e.occurred_at desc, _trust_event_key(e.source_execution_id, e.source_review_id) desc
) = 1;

delete from marts.trust_events
where record_id in (select record_id from _trust_cut where not kept);
delete from marts.agent_trust
where agent_id in (select agent_id from _trust_recompute);
-- marts.agent_trust_daily owes their days from the cut's on (every day when the cut is NULL),
-- including days left with no event at all.
insert into ops.trust_days_owed
select agent_id, cut_at::date, $run_at from _trust_recompute;
insert into marts.agent_trust
select agent_id, trust, r, s, events, last_at, last_key, $version, $run_at from _trust_kept;

create or replace temp table _trust_pending as
select * from _trust_new where agent_id not in (select agent_id from _trust_recompute)
union all
select s.* from _trust_source as s
join _trust_recompute as r using (agent_id)
where r.cut_at is null or (s.occurred_at, s.event_key) >= (r.cut_at, r.cut_key);

drop table _trust_cut;
drop table _trust_kept;
