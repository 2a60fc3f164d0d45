-- ops.maintenance_runs: one row per maintenance run and operation (grain: run_id, operation):
-- what it did, how many rows and bytes, how long, and whether it was a dry run (a dry run
-- records what it would have done).
-- The analysts' name is the view marts.maintenance_runs (sql/marts/maintenance_runs.sql).
-- materialized: bookkeeping (written by the maintenance job, pipelines/maintenance/assets.py)
create table if not exists ops.maintenance_runs (
    run_id varchar not null,
    started_at timestamp not null,
    operation varchar not null,
    dry_run boolean not null,
    rows bigint not null,
    bytes bigint not null,
    seconds double not null,
    detail varchar
);

comment on table ops.maintenance_runs is
    'One row per maintenance run and operation: rows and bytes affected, seconds, dry run or not';
