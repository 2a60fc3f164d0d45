-- staging.stg_hirings: hirings that pass every rule (grain: hiring id).
create or replace view staging.stg_hirings as
select id as hiring_id, agent_id, user_id, status, hired_at, expires_at,
       total_executions, last_executed_at, created_at, updated_at
from raw.hirings
where id not in (select row_key from marts.quarantine where table_name = 'hirings');
