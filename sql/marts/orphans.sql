-- marts.orphans: the rows of ops.orphans (the maintenance job's bookkeeping: it writes
-- them, sql/ops/orphans.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.orphans as
select * from ops.orphans;

comment on view marts.orphans is
    'Platform rows whose parent row is missing, per foreign-key relation and maintenance run';
comment on column marts.orphans.relation is 'e.g. executions.hiring_id -> hirings.id';
comment on column marts.orphans.orphan_rows is 'rows of child_table whose child_column names a missing parent';
comment on column marts.orphans.sample_ids is 'up to 20 ids of such rows, smallest first';
comment on column marts.orphans.checked_at is 'when the maintenance run checked (UTC)';
comment on column marts.orphans.run_id is 'the Dagster run id of the maintenance run that checked';
comment on column marts.orphans.child_table is 'the table holding the foreign key';
comment on column marts.orphans.child_column is 'the foreign key column';
comment on column marts.orphans.parent_table is 'the table it should name a row of';
