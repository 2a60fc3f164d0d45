-- intermediate.executions_all: every execution the platform ever had, exactly once per id.
-- Today staging.stg_executions (the warehouse mirror, which keeps rows purged from the
-- platform); once maintenance archives executions, the archive joins here, each id once.
-- Quarantined rows are present but flagged: statistics read the rows where is_quarantined is
-- false. marts.executions_all publishes it to analysts.
-- The JSON documents are stored with ZSTD: long and unique per row, they gain little from the
-- default dictionary + FSST compression, which costs more CPU to choose and apply (this
-- rebuild went from 4.6 s to 3.6 s over 10M executions in bench/marts.py's data).
-- materialized: table
-- grain: id
-- report: rows = count(*), quarantined = count(*) filter (where is_quarantined)
create or replace table intermediate.executions_all (
    id bigint,
    agent_id bigint,
    hiring_id bigint,
    user_id bigint,
    status varchar,
    started_at timestamp,
    completed_at timestamp,
    duration_ms bigint,
    input_data varchar using compression zstd,
    output_data varchar using compression zstd,
    error_message varchar,
    cpu_usage double,
    memory_usage double,
    disk_usage double,
    execution_id varchar,
    acp_session_id varchar,
    created_at timestamp,
    updated_at timestamp,
    is_archived boolean not null,
    is_quarantined boolean not null
);

insert into intermediate.executions_all
with
mirror as (select * from staging.stg_executions),
flagged as (
    select distinct row_key from intermediate.quarantine where table_name = 'executions'
)
select m.id, m.agent_id, m.hiring_id, m.user_id, m.status, m.started_at, m.completed_at,
       m.duration_ms, m.input_data, m.output_data, m.error_message, m.cpu_usage,
       m.memory_usage, m.disk_usage, m.execution_id, m.acp_session_id,
       m.created_at, m.updated_at,
       false as is_archived,
       f.row_key is not null as is_quarantined
from mirror as m
left join flagged as f on f.row_key = m.id;

comment on table intermediate.executions_all is
    'Every execution the platform ever had, one row per id (the warehouse mirror, which keeps rows purged from the platform; the maintenance archive joins here once one is written); statistics use rows where is_quarantined is false';
