-- marts.quarantine: rows that break a data rule and stay out of every statistic, one row per
-- (table_name, row_key, rule, detail). Analysts' name for intermediate.quarantine, where the
-- rules are.
-- materialized: view
create or replace view marts.quarantine as
select table_name, row_key, rule, detail, detected_at
from intermediate.quarantine;

comment on view marts.quarantine is
    'Rows that break a data rule and are kept out of the statistics (grain: table_name, row_key, rule, detail)';
comment on column marts.quarantine.table_name is 'platform table the row comes from';
comment on column marts.quarantine.row_key is 'the row''s id in that table';
comment on column marts.quarantine.rule is 'the rule it breaks, e.g. invalid_json, invalid_utf8, negative_duration, orphaned_agent';
comment on column marts.quarantine.detail is 'the offending value, for a person to act on';
comment on column marts.quarantine.detected_at is 'when a run first flagged the row (UTC)';
