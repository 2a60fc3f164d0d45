-- After recompute_start.sql: how far the stored state is from the full recompute (agents
-- compared, the largest absolute difference of trust, and of R and S relative to their size:
-- an agent with a million events a week holds R in the hundreds of thousands, where two
-- orders of summation differ in the tenth decimal), then the recompute's temporary tables
-- dropped.
-- Inputs: _trust_end (temp), marts.agent_trust.
-- step: marts.trust_events, marts.agent_trust
create or replace temp table _trust_recompute_diff as
select count(*) as agents,
       coalesce(max(abs(coalesce(a.trust_score, 0.5) - e.trust)), 0.0) as trust_diff,
       coalesce(max(abs(coalesce(a.positive_evidence, 0) - e.r) / greatest(1.0, abs(e.r))),
                0.0) as r_diff,
       coalesce(max(abs(coalesce(a.negative_evidence, 0) - e.s) / greatest(1.0, abs(e.s))),
                0.0) as s_diff
from _trust_end as e
left join marts.agent_trust as a using (agent_id);

drop table _trust_end;
drop table _trust_source;
