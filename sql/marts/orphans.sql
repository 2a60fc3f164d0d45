-- marts.orphans: the rows of ops.orphans (the maintenance job's bookkeeping: it writes
-- them, sql/ops/orphans.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.orphans as
select * from ops.orphans;

comment on view marts.orphans is
    'Platform rows whose parent row is missing, per foreign-key relation and maintenance run';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- relation: e.g. executions.hiring_id -> hirings.id
-- orphan_rows: rows of child_table whose child_column names a missing parent
-- sample_ids: up to 20 ids of such rows, smallest first
-- checked_at: when the maintenance run checked (UTC)
-- run_id: the Dagster run id of the maintenance run that checked
-- child_table: the table holding the foreign key
-- child_column: the foreign key column
-- parent_table: the table it should name a row of
