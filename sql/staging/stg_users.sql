-- staging.stg_users: platform users that pass every rule (grain: user id).
create or replace view staging.stg_users as
select id as user_id, username, email, full_name, is_active, is_verified,
       created_at, updated_at, last_login_at
from raw.users
where id not in (select row_key from marts.quarantine where table_name = 'users');
