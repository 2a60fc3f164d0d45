-- staging.stg_agent_metrics: metric points that pass every rule (grain: point id).
create or replace view staging.stg_agent_metrics as
select id as point_id, agent_id, metric_name, metric_value, recorded_at
from raw.agent_metrics
where id not in (select row_key from marts.quarantine where table_name = 'agent_metrics');
