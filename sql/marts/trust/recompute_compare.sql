-- After recompute_start.sql: how far the stored state is from the full
-- recompute (agents compared, largest absolute difference of trust, R and S), then the
-- recompute's temporary tables dropped.
-- Inputs: _trust_end (temp), marts.agent_trust.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_recompute_diff as
select count(*) as agents,
       coalesce(max(abs(coalesce(a.trust_score, 0.5) - e.trust)), 0.0) as trust_diff,
       coalesce(max(abs(coalesce(a.positive_evidence, 0) - e.r)), 0.0) as r_diff,
       coalesce(max(abs(coalesce(a.negative_evidence, 0) - e.s)), 0.0) as s_diff
from _trust_end as e
left join marts.agent_trust as a using (agent_id);

drop table _trust_end;
drop table _trust_source;
