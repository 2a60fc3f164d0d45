-- marts.counter_drift: the rows of ops.counter_drift (the maintenance job's bookkeeping: it writes
-- them, sql/ops/counter_drift.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.counter_drift as
select * from ops.counter_drift;

comment on view marts.counter_drift is
    'Platform counters (agents.total_hires, total_executions, average_rating; hirings.total_executions, last_executed_at) that differed from the truth, archive included, and were repaired';
comment on column marts.counter_drift.table_name is 'agents or hirings';
comment on column marts.counter_drift.row_id is 'id of the agent or hiring';
comment on column marts.counter_drift.column_name is 'the counter column';
comment on column marts.counter_drift.stored is 'the value the platform held, as text';
comment on column marts.counter_drift.actual is 'the value recomputed from the truth and written, as text';
comment on column marts.counter_drift.difference is 'actual - stored (seconds for last_executed_at); NULL when either is NULL';
comment on column marts.counter_drift.repaired_at is 'when the maintenance run wrote the repair (UTC)';
comment on column marts.counter_drift.run_id is 'the Dagster run id of the maintenance run that found it';
