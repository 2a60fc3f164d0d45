-- intermediate.valid_agent_metrics: the rows of staging.stg_agent_metrics that break no rule of
-- intermediate.quarantine (grain: point_id). The marts read these, never staging directly.
-- materialized: view
create or replace view intermediate.valid_agent_metrics as
select * from staging.stg_agent_metrics
where point_id not in (select row_key from intermediate.quarantine where table_name = 'agent_metrics');
