-- ops.watermarks: one row per cursor (grain: table_name, the cursor's name).
-- How far the ingest has read each platform table: the last (updated_at, id) for mutable
-- tables, id alone for append-only ones, advanced only in the transaction that commits the
-- rows. Cursors of other kinds share the table: 'touched_days' (advanced_at: newest
-- _ingested_at whose days were handed to the daily partitions), 'executions_all' and
-- 'quarantine' (advanced_at: newest _ingested_at merged or judged; the quarantine's last_id is
-- the version of its rules), 'trust_writeback' (last_id: highest marts.trust_events.seq on
-- the platform) and 'trust_record_counts' (advanced_at: when the write-back last compared record
-- counts with the platform; pipelines/trust/cursor.py).
-- materialized: bookkeeping (created and advanced by the ingest, ops.touched_days and the trust write-back)
create table if not exists ops.watermarks (
    table_name varchar,
    updated_at timestamp,
    last_id bigint not null,
    advanced_at timestamp not null
);

comment on table ops.watermarks is
    'How far each platform table has been ingested (last (updated_at, id) read, or id), plus the touched_days, executions_all, quarantine, trust_writeback and trust_record_counts cursors';
comment on column ops.watermarks.updated_at is 'updated_at of the newest row read (UTC); null for append-only tables';
comment on column ops.watermarks.last_id is 'id of the newest row read';
comment on column ops.watermarks.advanced_at is 'when the ingest run that moved it started (UTC)';
