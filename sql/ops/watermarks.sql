-- ops.watermarks: one row per ingested platform table (grain: table_name).
-- How far the ingest has read: the last (updated_at, id) for mutable tables, id alone for
-- append-only ones. Advanced only in the same transaction that commits the rows.
create table if not exists ops.watermarks (
    table_name varchar primary key,
    updated_at timestamp,
    last_id bigint not null,
    advanced_at timestamp not null
);

comment on table ops.watermarks is
    'How far each platform table has been ingested: last (updated_at, id) read, or id';
comment on column ops.watermarks.updated_at is 'updated_at of the newest row read (UTC); null for append-only tables';
comment on column ops.watermarks.last_id is 'id of the newest row read';
comment on column ops.watermarks.advanced_at is 'when the ingest run that moved it started (UTC)';
