-- marts.agent_trust: each agent's current trust and the model's state (grain: agent_id).
-- materialized: python (pipelines/trust/model.py, with the steps in sql/marts/trust/)
-- grain: agent_id
create table if not exists marts.agent_trust (
    agent_id bigint,
    trust_score double not null,
    positive_evidence double not null,
    negative_evidence double not null,
    event_count bigint not null,
    last_event_at timestamp,
    last_event_key varchar,
    model_version varchar not null,
    updated_at timestamp not null
);

comment on table marts.agent_trust is
    'Current trust per agent and the Beta reputation state behind it (grain: agent_id); 0.5 with no evidence';
comment on column marts.agent_trust.trust_score is '(1 + R) / (2 + R + S) after the agent''s latest event, in [0, 1]';
comment on column marts.agent_trust.positive_evidence is 'R: decayed positive evidence at last_event_at';
comment on column marts.agent_trust.negative_evidence is 'S: decayed negative evidence at last_event_at';
comment on column marts.agent_trust.event_count is 'events applied under this model version';
comment on column marts.agent_trust.last_event_at is 'time of the latest applied event; decay is measured from here';
comment on column marts.agent_trust.last_event_key is 'source of the latest applied event (ties on time are ordered by it)';
comment on column marts.agent_trust.model_version is 'trust model parameters of the state';
comment on column marts.agent_trust.updated_at is 'pipeline run that last changed the row (UTC)';
comment on column marts.agent_trust.agent_id is 'agents.id; every agent has a row';
