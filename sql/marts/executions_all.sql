-- marts.executions_all: every execution the platform ever had, one row per id, purged ones
-- included. Analysts' name for intermediate.executions_all, which documents each column.
-- materialized: view
create or replace view marts.executions_all as
select * from intermediate.executions_all;

comment on view marts.executions_all is
    'Every execution the platform ever had, one row per id: the warehouse mirror and the maintenance archive (is_archived), so purges never lower all-time counts; statistics use rows where is_quarantined is false';
comment on column marts.executions_all.id is 'platform executions.id';
comment on column marts.executions_all.agent_id is 'the agent that ran it';
comment on column marts.executions_all.hiring_id is 'the hiring it ran under; NULL for direct runs';
comment on column marts.executions_all.user_id is 'the user it ran for; NULL when anonymous';
comment on column marts.executions_all.status is 'pending, running, completed, failed, timeout or cancelled';
comment on column marts.executions_all.started_at is 'when it started running (UTC)';
comment on column marts.executions_all.completed_at is 'when it ended (UTC)';
comment on column marts.executions_all.duration_ms is 'running time in milliseconds';
comment on column marts.executions_all.input_data is 'input parameters, JSON text as stored';
comment on column marts.executions_all.output_data is 'results, JSON text as stored';
comment on column marts.executions_all.error_message is 'why it failed or timed out';
comment on column marts.executions_all.cpu_usage is 'CPU usage, percent';
comment on column marts.executions_all.memory_usage is 'memory usage, MB';
comment on column marts.executions_all.disk_usage is 'disk usage, MB';
comment on column marts.executions_all.execution_id is 'the platform''s unique execution id';
comment on column marts.executions_all.acp_session_id is 'ACP session id';
comment on column marts.executions_all.created_at is 'when it was queued (UTC); the day it counts on';
comment on column marts.executions_all.updated_at is 'last change on the platform (UTC)';
comment on column marts.executions_all.is_archived is 'true when the execution was archived by maintenance and purged from the platform (ARCHIVE_DIR/executions/)';
comment on column marts.executions_all.is_quarantined is 'true when the row breaks a rule (see marts.quarantine) and is left out of statistics';
comment on column marts.executions_all.changed_at is 'when the pipeline run that last (re)wrote this row in the warehouse ran (UTC)';
