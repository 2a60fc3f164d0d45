"""Checks on trust: the model's own invariants, and the platform agreeing with the warehouse.

``platform_agrees_with_warehouse`` runs with every write-back and is cheap (every agent's
score, the events above the cursor). Two checks read whole histories and run in the
``daily_checks`` job instead of hourly: ``incremental_equals_full_recompute`` (every event,
4.5-5.4 s of each hourly run at 2M executions) and ``platform_has_every_trust_record`` (every
platform record id).
"""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
import dagster as dg

from pipelines.ingest.resource import PlatformDatabase
from pipelines.sql_assets import asset_key
from pipelines.trust.assets import WRITEBACK
from pipelines.trust.cursor import read_cursor
from pipelines.trust.model import recompute_matches
from pipelines.trust.resource import TrustModel
from pipelines.trust.writeback import QUERIES
from pipelines.warehouse.resource import Warehouse
from platform_core.trust_writes import score_changes, stored_trust_scores, trust_record_ids

SAMPLE = 10


@dg.asset_check(
    asset=["marts", "agent_trust"],
    name="trust_in_unit_interval",
    blocking=True,
    description="Every trust score lies within [0, 1].",
)
def trust_in_unit_interval(warehouse: Warehouse) -> dg.AssetCheckResult:
    """Scores outside [0, 1] would be a bug in the model."""
    with warehouse.connect(marts=True) as con:
        bad = con.execute(
            "select count(*) from marts.agent_trust where not trust_score between 0 and 1"
        ).fetchall()[0][0]
        bad += con.execute(
            "select count(*) from marts.trust_events where not trust_score_after between 0 and 1"
        ).fetchall()[0][0]
    return dg.AssetCheckResult(passed=bad == 0, metadata={"out_of_range": bad})


@dg.asset_check(
    asset=["marts", "agent_trust"],
    name="incremental_equals_full_recompute",
    description=(
        "Recomputes every agent's trust from all its events in one pass and compares with the "
        "incrementally maintained state (tolerance 1e-9). Reads every event, so it runs in "
        "the daily_checks job, not hourly."
    ),
)
def incremental_equals_full_recompute(
    warehouse: Warehouse, trust_model: TrustModel
) -> dg.AssetCheckResult:
    """The incremental state must be what a recompute from scratch gives."""
    with warehouse.connect(marts=True) as con:
        ok, agents, diff = recompute_matches(con, trust_model.parameters)
    return dg.AssetCheckResult(
        passed=ok, metadata={"agents_compared": agents, "max_trust_difference": diff}
    )


@dg.asset_check(
    asset=asset_key(WRITEBACK),
    name="platform_agrees_with_warehouse",
    description=(
        "After the write-back, every agent's agents.trust_score on the platform equals "
        "marts.agent_trust and no event is left above the write-back cursor. Records are "
        "compared once a day: by count per model version in the write-back itself (a shortfall "
        "re-sends every event), and id by id in the daily check "
        "platform_has_every_trust_record; counting every record hourly costs about 1 s a side "
        "at 10M records. A failure here means a write-back step failed or the platform "
        "changed since."
    ),
)
def platform_agrees_with_warehouse(
    warehouse: Warehouse, platform_db: PlatformDatabase
) -> dg.AssetCheckResult:
    """Scores exactly and the cursor at the top: cheap enough for every run."""
    with platform_db.engine() as engine:
        with warehouse.connect(marts=True) as con:
            scores = dict(con.execute(QUERIES["scores"]).fetchall())
            unsent = con.execute(
                "select count(*) from marts.trust_events where seq > ?", [read_cursor(con)]
            ).fetchall()[0][0]
        differing = [c.agent_id for c in score_changes(stored_trust_scores(engine), scores)]
    return dg.AssetCheckResult(
        passed=not differing and unsent == 0,
        metadata={
            "agents_compared": len(scores),
            "scores_differing": len(differing),
            "differing_agents_sample": differing[:SAMPLE],
            "unsent_events": unsent,
        },
    )


@dg.asset_check(
    asset=asset_key(WRITEBACK),
    name="platform_has_every_trust_record",
    description=(
        "Every record_id in marts.trust_events is in the platform's trust_records (exact, id "
        "by id; reads every platform record id, so it runs daily in the daily_checks job). "
        "Platform records the warehouse no longer holds are counted, not failed. To repair, "
        "run platform_pipeline with the platform/trust_records config resend_all: true."
    ),
)
def platform_has_every_trust_record(
    warehouse: Warehouse, platform_db: PlatformDatabase
) -> dg.AssetCheckResult:
    """Anti-join the warehouse's record ids against the platform's."""
    with platform_db.engine() as engine, warehouse.connect(marts=True) as con:
        versions = [
            v
            for (v,) in con.execute(
                "select distinct model_version from marts.trust_events"
            ).fetchall()
        ]
        # The platform's ids stream into a temporary table DuckDB spills, batch by batch.
        con.execute("create or replace temp table _platform_record_ids (record_id varchar)")
        for batch in trust_record_ids(engine, versions):
            con.register("_platform_batch", batch)
            try:
                con.execute("insert into _platform_record_ids select * from _platform_batch")
            finally:
                con.unregister("_platform_batch")
        agents = sorted(stored_trust_scores(engine))
        try:
            # Records of agents deleted on the platform have nowhere to go.
            missing = [
                r
                for (r,) in con.execute(
                    "select record_id from marts.trust_events where record_id not in"
                    " (select record_id from _platform_record_ids)"
                    " and agent_id in (select unnest(?::bigint[])) order by seq",
                    [agents],
                ).fetchall()
            ]
            platform_only = con.execute(
                "select count(*) from _platform_record_ids where record_id not in"
                " (select record_id from marts.trust_events)"
            ).fetchall()[0][0]
        finally:
            con.execute("drop table _platform_record_ids")
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={
            "missing_on_platform": len(missing),
            "missing_sample": missing[:SAMPLE],
            "platform_only_records": platform_only,
        },
    )


#: Checks that read whole histories: the daily_checks job runs them, not the hourly run.
DAILY_TRUST_CHECKS = [incremental_equals_full_recompute, platform_has_every_trust_record]

#: The unique_grain checks of trust_events and agent_trust come from their files' headers.
trust_checks = [
    trust_in_unit_interval,
    platform_agrees_with_warehouse,
    *DAILY_TRUST_CHECKS,
]
