-- staging.stg_executions: executions as the platform mirror holds them (one row per
-- raw.executions row, purged ones included). intermediate.executions_all reads it.
-- materialized: view
create or replace view staging.stg_executions as
select id, agent_id, hiring_id, user_id, status, started_at, completed_at, duration_ms,
       input_data, output_data, error_message, cpu_usage, memory_usage, disk_usage,
       execution_id, acp_session_id, created_at, updated_at
from raw.executions;
