-- ops.pending_days: the UTC days whose daily partitions are owed a rebuild (grain: day).
-- A day enters when a pipeline run ingests a row on it (ops.touched_days) and leaves only when
-- every day-partitioned mart has been rebuilt for it (ops.days_rebuilt): a run that touched a
-- day and then failed, or whose partition run failed, leaves the day owed, and the next run
-- asks for it again instead of losing it.
-- materialized: bookkeeping (filled by ops.touched_days, emptied by ops.days_rebuilt)
create table if not exists ops.pending_days (
    day date,
    touched_at timestamp not null
);

comment on table ops.pending_days is
    'UTC days whose daily partitions must still be rebuilt: touched by an ingest, not yet rebuilt by every day-partitioned mart';
comment on column ops.pending_days.touched_at is 'when a pipeline run first found new rows on that day (UTC)';
