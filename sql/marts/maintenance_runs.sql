-- marts.maintenance_runs: one row per maintenance run and operation (grain: run_id, operation):
-- what it did, how many rows and bytes, how long, and whether it was a dry run (a dry run
-- records what it would have done).
-- materialized: bookkeeping (written by the maintenance job, pipelines/maintenance/assets.py)
create table if not exists marts.maintenance_runs (
    run_id varchar not null,
    started_at timestamp not null,
    operation varchar not null,
    dry_run boolean not null,
    rows bigint not null,
    bytes bigint not null,
    seconds double not null,
    detail varchar,
    primary key (run_id, operation)
);

comment on table marts.maintenance_runs is
    'One row per maintenance run and operation: rows and bytes affected, seconds, dry run or not';
comment on column marts.maintenance_runs.rows is 'rows the operation changed (or would change, in a dry run)';
comment on column marts.maintenance_runs.detail is 'what the operation found, in words (JSON for lists)';
