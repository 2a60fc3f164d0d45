-- staging.stg_hirings: hirings, typed and renamed (one row per raw.hirings row).
-- materialized: view
create or replace view staging.stg_hirings as
select id as hiring_id, agent_id, user_id, status, hired_at, expires_at,
       total_executions, last_executed_at, created_at, updated_at
from raw.hirings;
