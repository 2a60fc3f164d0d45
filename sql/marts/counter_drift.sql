-- marts.counter_drift: the platform's denormalised counters found to differ from the truth, and
-- when the maintenance run repaired them (grain: run_id, table_name, row_id, column_name).
-- The truth counts archived executions too, so a purge never makes a counter drop
-- (pipelines/maintenance/counters.py). A dry run records nothing here; its maintenance_runs
-- row lists what it found.
-- materialized: bookkeeping (written by the maintenance job's counter repair)
create table if not exists marts.counter_drift (
    run_id varchar not null,
    table_name varchar not null,
    row_id bigint not null,
    column_name varchar not null,
    stored varchar,
    actual varchar,
    difference double,
    repaired_at timestamp not null,
    primary key (run_id, table_name, row_id, column_name)
);

comment on table marts.counter_drift is
    'Platform counters (agents.total_hires, total_executions, average_rating; hirings.total_executions, last_executed_at) that differed from the truth, archive included, and were repaired';
comment on column marts.counter_drift.table_name is 'agents or hirings';
comment on column marts.counter_drift.row_id is 'id of the agent or hiring';
comment on column marts.counter_drift.column_name is 'the counter column';
comment on column marts.counter_drift.stored is 'the value the platform held, as text';
comment on column marts.counter_drift.actual is 'the value recomputed from the truth and written, as text';
comment on column marts.counter_drift.difference is 'actual - stored (seconds for last_executed_at); NULL when either is NULL';
comment on column marts.counter_drift.repaired_at is 'when the maintenance run wrote the repair (UTC)';
