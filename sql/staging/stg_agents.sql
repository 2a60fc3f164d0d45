-- staging.stg_agents: agent listings, typed and renamed (one row per raw.agents row).
-- materialized: view
create or replace view staging.stg_agents as
select id as agent_id, name as agent_name, status, category, pricing_model,
       coalesce(price_per_use, 0.0) as price_per_use, is_public,
       total_hires, total_executions, average_rating, trust_score, last_heartbeat_at,
       created_at, updated_at
from raw.agents;
