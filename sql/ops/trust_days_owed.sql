-- ops.trust_days_owed: the agents whose rows of marts.agent_trust_daily must be rebuilt, from
-- which UTC day on (grain: none; an agent may be owed by several runs, the earliest day wins).
-- The trust model adds an agent in the transaction that changes its events (new and late events
-- from their first day; an agent recomputed from a cut from the cut's day, or every day when the
-- cut is NULL: a new model version); marts.agent_trust_daily rebuilds those slices and removes
-- the rows in its own transaction. A run that fails between the two leaves them owed, and the
-- next run rebuilds them: nothing is lost, and an hourly run rebuilds a day of each agent
-- instead of the whole history.
-- materialized: bookkeeping (filled by the trust model, emptied by marts.agent_trust_daily)
create table if not exists ops.trust_days_owed (
    agent_id bigint not null,
    from_day date,
    owed_at timestamp not null
);

comment on table ops.trust_days_owed is
    'Agents whose marts.agent_trust_daily rows are owed a rebuild from from_day on (every day when NULL)';
comment on column ops.trust_days_owed.from_day is 'first UTC day to rebuild; NULL: every day of the agent';
comment on column ops.trust_days_owed.owed_at is 'when the trust model changed the agent''s events (UTC)';
