-- marts.trust_events: one row per event that moved an agent's trust (grain: record_id).
-- materialized: python (pipelines/trust/model.py, with the steps in sql/marts/trust/)
-- grain: record_id
-- written: seq > (select coalesce(max(last_id), 0) from ops.watermarks where table_name = 'trust_writeback')
create table if not exists marts.trust_events (
    -- unique by construction (checked by unique_grain); no index: it cost 40 s on 10M rows
    record_id varchar not null,
    agent_id bigint not null,
    event_type varchar not null,
    source_execution_id varchar,
    source_review_id bigint,
    occurred_at timestamp not null,
    evidence_weight double not null,
    evidence_value double not null,
    positive_evidence double not null,
    negative_evidence double not null,
    trust_score_before double not null,
    trust_score_after double not null,
    trust_delta double not null,
    reason varchar,
    model_version varchar not null,
    applied_at timestamp not null,
    seq bigint not null
);

-- Every write (the first run's 10M events, each hourly append, the upkeep's merges) is sorted
-- by time, so a read of recent events (the Trust page's newest-first audit trail, the daily
-- trust mart's changed days) skips older files and row groups by their min/max.
alter table marts.trust_events set sorted by (occurred_at);

comment on table marts.trust_events is
    'Each event that moved an agent''s trust, in application order (grain: record_id, derived from model version and source event)';
comment on column marts.trust_events.record_id is 'md5(model_version | source event): the same event never applies twice';
comment on column marts.trust_events.event_type is 'execution_completed, execution_failed, execution_timeout or review';
comment on column marts.trust_events.source_execution_id is 'executions.execution_id of the source execution';
comment on column marts.trust_events.source_review_id is 'agent_reviews.id of the source review';
comment on column marts.trust_events.occurred_at is 'event time: execution completed_at or review created_at (UTC)';
comment on column marts.trust_events.evidence_weight is 'w: 1 for executions, the timeout weight for timeouts, the review weight for reviews';
comment on column marts.trust_events.evidence_value is 'v in [-1, 1]: +1 completed, -1 failed or timeout, (rating - 3) / 2 for reviews';
comment on column marts.trust_events.positive_evidence is 'R after the event: decayed sum of w (1 + v) / 2';
comment on column marts.trust_events.negative_evidence is 'S after the event: decayed sum of w (1 - v) / 2';
comment on column marts.trust_events.trust_score_before is 'trust before the event (after the previous one; 0.5 for the first)';
comment on column marts.trust_events.trust_score_after is 'trust after the event: (1 + R) / (2 + R + S)';
comment on column marts.trust_events.trust_delta is 'trust_score_after - trust_score_before';
comment on column marts.trust_events.reason is 'why trust moved, for the audit trail';
comment on column marts.trust_events.model_version is 'trust model parameters that produced the row';
comment on column marts.trust_events.applied_at is 'pipeline run that applied it (UTC)';
comment on column marts.trust_events.seq is 'write-back order: each appended event is numbered above every kept event and the write-back cursor (ops.watermarks, trust_writeback); events at or below the cursor are on the platform (arbitrary order within a run)';
comment on column marts.trust_events.agent_id is 'agents.id whose trust moved';
