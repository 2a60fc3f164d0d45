-- marts.expired_hirings: the rows of ops.expired_hirings (the maintenance job's bookkeeping: it writes
-- them, sql/ops/expired_hirings.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.expired_hirings as
select * from ops.expired_hirings;

comment on view marts.expired_hirings is
    'Hirings the maintenance job moved from active to expired once past expires_at (grain: hiring_id)';
comment on column marts.expired_hirings.expired_at is 'when maintenance expired it (the platform row''s updated_at)';
comment on column marts.expired_hirings.hiring_id is 'the platform hiring';
comment on column marts.expired_hirings.agent_id is 'the hired agent';
comment on column marts.expired_hirings.user_id is 'the user who hired it';
comment on column marts.expired_hirings.expires_at is 'when the hiring was due to end';
