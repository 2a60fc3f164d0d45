-- staging.stg_users: the platform's users, typed and renamed (one row per raw.users row).
-- materialized: view
create or replace view staging.stg_users as
select id as user_id, username, email, full_name, is_active, is_verified,
       created_at, updated_at, last_login_at
from raw.users;
