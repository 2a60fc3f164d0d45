-- marts.table_health: the rows of ops.table_health (the maintenance job's bookkeeping: it writes
-- them, sql/ops/table_health.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.table_health as
select * from ops.table_health;

comment on view marts.table_health is
    'Platform table sizes and use per maintenance run: rows, bytes, dead tuples, scans, unused indexes, growth';
comment on column marts.table_health.total_bytes is 'table, indexes and TOAST (PostgreSQL) or table and indexes (SQLite dbstat)';
comment on column marts.table_health.index_bytes is 'indexes alone (PostgreSQL)';
comment on column marts.table_health.dead_tuple_ratio is 'dead / (live + dead) tuples (PostgreSQL); high after purges until VACUUM';
comment on column marts.table_health.seq_scans is 'sequential scans since statistics were reset (PostgreSQL)';
comment on column marts.table_health.index_scans is 'index scans since statistics were reset (PostgreSQL)';
comment on column marts.table_health.unused_indexes is 'non-unique indexes never scanned (PostgreSQL)';
comment on column marts.table_health.pages is 'pages of the table and its indexes (SQLite)';
comment on column marts.table_health.rows_per_day is 'growth in rows per day since the previous run (negative after purges); NULL on the first run';
comment on column marts.table_health.run_id is 'the Dagster run id of the maintenance run that measured';
comment on column marts.table_health.checked_at is 'when the maintenance run measured (UTC)';
comment on column marts.table_health.table_name is 'the platform table';
comment on column marts.table_health.rows is 'rows in the table (exact count)';
