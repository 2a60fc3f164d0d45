-- ops.model_versions: which version of each DDL-only file of sql/ (views, the bookkeeping
-- tables' create-if-not-exists, the trust tables' DDL) the warehouse holds (grain: model).
-- Written in the transaction that applies the file (pipelines/sql_files.py run_model): a file
-- whose version is recorded and whose relation exists is not run again. On the DuckLake
-- every commit costs ~60 ms even when it only restates a view or a comment (about 55 of a
-- nothing-new run's 82 commits did); a changed file, a rebuilt warehouse or a relation
-- dropped by hand runs it again.
-- materialized: bookkeeping (created with the first DDL-only file a warehouse applies, pipelines/sql_files.py)
create table if not exists ops.model_versions (
    model varchar not null,
    sql_version bigint not null,
    applied_at timestamp not null
);

comment on table ops.model_versions is
    'Version of each DDL-only sql/ file (views, bookkeeping tables) the warehouse holds; a file is run again when it changes';
comment on column ops.model_versions.model is 'the file under sql/, e.g. staging/stg_users.sql';
comment on column ops.model_versions.sql_version is 'hash of the file''s statements (comments and whitespace left out)';
