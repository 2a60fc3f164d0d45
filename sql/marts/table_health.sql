-- marts.table_health: per platform table and maintenance run, its size and use (grain: run_id,
-- table_name): exact rows; on PostgreSQL total and index bytes, the dead-tuple ratio,
-- sequential and index scans since the statistics were reset and the indexes never scanned
-- (pg_stat_user_tables / pg_stat_user_indexes; primary keys and unique indexes excluded); on
-- SQLite the pages and bytes from dbstat. rows_per_day is the growth since the previous run.
-- Measured after the purge and its VACUUM (pipelines/maintenance/health.py).
-- materialized: bookkeeping (written by the maintenance job)
create table if not exists marts.table_health (
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
    rows_per_day double,
    primary key (run_id, table_name)
);

comment on table marts.table_health is
    'Platform table sizes and use per maintenance run: rows, bytes, dead tuples, scans, unused indexes, growth';
comment on column marts.table_health.total_bytes is 'table, indexes and TOAST (PostgreSQL) or table and indexes (SQLite dbstat)';
comment on column marts.table_health.index_bytes is 'indexes alone (PostgreSQL)';
comment on column marts.table_health.dead_tuple_ratio is 'dead / (live + dead) tuples (PostgreSQL); high after purges until VACUUM';
comment on column marts.table_health.seq_scans is 'sequential scans since statistics were reset (PostgreSQL)';
comment on column marts.table_health.index_scans is 'index scans since statistics were reset (PostgreSQL)';
comment on column marts.table_health.unused_indexes is 'non-unique indexes never scanned (PostgreSQL)';
comment on column marts.table_health.pages is 'pages of the table and its indexes (SQLite)';
comment on column marts.table_health.rows_per_day is 'growth in rows per day since the previous run (negative after purges); NULL on the first run';
