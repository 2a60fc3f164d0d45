-- intermediate.quarantine: rows that break a data rule, kept out of the statistics.
-- The rules judge the rows as the platform sent them: staging exposes every mirrored column. A row breaking
-- one rule in two ways (input_data and output_data both invalid JSON) has a row per detail.
-- A row keeps the detected_at of the run that first flagged it.
-- Incremental for the two large tables (executions, agent_metrics): a rule that reads only the
-- row itself (invalid JSON, durations, statuses, values, UTF-8) is evaluated for the rows
-- ingested since the last run (ops.watermarks 'quarantine'), and earlier findings on the
-- other rows are kept; the rules that can change without the row changing are evaluated
-- for the changed rows and the rows they flagged before: future_timestamp (time passes),
-- orphans (the parent arrives; the mirror never loses a parent, so a valid row cannot become
-- an orphan) and duplicates (the groups of changed or flagged rows). Reading every row's JSON
-- each run cost 1.9 s and 0.8 GB of RSS at 2M executions, 65 s at 10M (bench/pipeline.py).
-- The small tables are evaluated whole. $sql_version (a hash of this file's statements, kept
-- as the cursor's last_id) changes whenever the rules do, and a version the cursor does not
-- carry re-evaluates every row once; editing a comment changes nothing.
-- Parameter: $run_at (UTC timestamp of the run). marts.quarantine publishes it to analysts.
-- Text the SQLite reader could not decode as UTF-8 arrives with U+FFFD in place of the bad
-- bytes (pipelines/ingest/extract.py): not_utf8 finds it; utf8_columns names the columns of
-- such a row for the detail (to_json only on the few rows that match).
-- materialized: table
-- grain: table_name, row_key, rule, detail
-- report: quarantined_rows = count(*), tables = count(distinct table_name)
-- The staging rows under the names the rules use (the platform's own column names: the rules
-- read the rows as the platform sent them).
create or replace temp view _q_executions as select * from staging.stg_executions;
create or replace temp view _q_agent_metrics as
select * rename (point_id as id) from staging.stg_agent_metrics;
create or replace temp view _q_agents as
select * rename (agent_id as id, agent_name as name) from staging.stg_agents;
create or replace temp view _q_users as select * rename (user_id as id) from staging.stg_users;
create or replace temp view _q_hirings as select * rename (hiring_id as id) from staging.stg_hirings;
create or replace temp view _q_agent_reviews as
select * rename (review_id as id) from staging.stg_agent_reviews;

create or replace temp macro not_utf8(s) as coalesce(contains(s, chr(65533)), false);
create or replace temp macro utf8_columns(r) as
    'bytes that are not UTF-8 (shown as U+FFFD) in ' || array_to_string(
        list_filter(json_keys(to_json(r)), lambda k: not_utf8(to_json(r) ->> k)), ', ');

create table if not exists intermediate.quarantine (
    table_name varchar not null,
    row_key bigint not null,
    rule varchar not null,
    detail varchar,
    detected_at timestamp not null
);

-- The newest _ingested_at this model has judged, when judged by these rules (else everything).
set variable quarantine_since = (
    select coalesce(max(advanced_at), timestamp '-infinity') from ops.watermarks
    where table_name = 'quarantine' and last_id = $sql_version
);

-- Rules that read the row alone, per large table: findings on unchanged rows are kept.
create or replace temp table _quarantine_row_rules as
select * from (values
    ('executions', 'invalid_json'), ('executions', 'negative_duration'),
    ('executions', 'absurd_duration'), ('executions', 'completed_before_started'),
    ('executions', 'unknown_status'), ('executions', 'missing_completed_at'),
    ('executions', 'missing_timestamp'), ('executions', 'invalid_utf8'),
    ('agent_metrics', 'invalid_value'), ('agent_metrics', 'invalid_utf8')
) as t(table_name, rule);

create or replace temp table _quarantine_before as
select * from intermediate.quarantine
where getvariable('quarantine_since') > timestamp '-infinity';

create or replace temp table _changed_executions as
select id from _q_executions where _ingested_at > getvariable('quarantine_since');
create or replace temp table _changed_metrics as
select id from _q_agent_metrics where _ingested_at > getvariable('quarantine_since');

create or replace temp table _quarantine_now as
with
changed_executions as (
    select * from _q_executions where _ingested_at > getvariable('quarantine_since')
),
-- Rows whose verdict may have changed without the row changing: flagged by a rule that
-- depends on other rows or on the clock.
recheck_executions as (
    select * from _q_executions
    where id in (select id from _changed_executions)
       or id in (select row_key from _quarantine_before
                 where table_name = 'executions'
                   and rule in ('future_timestamp', 'orphaned_agent', 'orphaned_hiring',
                                'orphaned_user'))
),
-- Duplicate execution_ids are found by their 64-bit hashes first, then confirmed on the
-- strings: sets and joins of 10M UUID strings ran a first run over 10M executions out of its
-- 1 GB (bench/pipeline.py); their hashes take a fifth of the memory. A hash two ids share by
-- chance only makes them candidates; the group by execution_id below decides.
duplicate_keys as (
    select hash(execution_id) as h from _q_executions
    where id in (select id from _changed_executions) and execution_id is not null
    union
    select hash(e.execution_id) from _q_executions as e
    join _quarantine_before as q
      on q.table_name = 'executions' and q.rule = 'duplicate_execution_id' and q.row_key = e.id
    where e.execution_id is not null
),
duplicate_hashes as (
    select hash(execution_id) as h from _q_executions
    where execution_id is not null and hash(execution_id) in (select h from duplicate_keys)
    group by h having count(*) > 1
),
agent_ids as (select id from _q_agents),
user_ids as (select id from _q_users),
hiring_ids as (select id from _q_hirings),

execution_rules as (
    select 'executions' as table_name, id as row_key, 'invalid_json' as rule,
           'input_data is not valid JSON' as detail
    from changed_executions where input_data is not null and not json_valid(input_data)
    union all
    select 'executions', id, 'invalid_json', 'output_data is not valid JSON'
    from changed_executions where output_data is not null and not json_valid(output_data)
    union all
    select 'executions', id, 'negative_duration', 'duration_ms = ' || duration_ms
    from changed_executions where duration_ms < 0
    union all
    select 'executions', id, 'absurd_duration', 'duration_ms = ' || duration_ms || ' (over 24 h)'
    from changed_executions where duration_ms > 86400000
    union all
    select 'executions', id, 'completed_before_started',
           'completed_at ' || completed_at || ' < started_at ' || started_at
    from changed_executions where completed_at < started_at
    union all
    select 'executions', id, 'unknown_status', 'status = ' || coalesce(status, 'NULL')
    from changed_executions
    where status is null
       or status not in ('pending', 'running', 'completed', 'failed', 'timeout', 'cancelled')
    union all
    select 'executions', id, 'missing_completed_at', status || ' without completed_at'
    from changed_executions
    where status in ('completed', 'failed', 'timeout') and completed_at is null
    union all
    select 'executions', id, 'missing_timestamp', 'created_at or updated_at is NULL or unparseable'
    from changed_executions where created_at is null or updated_at is null
    union all
    select 'executions', e.id, 'invalid_utf8', utf8_columns(e)
    from changed_executions as e
    where not_utf8(status) or not_utf8(input_data) or not_utf8(output_data)
       or not_utf8(error_message) or not_utf8(execution_id) or not_utf8(acp_session_id)
    union all
    -- The detail names the row's own newest timestamp, not the run time: it is part of the
    -- grain, and a detail that changed every run would reset detected_at every run.
    select 'executions', id, 'future_timestamp',
           'newest timestamp ' || greatest(created_at, updated_at, started_at, completed_at)
               || ' is after the run'
    from recheck_executions
    where greatest(created_at, updated_at, started_at, completed_at)
          > $run_at + interval 5 minute
    union all
    select 'executions', id, 'orphaned_agent', 'agent_id ' || agent_id || ' does not exist'
    from recheck_executions where agent_id is null or agent_id not in (select id from agent_ids)
    union all
    select 'executions', id, 'orphaned_hiring', 'hiring_id ' || hiring_id || ' does not exist'
    from recheck_executions
    where hiring_id is not null and hiring_id not in (select id from hiring_ids)
    union all
    select 'executions', id, 'orphaned_user', 'user_id ' || user_id || ' does not exist'
    from recheck_executions
    where user_id is not null and user_id not in (select id from user_ids)
    union all
    select 'executions', e.id, 'duplicate_execution_id',
           'execution_id ' || e.execution_id || ' also on id ' || d.first_id
    from _q_executions as e
    join (
        -- a hash aggregate, not a sort: only repeated ids come out
        select execution_id, min(id) as first_id from _q_executions
        where execution_id is not null
          and hash(execution_id) in (select h from duplicate_hashes)
        group by execution_id having count(*) > 1
    ) as d using (execution_id)
    where e.id <> d.first_id
),

changed_metrics as (
    select * from _q_agent_metrics where _ingested_at > getvariable('quarantine_since')
),
recheck_metrics as (
    select * from _q_agent_metrics
    where id in (select id from _changed_metrics)
       or id in (select row_key from _quarantine_before
                 where table_name = 'agent_metrics'
                   and rule in ('future_timestamp', 'orphaned_agent'))
),
duplicate_points as (
    select agent_id, metric_name, recorded_at, metric_value from changed_metrics
    union
    select m.agent_id, m.metric_name, m.recorded_at, m.metric_value from _q_agent_metrics as m
    join _quarantine_before as q
      on q.table_name = 'agent_metrics' and q.rule = 'duplicate_point' and q.row_key = m.id
),

metric_rules as (
    select 'agent_metrics' as table_name, id as row_key, 'invalid_value' as rule,
           'metric_value = ' || coalesce(metric_value::varchar, 'NULL') as detail
    from changed_metrics where metric_value is null or isnan(metric_value) or isinf(metric_value)
    union all
    select 'agent_metrics', m.id, 'invalid_utf8', utf8_columns(m)
    from changed_metrics as m
    where not_utf8(metric_name) or not_utf8(tags)
    union all
    select 'agent_metrics', id, 'orphaned_agent', 'agent_id ' || agent_id || ' does not exist'
    from recheck_metrics where agent_id is null or agent_id not in (select id from agent_ids)
    union all
    select 'agent_metrics', id, 'future_timestamp', 'recorded_at ' || recorded_at || ' is after the run'
    from recheck_metrics where recorded_at > $run_at + interval 5 minute or recorded_at is null
    union all
    select 'agent_metrics', m.id, 'duplicate_point',
           'same agent, metric, time and value as id ' || d.first_id
    from _q_agent_metrics as m
    join (
        select agent_id, metric_name, recorded_at, metric_value, min(id) as first_id
        from _q_agent_metrics
        semi join duplicate_points using (agent_id, metric_name, recorded_at, metric_value)
        group by agent_id, metric_name, recorded_at, metric_value having count(*) > 1
    ) as d using (agent_id, metric_name, recorded_at, metric_value)
    where m.id <> d.first_id
),

other_rules as (
    select 'hirings' as table_name, id as row_key, 'orphaned_agent' as rule,
           'agent_id ' || agent_id || ' does not exist' as detail
    from _q_hirings where agent_id is null or agent_id not in (select id from agent_ids)
    union all
    select 'hirings', id, 'orphaned_user', 'user_id ' || user_id || ' does not exist'
    from _q_hirings where user_id is not null and user_id not in (select id from user_ids)
    union all
    select 'hirings', id, 'unknown_status', 'status = ' || coalesce(status, 'NULL')
    from _q_hirings
    where status is null or status not in ('active', 'expired', 'cancelled', 'suspended')
    union all
    select 'agents', id, 'unknown_status', 'status = ' || coalesce(status, 'NULL')
    from _q_agents
    where status is null
       or status not in ('draft', 'submitted', 'approved', 'rejected', 'active', 'inactive')
    union all
    select 'agent_reviews', id, 'rating_out_of_range', 'rating = ' || coalesce(rating::varchar, 'NULL')
    from _q_agent_reviews where rating is null or rating not between 1 and 5
    union all
    select 'agent_reviews', id, 'orphaned_agent', 'agent_id ' || agent_id || ' does not exist'
    from _q_agent_reviews where agent_id is null or agent_id not in (select id from agent_ids)
    union all
    select 'agent_reviews', id, 'orphaned_user', 'reviewer_id ' || reviewer_id || ' does not exist'
    from _q_agent_reviews where reviewer_id is null or reviewer_id not in (select id from user_ids)
    union all
    select 'users', u.id, 'invalid_utf8', utf8_columns(u)
    from _q_users as u
    where not_utf8(username) or not_utf8(email) or not_utf8(full_name)
       or not_utf8(hashed_password) or not_utf8(avatar_url) or not_utf8(bio)
       or not_utf8(website) or not_utf8(preferences)
    union all
    select 'agents', a.id, 'invalid_utf8', utf8_columns(a)
    from _q_agents as a
    where not_utf8(name) or not_utf8(description) or not_utf8(version) or not_utf8(author)
       or not_utf8(email) or not_utf8(entry_point) or not_utf8(requirements)
       or not_utf8(config_schema) or not_utf8(code_zip_url) or not_utf8(code_hash)
       or not_utf8(docker_image) or not_utf8(code) or not_utf8(file_path) or not_utf8(tags)
       or not_utf8(category) or not_utf8(pricing_model) or not_utf8(status)
       or not_utf8(validation_errors)
    union all
    select 'hirings', h.id, 'invalid_utf8', utf8_columns(h)
    from _q_hirings as h
    where not_utf8(status) or not_utf8(config) or not_utf8(acp_endpoint)
       or not_utf8(billing_cycle)
    union all
    select 'agent_reviews', r.id, 'invalid_utf8', utf8_columns(r)
    from _q_agent_reviews as r
    where not_utf8(comment)
)

select * from execution_rules
union all
select * from metric_rules
union all
select * from other_rules
union all
-- Earlier findings of the row-alone rules on rows that did not change since, unless the row
-- was deleted on the platform by hand (ops.platform_deletions): its finding leaves with it.
select b.table_name, b.row_key, b.rule, b.detail
from _quarantine_before as b
semi join _quarantine_row_rules as r using (table_name, rule)
anti join ops.platform_deletions as d on d.table_name = b.table_name and d.id = b.row_key
where (b.table_name = 'executions' and b.row_key not in (select id from _changed_executions))
   or (b.table_name = 'agent_metrics' and b.row_key not in (select id from _changed_metrics));

create or replace table intermediate.quarantine as
select now_.table_name, now_.row_key, now_.rule, now_.detail,
       coalesce(before.detected_at, $run_at) as detected_at
from _quarantine_now as now_
left join intermediate.quarantine as before
    on before.table_name = now_.table_name
   and before.row_key = now_.row_key
   and before.rule = now_.rule
   and before.detail is not distinct from now_.detail;

merge into ops.watermarks as w
using (
select 'quarantine' as table_name, null::timestamp as updated_at,
       $sql_version::bigint as last_id, max(newest) as advanced_at
from (
    select max(_ingested_at) as newest from _q_executions
    union all
    select max(_ingested_at) from _q_agent_metrics
)
having max(newest) is not null
) as s
on w.table_name = s.table_name
when matched then update set * when not matched then insert *;

drop table _quarantine_now;
drop table _quarantine_before;
drop table _quarantine_row_rules;
drop table _changed_executions;
drop table _changed_metrics;
reset variable quarantine_since;
drop macro utf8_columns;
drop macro not_utf8;
drop view _q_executions;
drop view _q_agent_metrics;
drop view _q_agents;
drop view _q_users;
drop view _q_hirings;
drop view _q_agent_reviews;

comment on table intermediate.quarantine is
    'Rows that break a data rule and are kept out of the statistics (grain: table_name, row_key, rule, detail)';
