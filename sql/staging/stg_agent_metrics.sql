-- staging.stg_agent_metrics: metric points, typed and renamed (one row per raw.agent_metrics
-- row).
-- materialized: view
create or replace view staging.stg_agent_metrics as
select id as point_id, agent_id, metric_name, metric_value, recorded_at
from raw.agent_metrics;
