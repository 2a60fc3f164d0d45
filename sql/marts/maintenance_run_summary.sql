-- marts.maintenance_run_summary: one row per maintenance run (grain: run_id): when it started,
-- whether it was a dry run, its seconds, and what its operations did: executions and metric
-- points archived (and purged), archive bytes written, hirings expired, counters repaired and
-- orphaned rows found, and the warehouse upkeep (snapshots expired, files deleted, bytes
-- freed). From marts.maintenance_runs (one row per run and operation).
-- materialized: view
create or replace view marts.maintenance_run_summary as
select run_id,
       min(started_at) as started_at,
       bool_or(dry_run) as dry_run,
       sum(seconds) as seconds,
       sum(rows) filter (where operation = 'archive_executions') as executions_archived,
       sum(rows) filter (where operation = 'archive_agent_metrics') as metric_points_archived,
       sum(bytes) filter (where operation like 'archive_%') as archive_bytes,
       sum(rows) filter (where operation = 'expire_hirings') as hirings_expired,
       sum(rows) filter (where operation = 'repair_counters') as counters_repaired,
       sum(rows) filter (where operation = 'check_orphans') as orphans,
       sum((detail::json->>'snapshots_expired')::bigint)
           filter (where operation = 'warehouse_upkeep') as warehouse_snapshots_expired,
       sum((detail::json->>'files_deleted')::bigint)
           filter (where operation = 'warehouse_upkeep') as warehouse_files_deleted,
       sum(bytes) filter (where operation = 'warehouse_upkeep') as warehouse_bytes_freed
from marts.maintenance_runs
group by run_id;

comment on view marts.maintenance_run_summary is
    'One row per maintenance run: dry or not, seconds, rows archived, hirings expired, counters repaired, orphans found';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- seconds: sum of its operations' seconds
-- executions_archived: executions archived and purged (would be, in a dry run)
-- archive_bytes: bytes of Parquet written by the run's archive operations
-- orphans: platform rows whose parent row is missing, all relations
-- run_id: the Dagster run id of the maintenance run
-- started_at: when the run started (UTC)
-- dry_run: true when the run only reported what it would do
-- metric_points_archived: agent metric points archived and purged (would be, in a dry run)
-- hirings_expired: active hirings past expires_at set to expired
-- counters_repaired: platform counters found drifted and rewritten
-- warehouse_snapshots_expired: warehouse snapshots older than WAREHOUSE_SNAPSHOT_RETENTION_DAYS forgotten (never the published one)
-- warehouse_files_deleted: warehouse data files deleted that no kept snapshot references
-- warehouse_bytes_freed: bytes of warehouse data files the upkeep merged away or deleted
