-- marts.counter_drift: the rows of ops.counter_drift (the maintenance job's bookkeeping: it writes
-- them, sql/ops/counter_drift.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.counter_drift as
select * from ops.counter_drift;

comment on view marts.counter_drift is
    'Platform counters (agents.total_hires, total_executions, average_rating; hirings.total_executions, last_executed_at) that differed from the truth, archive included, and were repaired';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- table_name: agents or hirings
-- row_id: id of the agent or hiring
-- column_name: the counter column
-- stored: the value the platform held, as text
-- actual: the value recomputed from the truth and written, as text
-- difference: actual - stored (seconds for last_executed_at); NULL when either is NULL
-- repaired_at: when the maintenance run wrote the repair (UTC)
-- run_id: the Dagster run id of the maintenance run that found it
