-- staging.stg_agent_metrics: metric points (one row per raw.agent_metrics row).
-- Every column of the mirror, _ingested_at (when the ingest last wrote the row: what the
-- incremental models read since their cursor) and the JSON documents as their text,
-- valid or not (the quarantine's rules judge them); the key renamed point_id.
-- materialized: view
create or replace view staging.stg_agent_metrics as
select * rename (id as point_id)
from raw.agent_metrics;
