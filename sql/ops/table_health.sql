-- ops.table_health: per platform table and maintenance run, its size and use (grain: run_id,
-- table_name): exact rows; on PostgreSQL total and index bytes, the dead-tuple ratio,
-- sequential and index scans since the statistics were reset and the indexes never scanned
-- (pg_stat_user_tables / pg_stat_user_indexes; primary keys and unique indexes excluded); on
-- SQLite the pages and bytes from dbstat. rows_per_day is the growth since the previous run.
-- Measured after the purge and its VACUUM (pipelines/maintenance/health.py).
-- The analysts' name is the view marts.table_health (sql/marts/table_health.sql).
-- materialized: bookkeeping (written by the maintenance job)
create table if not exists ops.table_health (
    run_id varchar not null,
    checked_at timestamp not null,
    table_name varchar not null,
    rows bigint not null,
    total_bytes bigint,
    index_bytes bigint,
    dead_tuple_ratio double,
    seq_scans bigint,
    index_scans bigint,
    unused_indexes varchar[],
    pages bigint,
    rows_per_day double
);

comment on table ops.table_health is
    'Platform table sizes and use per maintenance run: rows, bytes, dead tuples, scans, unused indexes, growth';
