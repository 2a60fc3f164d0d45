-- ops.ingest_runs: the ingest's run log (grain: one table in one run).
-- materialized: bookkeeping (appended by the ingest, pipelines/ingest/load.py)
create table if not exists ops.ingest_runs (
    table_name varchar not null,
    started_at timestamp not null,
    seconds double not null,
    rows_read bigint not null,
    rows_inserted bigint not null,
    rows_updated bigint not null,
    source_rows bigint not null,
    watermark_updated_at timestamp,
    watermark_id bigint,
    duplicate_ids bigint
);
-- Added after the first release: warehouses built before keep their rows (null: not counted).
alter table ops.ingest_runs add column if not exists duplicate_ids bigint;

comment on table ops.ingest_runs is 'One row per table per ingest run: rows read, inserted, updated';
comment on column ops.ingest_runs.rows_read is 'rows read from the platform, lookback re-reads included';
comment on column ops.ingest_runs.rows_inserted is 'ids new to the warehouse';
comment on column ops.ingest_runs.rows_updated is 'ids already present whose updated_at changed';
comment on column ops.ingest_runs.source_rows is 'row count of the platform table after the read';
comment on column ops.ingest_runs.duplicate_ids is 'ids the run left more than once in raw (0 unless the merge is broken): counted over the rows it merged';
