-- ops.capture_cursors: how far the ingest has read each platform table by change capture
-- (grain: table_name). The next read asks for change_id >= change_from: change_from was taken
-- just before the previous read (PostgreSQL: that snapshot's xmin; SQLite: the commit counter
-- + 1), so a row committed after it, however early its id or timestamp, is read next time.
-- Moved in the same transaction as the rows. pipelines/ingest/load.py, platform migration 0004.
-- materialized: bookkeeping (advanced by the ingest)
create table if not exists ops.capture_cursors (
    table_name varchar,
    change_from bigint not null,
    advanced_at timestamp not null
);

comment on table ops.capture_cursors is
    'Change-capture cursor per platform table: the next ingest reads rows with change_id >= change_from';
comment on column ops.capture_cursors.change_from is 'PostgreSQL: the xmin of the snapshot before the last read; SQLite: the commit counter + 1';
