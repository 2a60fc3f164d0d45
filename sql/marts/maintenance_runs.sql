-- marts.maintenance_runs: the rows of ops.maintenance_runs (the maintenance job's bookkeeping: it writes
-- them, sql/ops/maintenance_runs.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.maintenance_runs as
select * from ops.maintenance_runs;

comment on view marts.maintenance_runs is
    'One row per maintenance run and operation: rows and bytes affected, seconds, dry run or not';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- rows: rows the operation changed (or would change, in a dry run)
-- detail: what the operation found, in words (JSON for lists)
-- run_id: the Dagster run id of the maintenance run
-- started_at: when the run started (UTC)
-- operation: archive_executions, archive_agent_metrics, vacuum_analyze, expire_hirings, repair_counters, check_orphans, table_health or verify_archive
-- dry_run: true when the run only reported what it would do
-- bytes: bytes written (the archive's Parquet files); 0 for other operations
-- seconds: how long the operation took
