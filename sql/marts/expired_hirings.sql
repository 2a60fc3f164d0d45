-- marts.expired_hirings: hirings the maintenance job expired (grain: hiring_id): active
-- hirings past expires_at, set to 'expired' on the platform through its service layer.
-- materialized: bookkeeping (written by the maintenance job, pipelines/maintenance/assets.py)
create table if not exists marts.expired_hirings (
    hiring_id bigint primary key,
    agent_id bigint not null,
    user_id bigint,
    expires_at timestamp,
    expired_at timestamp not null
);

comment on table marts.expired_hirings is
    'Hirings the maintenance job moved from active to expired once past expires_at (grain: hiring_id)';
comment on column marts.expired_hirings.expired_at is 'when maintenance expired it (the platform row''s updated_at)';
