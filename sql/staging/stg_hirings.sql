-- staging.stg_hirings: hirings (one row per raw.hirings row).
-- Every column of the mirror, _ingested_at (when the ingest last wrote the row: what the
-- incremental models read since their cursor) and the JSON documents as their text,
-- valid or not (the quarantine's rules judge them); the key renamed hiring_id.
-- materialized: view
create or replace view staging.stg_hirings as
select * rename (id as hiring_id)
from raw.hirings;
