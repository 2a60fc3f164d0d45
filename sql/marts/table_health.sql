-- marts.table_health: the rows of ops.table_health (the maintenance job's bookkeeping: it writes
-- them, sql/ops/table_health.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.table_health as
select * from ops.table_health;

comment on view marts.table_health is
    'Platform table sizes and use per maintenance run: rows, bytes, dead tuples, scans, unused indexes, growth';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- total_bytes: table, indexes and TOAST (PostgreSQL) or table and indexes (SQLite dbstat)
-- index_bytes: indexes alone (PostgreSQL)
-- dead_tuple_ratio: dead / (live + dead) tuples (PostgreSQL); high after purges until VACUUM
-- seq_scans: sequential scans since statistics were reset (PostgreSQL)
-- index_scans: index scans since statistics were reset (PostgreSQL)
-- unused_indexes: non-unique indexes never scanned (PostgreSQL)
-- pages: pages of the table and its indexes (SQLite)
-- rows_per_day: growth in rows per day since the previous run (negative after purges); NULL on the first run
-- run_id: the Dagster run id of the maintenance run that measured
-- checked_at: when the maintenance run measured (UTC)
-- table_name: the platform table
-- rows: rows in the table (exact count)
