-- ops.archived_executions: the archived executions rows (purged from the platform), read from the
-- Parquet files ops.archive_manifest lists as purged, and only those: a file a crash left
-- behind is never read. The maintenance archive step replaces this view with one over the
-- listed files (pipelines/maintenance/archive.py, refresh_views); until anything is archived
-- it is this empty view, so the models reading it run on a warehouse that never archived.
-- Analysts can read the same rows from ARCHIVE_DIR/executions/month=YYYY-MM/*.parquet.
-- materialized: bookkeeping (pointed at the archive's files by the maintenance archive step)
create view if not exists ops.archived_executions as
select null::bigint as agent_id,
       null::bigint as hiring_id,
       null::bigint as user_id,
       null::varchar as status,
       null::timestamp as started_at,
       null::timestamp as completed_at,
       null::bigint as duration_ms,
       null::varchar as input_data,
       null::varchar as output_data,
       null::varchar as error_message,
       null::double as cpu_usage,
       null::double as memory_usage,
       null::double as disk_usage,
       null::varchar as execution_id,
       null::varchar as acp_session_id,
       null::bigint as id,
       null::timestamp as created_at,
       null::timestamp as updated_at
where false;
