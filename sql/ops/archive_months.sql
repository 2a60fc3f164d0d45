-- ops.archive_months: per archived table and month of the archive (grain: table_name,
-- month): rows, bytes and files listed in ops.archive_manifest, and whether the maintenance
-- run found every file present with the row count the manifest records (read from each
-- file's Parquet footer). Rebuilt by every maintenance run.
-- The analysts' name is the view marts.archive_months (sql/marts/archive_months.sql).
-- materialized: bookkeeping (rebuilt by the maintenance job after archiving)
create table if not exists ops.archive_months (
    table_name varchar not null,
    month varchar not null,
    rows bigint not null,
    bytes bigint not null,
    files bigint not null,
    unconfirmed_files bigint not null,
    verified boolean not null,
    verified_at timestamp not null
);

comment on table ops.archive_months is
    'The Parquet archive under ARCHIVE_DIR per table and month: rows, bytes, files, and whether every file was found intact';
