-- marts.orphans: per maintenance run and foreign-key relation of the platform schema, the rows
-- whose parent is missing (grain: run_id, relation). Zero rows are recorded too, so a
-- dashboard can tell "checked, none" from "not checked" (pipelines/maintenance/health.py).
-- materialized: bookkeeping (written by the maintenance job)
create table if not exists marts.orphans (
    run_id varchar not null,
    checked_at timestamp not null,
    relation varchar not null,
    child_table varchar not null,
    child_column varchar not null,
    parent_table varchar not null,
    orphan_rows bigint not null,
    sample_ids bigint[],
    primary key (run_id, relation)
);

comment on table marts.orphans is
    'Platform rows whose parent row is missing, per foreign-key relation and maintenance run';
comment on column marts.orphans.relation is 'e.g. executions.hiring_id -> hirings.id';
comment on column marts.orphans.orphan_rows is 'rows of child_table whose child_column names a missing parent';
comment on column marts.orphans.sample_ids is 'up to 20 ids of such rows, smallest first';
comment on column marts.orphans.checked_at is 'when the maintenance run checked (UTC)';
