"""Trust assets: the events and per-agent state in the warehouse, and the platform write-back."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
import dagster as dg

from pipelines.resources import PlatformDatabase, TrustModel, Warehouse
from pipelines.trust.model import recompute_matches, update_trust
from pipelines.trust.writeback import write_back
from platform_core.db import make_engine
from platform_core.models import utcnow

GROUP = "trust"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["marts", "trust_events"],
            group_name=GROUP,
            deps=[["marts", "executions_all"], ["staging", "stg_agent_reviews"]],
            kinds={"duckdb"},
            description=(
                "One row per event that moves an agent's trust (terminal execution or review) "
                "with a record id derived from its source, before/after scores and delta. "
                "Time-decayed Beta reputation; see pipelines/trust/model.py."
            ),
        ),
        dg.AssetSpec(
            ["marts", "agent_trust"],
            group_name=GROUP,
            deps=[["staging", "stg_agents"]],
            kinds={"duckdb"},
            description="Each agent's current trust score (0.5 with no evidence) and model state.",
        ),
    ],
    can_subset=False,
)
def trust(context: dg.AssetExecutionContext, warehouse: Warehouse, trust_model: TrustModel):
    """Apply the trust events not applied yet (incremental; late events recompute an agent)."""
    params = trust_model.parameters
    with warehouse.connect(marts=True) as con:
        result = update_trust(con, params, utcnow())
        total, agents = con.execute(
            "select (select count(*) from marts.trust_events), count(*) from marts.agent_trust"
        ).fetchall()[0]
    context.log.info(
        f"trust {params.version}: applied {result.events_applied:,} events to "
        f"{result.agents_changed} agents ({result.agents_recomputed} recomputed)"
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "trust_events"],
        metadata={
            "events_applied": dg.MetadataValue.int(result.events_applied),
            "events_total": dg.MetadataValue.int(total),
            "model_version": dg.MetadataValue.text(params.version),
        },
    )
    yield dg.MaterializeResult(
        asset_key=["marts", "agent_trust"],
        metadata={
            "agents": dg.MetadataValue.int(agents),
            "agents_changed": dg.MetadataValue.int(result.agents_changed),
            "agents_recomputed": dg.MetadataValue.int(result.agents_recomputed),
        },
    )


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
        "incrementally maintained state (tolerance 1e-9)."
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


@dg.asset(
    key=["platform", "trust_scores"],
    group_name=GROUP,
    deps=[["marts", "trust_events"], ["marts", "agent_trust"]],
    kinds={"postgres", "sqlite"},
    description=(
        "Writes trust back to the platform database: agents.trust_score and one "
        "trust_records row per event (seed 004's audit trail), idempotently and in batches. "
        "Part of the regular pipeline: the platform routes by trust."
    ),
)
def trust_scores(
    context: dg.AssetExecutionContext, warehouse: Warehouse, platform_db: PlatformDatabase
) -> dg.MaterializeResult:
    """Send the trust events not yet written to the platform."""
    engine = make_engine(platform_db.url)
    try:
        with warehouse.connect(marts=True) as con:
            result = write_back(con, engine)
    finally:
        engine.dispose()
    context.log.info(
        f"wrote {result.records_sent:,} trust records for {result.agents_updated} agents"
    )
    return dg.MaterializeResult(
        metadata={
            "records_sent": dg.MetadataValue.int(result.records_sent),
            "agents_updated": dg.MetadataValue.int(result.agents_updated),
            "last_seq": dg.MetadataValue.int(result.last_seq),
        }
    )
