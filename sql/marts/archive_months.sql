-- marts.archive_months: the rows of ops.archive_months (the maintenance job's bookkeeping: it writes
-- them, sql/ops/archive_months.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.archive_months as
select * from ops.archive_months;

comment on view marts.archive_months is
    'The Parquet archive under ARCHIVE_DIR per table and month: rows, bytes, files, and whether every file was found intact';
comment on column marts.archive_months.month is 'month of created_at (executions) or recorded_at (agent_metrics), YYYY-MM';
comment on column marts.archive_months.rows is 'rows archived and purged from the platform';
comment on column marts.archive_months.unconfirmed_files is 'files written whose purge is not confirmed yet (settled by the next run)';
comment on column marts.archive_months.verified is 'every listed file exists and its footer row count equals the manifest';
comment on column marts.archive_months.verified_at is 'when the maintenance run checked (UTC)';
comment on column marts.archive_months.table_name is 'the archived platform table: executions or agent_metrics';
comment on column marts.archive_months.bytes is 'bytes of the month''s Parquet files';
comment on column marts.archive_months.files is 'Parquet files listed in ops.archive_manifest for the month';
