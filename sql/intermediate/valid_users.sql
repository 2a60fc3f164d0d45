-- intermediate.valid_users: the rows of staging.stg_users that break no rule of
-- intermediate.quarantine (grain: user_id). The marts read these, never staging directly.
-- materialized: view
create or replace view intermediate.valid_users as
select * from staging.stg_users
where user_id not in (select row_key from intermediate.quarantine where table_name = 'users');
