-- marts.executions_all: every execution the platform ever had, one row per id, purged ones
-- included. Analysts' name for intermediate.executions_all, which documents each column.
-- materialized: view
create or replace view marts.executions_all as
select * from intermediate.executions_all;

comment on view marts.executions_all is
    'Every execution the platform ever had, one row per id: the warehouse mirror and the maintenance archive (is_archived), so purges never lower all-time counts; statistics use rows where is_quarantined is false';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- id: platform executions.id
-- agent_id: the agent that ran it
-- hiring_id: the hiring it ran under; NULL for direct runs
-- user_id: the user it ran for; NULL when anonymous
-- status: pending, running, completed, failed, timeout or cancelled
-- started_at: when it started running (UTC)
-- completed_at: when it ended (UTC)
-- duration_ms: running time in milliseconds
-- input_data: input parameters, JSON text as stored
-- output_data: results, JSON text as stored
-- error_message: why it failed or timed out
-- cpu_usage: CPU usage, percent
-- memory_usage: memory usage, MB
-- disk_usage: disk usage, MB
-- execution_id: the platform's unique execution id
-- acp_session_id: ACP session id
-- created_at: when it was queued (UTC); the day it counts on
-- updated_at: last change on the platform (UTC)
-- is_archived: true when the execution was archived by maintenance and purged from the platform (ARCHIVE_DIR/executions/)
-- is_quarantined: true when the row breaks a rule (see marts.quarantine) and is left out of statistics
-- changed_at: when the pipeline run that last (re)wrote this row in the warehouse ran (UTC)
