-- staging.stg_executions: executions as the platform mirror holds them (one row per
-- raw.executions row, purged ones included).
-- Every column of the mirror and _ingested_at (when the ingest last wrote the row: what the
-- incremental models read since their cursor); input_data and output_data are the documents'
-- text, valid or not (the quarantine's rules judge them). The key stays id: execution_id is
-- the platform's own public key (text), and analysts know marts.executions_all.id.
-- materialized: view
create or replace view staging.stg_executions as
select *
from raw.executions;
