-- ops.archived_agent_metrics: the archived agent_metrics rows (purged from the platform), read from the
-- Parquet files ops.archive_manifest lists as purged, and only those: a file a crash left
-- behind is never read. The maintenance archive step replaces this view with one over the
-- listed files (pipelines/maintenance/archive.py, refresh_views); until anything is archived
-- it is this empty view, so the models reading it run on a warehouse that never archived.
-- Analysts can read the same rows from ARCHIVE_DIR/agent_metrics/month=YYYY-MM/*.parquet.
-- materialized: bookkeeping (pointed at the archive's files by the maintenance archive step)
create view if not exists ops.archived_agent_metrics as
select null::bigint as id,
       null::bigint as agent_id,
       null::varchar as metric_name,
       null::double as metric_value,
       null::timestamp as recorded_at,
       null::varchar as tags
where false;
