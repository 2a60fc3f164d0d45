-- marts.archive_months: per archived table and month of the archive (grain: table_name,
-- month): rows, bytes and files listed in ops.archive_manifest, and whether the maintenance
-- run found every file present with the row count the manifest records (read from each
-- file's Parquet footer). Rebuilt by every maintenance run.
-- materialized: bookkeeping (rebuilt by the maintenance job after archiving)
create table if not exists marts.archive_months (
    table_name varchar not null,
    month varchar not null,
    rows bigint not null,
    bytes bigint not null,
    files bigint not null,
    unconfirmed_files bigint not null,
    verified boolean not null,
    verified_at timestamp not null,
    primary key (table_name, month)
);

comment on table marts.archive_months is
    'The Parquet archive under ARCHIVE_DIR per table and month: rows, bytes, files, and whether every file was found intact';
comment on column marts.archive_months.month is 'month of created_at (executions) or recorded_at (agent_metrics), YYYY-MM';
comment on column marts.archive_months.rows is 'rows archived and purged from the platform';
comment on column marts.archive_months.unconfirmed_files is 'files written whose purge is not confirmed yet (settled by the next run)';
comment on column marts.archive_months.verified is 'every listed file exists and its footer row count equals the manifest';
comment on column marts.archive_months.verified_at is 'when the maintenance run checked (UTC)';
