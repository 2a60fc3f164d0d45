-- intermediate.valid_hirings: the rows of staging.stg_hirings that break no rule of
-- intermediate.quarantine (grain: hiring_id). The marts read these, never staging directly.
-- materialized: view
create or replace view intermediate.valid_hirings as
select * from staging.stg_hirings
where hiring_id not in (select row_key from intermediate.quarantine where table_name = 'hirings');
