-- Trust step 2: which events are new, and which agents must be recomputed from scratch.
-- Inputs: _trust_source (temp, step 1), marts.trust_events, marts.agent_trust.
-- Outputs (temp): _trust_new (events not applied yet, by record_id) and _trust_recompute
-- (agent_id, cut_at, cut_key): agents to recompute from the cut on. An agent whose state is
-- under another model version recomputes everything (cut NULL); an agent one of whose
-- executions or reviews was deleted on the platform by hand (ops.platform_deletions)
-- recomputes from that event's time. A late event (not after its agent's last applied one) is
-- added to the state in closed form by step 3a, without a recompute, unless the agent's late
-- events span more than $max_span half-lives (years), where step 3a's scaled sums could
-- overflow: that agent recomputes from its earliest late event.
-- Parameters: $version (the model version now), $since (the trust cursor; NULL: everything is
-- read anew), $half_life_seconds, $max_span.
-- step: marts.trust_events, marts.agent_trust
-- The applied check probes the events with the source's ids (a semi join building its hash
-- table on the source) instead of hashing every record_id of history: 10M events, 50k new,
-- 2.0-2.8 s -> 1.0-1.5 s, peak RSS 1,130 -> 235 MB (a lake of 10M synthetic events, 57k
-- in the source).
create or replace temp table _trust_new as
with applied as (
    select e.record_id from marts.trust_events as e
    where e.record_id in (select record_id from _trust_source)
)
select s.* from _trust_source as s
where s.record_id not in (select record_id from applied);

create or replace temp table _trust_recompute as
with cuts as (
    select agent_id, null::timestamp as cut_at, null::varchar as cut_key, 0 as whole
    from marts.agent_trust where model_version <> $version
    union all
    select n.agent_id, min(n.occurred_at), arg_min(n.event_key, (n.occurred_at, n.event_key)), 1
    from _trust_new as n
    join marts.agent_trust as a using (agent_id)
    where a.model_version = $version
      and a.last_event_at is not null
      and (n.occurred_at, n.event_key) <= (a.last_event_at, a.last_event_key)
    group by n.agent_id
    having (epoch(max(n.occurred_at)) - epoch(min(n.occurred_at))) / $half_life_seconds
        > $max_span
    union all
    -- An execution or review deleted on the platform by hand since the last update: its
    -- event leaves, so the agent is recomputed from it on ('' sorts before every key).
    select d.agent_id, d.occurred_at, '', 1
    from ops.platform_deletions as d
    join marts.agent_trust as a using (agent_id)
    where d.table_name in ('executions', 'agent_reviews')
      and d.occurred_at is not null
      and $since is not null and d.detected_at > $since
)
select agent_id, cut_at, cut_key from cuts
qualify row_number() over (partition by agent_id order by whole, cut_at, cut_key) = 1;
