-- intermediate.valid_agent_reviews: the rows of staging.stg_agent_reviews that break no rule of
-- intermediate.quarantine (grain: review_id). The marts read these, never staging directly.
-- materialized: view
create or replace view intermediate.valid_agent_reviews as
select * from staging.stg_agent_reviews
where review_id not in (select row_key from intermediate.quarantine where table_name = 'agent_reviews');
