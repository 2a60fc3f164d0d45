-- marts.data_quality: quarantine counts per table and rule, one snapshot per run, and the
-- trust records the platform write-back left out (ops.writeback_rejections).
-- Parameter: $run_at.
-- materialized: incremental
-- grain: checked_at, table_name, rule
-- report: snapshots = count(distinct checked_at)
create table if not exists marts.data_quality (
    checked_at timestamp not null,
    table_name varchar not null,
    rule varchar not null,
    quarantined_rows bigint not null,
    table_rows bigint not null
);

delete from marts.data_quality where checked_at = $run_at;

insert into marts.data_quality
with
flagged as (
    select table_name, count(distinct row_key) as rows from intermediate.quarantine group by 1
),
-- Every row a table has in the warehouse: the valid ones and the quarantined ones.
table_sizes as (
    select 'executions' as table_name, count(*) as table_rows from intermediate.executions_all
    union all
    select t.table_name, t.valid + coalesce(f.rows, 0)
    from (
        select 'hirings' as table_name, count(*) as valid from intermediate.valid_hirings
        union all select 'agents', count(*) from intermediate.valid_agents
        union all select 'users', count(*) from intermediate.valid_users
        union all select 'agent_reviews', count(*) from intermediate.valid_agent_reviews
        union all select 'agent_metrics', count(*) from intermediate.valid_agent_metrics
    ) as t
    left join flagged as f using (table_name)
)
select $run_at, q.table_name, q.rule, count(*) as quarantined_rows, any_value(s.table_rows)
from intermediate.quarantine as q
join table_sizes as s using (table_name)
group by q.table_name, q.rule
union all
-- What the platform write-back could not send (an agent deleted on the platform), counted
-- up to the previous run's write-back (this model runs before the write-back).
select $run_at, table_name, rule, sum(records),
       (select count(*) from marts.trust_events)
from ops.writeback_rejections
group by table_name, rule;

comment on table marts.data_quality is
    'Quarantined rows per table and rule, one snapshot per pipeline run (grain: checked_at, table_name, rule)';
comment on column marts.data_quality.checked_at is 'the run that counted (UTC)';
comment on column marts.data_quality.quarantined_rows is 'rows of table_name breaking rule (for trust_records: records the write-back left out, all time)';
comment on column marts.data_quality.table_rows is 'all rows of table_name in the warehouse at that run (valid and quarantined)';
comment on column marts.data_quality.table_name is 'platform table';
comment on column marts.data_quality.rule is 'the rule broken (see intermediate.quarantine)';
