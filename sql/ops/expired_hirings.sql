-- ops.expired_hirings: hirings the maintenance job expired (grain: hiring_id): active
-- hirings past expires_at, set to 'expired' on the platform through its service layer.
-- The analysts' name is the view marts.expired_hirings (sql/marts/expired_hirings.sql).
-- materialized: bookkeeping (written by the maintenance job, pipelines/maintenance/assets.py)
create table if not exists ops.expired_hirings (
    hiring_id bigint,
    agent_id bigint not null,
    user_id bigint,
    expires_at timestamp,
    expired_at timestamp not null
);

comment on table ops.expired_hirings is
    'Hirings the maintenance job moved from active to expired once past expires_at (grain: hiring_id)';
