-- marts.expired_hirings: the rows of ops.expired_hirings (the maintenance job's bookkeeping: it writes
-- them, sql/ops/expired_hirings.sql), under the name analysts and the Maintenance page read.
-- materialized: view
create or replace view marts.expired_hirings as
select * from ops.expired_hirings;

comment on view marts.expired_hirings is
    'Hirings the maintenance job moved from active to expired once past expires_at (grain: hiring_id)';
-- Columns (DuckLake keeps column comments on tables only, so a view's are described here;
-- the view itself keeps its comment):
-- expired_at: when maintenance expired it (the platform row's updated_at)
-- hiring_id: the platform hiring
-- agent_id: the hired agent
-- user_id: the user who hired it
-- expires_at: when the hiring was due to end
