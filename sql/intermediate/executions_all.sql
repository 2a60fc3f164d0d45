-- intermediate.executions_all: every execution the platform ever had, exactly once per id.
-- Incremental: each run rewrites only the rows that changed, merged on id: rows the ingest
-- (re)loaded since this table's cursor (ops.watermarks 'executions_all': the newest raw
-- _ingested_at, or deletion found, already merged), rows deleted on the platform by hand
-- (ops.platform_deletions: they leave) and rows whose quarantine flag flipped (an orphan whose parent
-- arrived, a row a rule now catches). changed_at is the run that last wrote a row: trust reads
-- only rows changed since its own cursor. Parameter: $run_at.
-- The union of the warehouse mirror (staging.stg_executions, which keeps rows purged from
-- the platform) and the maintenance archive (ops.archived_executions, the listed Parquet
-- files), each id once: the mirror's row when it has one, the archive's otherwise (a warehouse
-- rebuilt after a purge); is_archived when the id is in the archive. A file newly archived
-- flips its rows' is_archived, so they count as changed.
-- Quarantined rows are present but flagged: statistics read the rows where is_quarantined is
-- false. marts.executions_all publishes it to analysts.
-- materialized: incremental
-- grain: id
-- written: changed_at = (select max(changed_at) from intermediate.executions_all)
-- report: rows = count(*), quarantined = count(*) filter (where is_quarantined), rewritten = count(*) filter (where changed_at = (select max(changed_at) from intermediate.executions_all))
create table if not exists intermediate.executions_all (
    id bigint,
    agent_id bigint,
    hiring_id bigint,
    user_id bigint,
    status varchar,
    started_at timestamp,
    completed_at timestamp,
    duration_ms bigint,
    input_data varchar,
    output_data varchar,
    error_message varchar,
    cpu_usage double,
    memory_usage double,
    disk_usage double,
    execution_id varchar,
    acp_session_id varchar,
    created_at timestamp,
    updated_at timestamp,
    is_archived boolean not null,
    is_quarantined boolean not null,
    changed_at timestamp
);

create or replace temp table _executions_flagged as
select distinct row_key as id from intermediate.quarantine where table_name = 'executions';

create or replace temp table _executions_archived as
select distinct id from ops.archived_executions;

create or replace temp table _executions_changed as
select id from staging.stg_executions
where _ingested_at > (
    select coalesce(max(advanced_at), timestamp '-infinity')
    from ops.watermarks where table_name = 'executions_all'
)
union
-- deleted on the platform by hand (gone from raw; not archived): they leave this table
select id from ops.platform_deletions
where table_name = 'executions'
  and detected_at > (
    select coalesce(max(advanced_at), timestamp '-infinity')
    from ops.watermarks where table_name = 'executions_all'
  )
union
select id from _executions_flagged
where id not in (select id from intermediate.executions_all where is_quarantined)
union
select id from intermediate.executions_all
where is_quarantined and id not in (select id from _executions_flagged)
union
select id from _executions_archived
where id not in (select id from intermediate.executions_all where is_archived)
union
select id from intermediate.executions_all
where is_archived and id not in (select id from _executions_archived);

delete from intermediate.executions_all where id in (select id from _executions_changed);

insert into intermediate.executions_all
with rows_now as (
    select id, agent_id, hiring_id, user_id, status, started_at, completed_at, duration_ms,
           input_data, output_data, error_message, cpu_usage, memory_usage, disk_usage,
           execution_id, acp_session_id, created_at, updated_at
    from staging.stg_executions
    where id in (select id from _executions_changed)
    union all
    select id, agent_id, hiring_id, user_id, status, started_at, completed_at, duration_ms,
           input_data, output_data, error_message, cpu_usage, memory_usage, disk_usage,
           execution_id, acp_session_id, created_at, updated_at
    from ops.archived_executions
    where id in (select id from _executions_changed)
      and id not in (select id from staging.stg_executions)
    -- an id in two archive files (never written so; a restored copy) counts once
    qualify row_number() over (partition by id order by updated_at desc) = 1
)
select m.*,
       a.id is not null as is_archived,
       f.id is not null as is_quarantined,
       $run_at as changed_at
from rows_now as m
left join _executions_archived as a using (id)
left join _executions_flagged as f using (id);

merge into ops.watermarks as w
using (
select 'executions_all' as table_name, null::timestamp as updated_at, 0::bigint as last_id,
       max(changed) as advanced_at
from (
    select max(_ingested_at) as changed from staging.stg_executions
    union all
    select max(detected_at) from ops.platform_deletions where table_name = 'executions'
)
having max(changed) is not null
) as s
on w.table_name = s.table_name
when matched then update set * when not matched then insert *;

drop table _executions_flagged;
drop table _executions_changed;
drop table _executions_archived;

comment on table intermediate.executions_all is
    'Every execution the platform ever had, one row per id: the warehouse mirror and the maintenance archive (is_archived), so purges never lower all-time counts; statistics use rows where is_quarantined is false';
comment on column intermediate.executions_all.changed_at is
    'when the pipeline run that last (re)wrote this row ran (UTC): rows changed since a given run';
