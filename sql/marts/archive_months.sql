-- marts.archive_months: the rows of ops.archive_months (the maintenance job's bookkeeping: it writes
-- them, sql/ops/archive_months.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.archive_months as
select * from ops.archive_months;

comment on view marts.archive_months is
    'The Parquet archive under ARCHIVE_DIR per table and month: rows, bytes, files, and whether every file was found intact';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- month: month of created_at (executions) or recorded_at (agent_metrics), YYYY-MM
-- rows: rows archived and purged from the platform
-- unconfirmed_files: files written whose purge is not confirmed yet (settled by the next run)
-- verified: every listed file exists and its footer row count equals the manifest
-- verified_at: when the maintenance run checked (UTC)
-- table_name: the archived platform table: executions or agent_metrics
-- bytes: bytes of the month's Parquet files
-- files: Parquet files listed in ops.archive_manifest for the month
