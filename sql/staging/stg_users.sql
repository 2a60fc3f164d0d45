-- staging.stg_users: the platform's users (one row per raw.users row).
-- Every column of the mirror, _ingested_at (when the ingest last wrote the row: what the
-- incremental models read since their cursor) and the JSON documents as their text,
-- valid or not (the quarantine's rules judge them); the key renamed user_id.
-- materialized: view
create or replace view staging.stg_users as
select * rename (id as user_id)
from raw.users;
