-- staging.stg_agents: agent listings (one row per raw.agents row); a missing price per use
-- is 0.
-- Every column of the mirror, _ingested_at (when the ingest last wrote the row: what the
-- incremental models read since their cursor) and the JSON documents as their text,
-- valid or not (the quarantine's rules judge them); the key renamed agent_id, the name agent_name.
-- materialized: view
create or replace view staging.stg_agents as
select * replace (coalesce(price_per_use, 0.0) as price_per_use)
         rename (id as agent_id, name as agent_name)
from raw.agents;
