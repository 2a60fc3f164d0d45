-- marts.maintenance_runs: the rows of ops.maintenance_runs (the maintenance job's bookkeeping: it writes
-- them, sql/ops/maintenance_runs.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.maintenance_runs as
select * from ops.maintenance_runs;

comment on view marts.maintenance_runs is
    'One row per maintenance run and operation: rows and bytes affected, seconds, dry run or not';
comment on column marts.maintenance_runs.rows is 'rows the operation changed (or would change, in a dry run)';
comment on column marts.maintenance_runs.detail is 'what the operation found, in words (JSON for lists)';
comment on column marts.maintenance_runs.run_id is 'the Dagster run id of the maintenance run';
comment on column marts.maintenance_runs.started_at is 'when the run started (UTC)';
comment on column marts.maintenance_runs.operation is 'archive_executions, archive_agent_metrics, vacuum_analyze, expire_hirings, repair_counters, check_orphans, table_health or verify_archive';
comment on column marts.maintenance_runs.dry_run is 'true when the run only reported what it would do';
comment on column marts.maintenance_runs.bytes is 'bytes written (the archive''s Parquet files); 0 for other operations';
comment on column marts.maintenance_runs.seconds is 'how long the operation took';
