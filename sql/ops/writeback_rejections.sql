-- ops.writeback_rejections: records the platform write-back could not send, per run, table,
-- agent and reason (grain: rejected_at, table_name, agent_id, rule). Today one reason: the
-- agent was deleted on the platform (with its rows), so its pending trust records have no
-- agent to point at; they are left out instead of failing every later run on the foreign key.
-- marts.data_quality counts them. pipelines/trust/writeback.py.
-- materialized: bookkeeping (appended by the trust write-back)
create table if not exists ops.writeback_rejections (
    rejected_at timestamp not null,
    table_name varchar not null,
    agent_id bigint not null,
    rule varchar not null,
    records bigint not null
);

comment on table ops.writeback_rejections is
    'Trust records the platform write-back left out, per run and agent: the agent was deleted on the platform';
comment on column ops.writeback_rejections.records is 'records not sent for that agent in that run';
