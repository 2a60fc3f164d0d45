-- staging.stg_executions: executions that pass every rule (grain: execution id).
-- The platform mirror only; all-time statistics read marts.executions_all, where the
-- maintenance archive joins once there is one.
create or replace view staging.stg_executions as
select id, agent_id, hiring_id, user_id, status, started_at, completed_at, duration_ms,
       error_message, cpu_usage, memory_usage, disk_usage, execution_id, acp_session_id,
       created_at, updated_at
from raw.executions
where id not in (select row_key from marts.quarantine where table_name = 'executions');
