-- ops.platform_deletions: rows deleted on the platform by hand (not purged by maintenance),
-- found by comparing every platform id with the raw mirror (grain: table_name, id). The
-- finding removes the row from raw; what each row touched is kept here so the next pipeline
-- run takes it out of everything built from it: executions_all, the days to rebuild, the
-- agents whose trust to recompute, quarantine findings. Nothing personal is kept (ids, days
-- and times only), so a deleted user's email and names leave the warehouse with the row.
-- pipelines/ingest/deletions.py.
-- materialized: bookkeeping (appended by the ops/platform_deletions asset of daily_checks)
create table if not exists ops.platform_deletions (
    table_name varchar not null,
    id bigint not null,
    -- the UTC day the row counted on (its daily partitions are rebuilt)
    day date,
    agent_id bigint,
    -- for executions: when it finished (trust is recomputed for its agent from then on)
    occurred_at timestamp,
    detected_at timestamp not null
);

comment on table ops.platform_deletions is
    'Rows deleted on the platform by hand (not archived), found by the daily comparison of every platform id with raw, then removed from raw';
comment on column ops.platform_deletions.detected_at is 'when the comparison found the row gone (UTC)';
