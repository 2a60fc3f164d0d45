-- staging.stg_agent_reviews: reviews, typed and renamed (one row per raw.agent_reviews row).
-- materialized: view
create or replace view staging.stg_agent_reviews as
select id as review_id, agent_id, reviewer_id, rating, comment, is_public, created_at, updated_at
from raw.agent_reviews;
