-- intermediate.valid_agents: the rows of staging.stg_agents that break no rule of
-- intermediate.quarantine (grain: agent_id). The marts read these, never staging directly.
-- materialized: view
create or replace view intermediate.valid_agents as
select * from staging.stg_agents
where agent_id not in (select row_key from intermediate.quarantine where table_name = 'agents');
