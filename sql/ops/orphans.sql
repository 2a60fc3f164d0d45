-- ops.orphans: per maintenance run and foreign-key relation of the platform schema, the rows
-- whose parent is missing (grain: run_id, relation). Zero rows are recorded too, so a
-- dashboard can tell "checked, none" from "not checked" (pipelines/maintenance/health.py).
-- The analysts' name is the view marts.orphans (sql/marts/orphans.sql).
-- materialized: bookkeeping (written by the maintenance job)
create table if not exists ops.orphans (
    run_id varchar not null,
    checked_at timestamp not null,
    relation varchar not null,
    child_table varchar not null,
    child_column varchar not null,
    parent_table varchar not null,
    orphan_rows bigint not null,
    sample_ids bigint[]
);

comment on table ops.orphans is
    'Platform rows whose parent row is missing, per foreign-key relation and maintenance run';
