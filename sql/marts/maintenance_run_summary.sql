-- marts.maintenance_run_summary: one row per maintenance run (grain: run_id): when it started,
-- whether it was a dry run, its seconds, and what its operations did: executions and metric
-- points archived (and purged), archive bytes written, hirings expired, counters repaired and
-- orphaned rows found. From marts.maintenance_runs (one row per run and operation).
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
       sum(rows) filter (where operation = 'check_orphans') as orphans
from marts.maintenance_runs
group by run_id;

comment on view marts.maintenance_run_summary is
    'One row per maintenance run: dry or not, seconds, rows archived, hirings expired, counters repaired, orphans found';
comment on column marts.maintenance_run_summary.seconds is 'sum of its operations'' seconds';
comment on column marts.maintenance_run_summary.executions_archived is 'executions archived and purged (would be, in a dry run)';
comment on column marts.maintenance_run_summary.archive_bytes is 'bytes of Parquet written by the run''s archive operations';
comment on column marts.maintenance_run_summary.orphans is 'platform rows whose parent row is missing, all relations';
comment on column marts.maintenance_run_summary.run_id is 'the Dagster run id of the maintenance run';
comment on column marts.maintenance_run_summary.started_at is 'when the run started (UTC)';
comment on column marts.maintenance_run_summary.dry_run is 'true when the run only reported what it would do';
comment on column marts.maintenance_run_summary.metric_points_archived is 'agent metric points archived and purged (would be, in a dry run)';
comment on column marts.maintenance_run_summary.hirings_expired is 'active hirings past expires_at set to expired';
comment on column marts.maintenance_run_summary.counters_repaired is 'platform counters found drifted and rewritten';
