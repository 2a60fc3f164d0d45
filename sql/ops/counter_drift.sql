-- ops.counter_drift: the platform's denormalised counters found to differ from the truth, and
-- when the maintenance run repaired them (grain: run_id, table_name, row_id, column_name).
-- The truth counts archived executions too, so a purge never makes a counter drop
-- (pipelines/maintenance/counters.py). A dry run records nothing here; its maintenance_runs
-- row lists what it found.
-- The analysts' name is the view marts.counter_drift (sql/marts/counter_drift.sql).
-- materialized: bookkeeping (written by the maintenance job's counter repair)
create table if not exists ops.counter_drift (
    run_id varchar not null,
    table_name varchar not null,
    row_id bigint not null,
    column_name varchar not null,
    stored varchar,
    actual varchar,
    difference double,
    repaired_at timestamp not null
);

comment on table ops.counter_drift is
    'Platform counters (agents.total_hires, total_executions, average_rating; hirings.total_executions, last_executed_at) that differed from the truth, archive included, and were repaired';
