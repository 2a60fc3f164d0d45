-- ops.archive_manifest: one row per verified Parquet file of the archive (grain: file).
-- A file is written to a temporary name, read back (row count and id checksum verified),
-- renamed into place and recorded here with purged_at NULL; its rows are then deleted from
-- the platform in one transaction, and purged_at is set once that transaction committed.
-- A row with purged_at NULL is a batch whose purge has not been confirmed: the next
-- maintenance run checks the platform (rows gone: the purge committed; rows there: the file
-- is dropped and the rows archived again). A file under ARCHIVE_DIR that is not listed here
-- is a leftover of a crash and is never read as archive. A verified file found under
-- ARCHIVE_DIR whose rows are all gone from the platform (a warehouse rebuilt without this
-- table) is listed again with in_raw false, and the next ingest puts its rows back into raw,
-- so everything built from raw counts them again. pipelines/maintenance/archive.py.
-- materialized: bookkeeping (written by the maintenance job's archive step)
create table if not exists ops.archive_manifest (
    file varchar,
    table_name varchar not null,
    month varchar not null,
    rows bigint not null,
    min_id bigint not null,
    max_id bigint not null,
    checksum varchar not null,
    bytes bigint not null,
    written_at timestamp not null,
    purged_at timestamp,
    in_raw boolean not null default true
);
-- Added after the first release: every file listed before it was purged from rows raw held.
alter table ops.archive_manifest add column if not exists in_raw boolean default true;

comment on table ops.archive_manifest is
    'Verified Parquet files of the archive under ARCHIVE_DIR (grain: file); purged_at is set once their rows left the platform database';
comment on column ops.archive_manifest.file is 'path relative to ARCHIVE_DIR, e.g. executions/month=2026-08/executions_1_5000.parquet';
comment on column ops.archive_manifest.month is 'month of created_at (YYYY-MM), the Hive partition';
comment on column ops.archive_manifest.checksum is 'sum of hash(id) over the file, as read back before the purge';
comment on column ops.archive_manifest.purged_at is 'when the platform transaction deleting these rows committed; NULL while unconfirmed';
comment on column ops.archive_manifest.in_raw is 'the file''s rows are in the raw mirror (false for a file listed again after the warehouse was rebuilt, until the next ingest restores them)';
