-- staging.stg_agent_reviews: reviews that pass every rule (grain: review id).
create or replace view staging.stg_agent_reviews as
select id as review_id, agent_id, reviewer_id, rating, comment, is_public, created_at, updated_at
from raw.agent_reviews
where id not in (select row_key from marts.quarantine where table_name = 'agent_reviews');
