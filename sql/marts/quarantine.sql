-- marts.quarantine: rows that break a data rule and stay out of every statistic, one row per
-- (table_name, row_key, rule, detail). Analysts' name for intermediate.quarantine, where the
-- rules are.
-- materialized: view
create or replace view marts.quarantine as
select table_name, row_key, rule, detail, detected_at
from intermediate.quarantine;

comment on view marts.quarantine is
    'Rows that break a data rule and are kept out of the statistics (grain: table_name, row_key, rule, detail)';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- table_name: platform table the row comes from
-- row_key: the row's id in that table
-- rule: the rule it breaks, e.g. invalid_json, invalid_utf8, negative_duration, orphaned_agent
-- detail: the offending value, for a person to act on
-- detected_at: when a run first flagged the row (UTC)
