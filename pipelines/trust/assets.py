"""Trust assets: the events and per-agent state in the warehouse, and the platform write-back."""

# No `from __future__ import annotations`: Dagster inspects the context type hint at runtime.
from datetime import timedelta

import dagster as dg
from pydantic import Field

from pipelines.ingest.resource import PlatformDatabase
from pipelines.sql_assets import asset_deps, asset_key, definition_metadata
from pipelines.sql_models import load_graph
from pipelines.trust.model import update_trust
from pipelines.trust.resource import TrustModel
from pipelines.trust.writeback import COUNT_EVERY, write_back
from pipelines.warehouse.resource import Warehouse
from platform_core.models import utcnow

GRAPH = load_graph()
EVENTS, STATE = ("marts", "trust_events"), ("marts", "agent_trust")
#: The write-back's key: the platform table it fills (it also sets agents.trust_score).
WRITEBACK = ("platform", "trust_records")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            asset_key(EVENTS),
            group_name="marts",
            # What the step files of sql/marts/trust/ read (agents, executions, reviews).
            deps=asset_deps(GRAPH, EVENTS, STATE),
            kinds={"duckdb"},
            metadata=definition_metadata(GRAPH.model(*EVENTS)),
            description=(
                "One row per event that moves an agent's trust (terminal execution or review) "
                "with a record id derived from its source, before/after scores and delta. "
                "Time-decayed Beta reputation; see pipelines/trust/model.py and its steps in "
                "sql/marts/trust/."
            ),
        ),
        dg.AssetSpec(
            asset_key(STATE),
            group_name="marts",
            deps=asset_deps(GRAPH, EVENTS, STATE),
            kinds={"duckdb"},
            metadata=definition_metadata(GRAPH.model(*STATE)),
            description="Each agent's current trust score (0.5 with no evidence) and model state.",
        ),
    ],
    can_subset=False,
)
def trust(context: dg.AssetExecutionContext, warehouse: Warehouse, trust_model: TrustModel):
    """Apply the trust events not applied yet (incremental; a late event is added to its
    agent's state in closed form; a new model version or a deleted event recomputes)."""
    params = trust_model.parameters
    with warehouse.connect(marts=True) as con:
        result = update_trust(con, params, utcnow())
        total, agents = con.execute(
            "select (select count(*) from marts.trust_events), count(*) from marts.agent_trust"
        ).fetchall()[0]
    context.log.info(
        f"trust {params.version}: applied {result.events_applied:,} events to "
        f"{result.agents_changed} agents ({result.late_events:,} arrived late; "
        f"{result.agents_recomputed} agents recomputed)"
    )
    yield dg.MaterializeResult(
        asset_key=asset_key(EVENTS),
        metadata={
            "events_applied": dg.MetadataValue.int(result.events_applied),
            "late_events_applied": dg.MetadataValue.int(result.late_events),
            "events_total": dg.MetadataValue.int(total),
            "model_version": dg.MetadataValue.text(params.version),
        },
    )
    yield dg.MaterializeResult(
        asset_key=asset_key(STATE),
        metadata={
            "agents": dg.MetadataValue.int(agents),
            "agents_changed": dg.MetadataValue.int(result.agents_changed),
            "agents_recomputed": dg.MetadataValue.int(result.agents_recomputed),
        },
    )


class WritebackConfig(dg.Config):
    """Run configuration of the write-back (the launchpad shows it)."""

    resend_all: bool = Field(
        default=False,
        description="Send every trust event again; the platform skips the records it has. "
        "The repair when the check platform_has_every_trust_record finds records missing "
        "(e.g. the platform's trust_records restored from an older backup).",
    )
    compare_counts_every_hours: float = Field(
        default=COUNT_EVERY.total_seconds() / 3600,
        ge=0,
        description="How often the write-back compares the platform's trust record counts "
        "per model version with the warehouse's and re-sends every event on a shortfall "
        "(the first run after this many hours since the last comparison; 0: every run). "
        "Counting reads every trust record on both sides, so hourly runs skip it.",
    )


@dg.asset(
    key=asset_key(WRITEBACK),
    group_name="platform",
    # What sql/platform/trust_records.sql reads: marts.trust_events and marts.agent_trust.
    deps=asset_deps(GRAPH, WRITEBACK),
    kinds={"postgres", "sqlite"},
    metadata=definition_metadata(GRAPH.model(*WRITEBACK)),
    description=(
        "Writes trust back to the platform database: agents.trust_score and one "
        "trust_records row per event (seed 004's audit trail), idempotently and in batches. "
        "Part of the regular pipeline: the platform routes by trust."
    ),
)
def trust_records(
    context: dg.AssetExecutionContext,
    config: WritebackConfig,
    warehouse: Warehouse,
    platform_db: PlatformDatabase,
) -> dg.MaterializeResult:
    """Send the trust events not yet on the platform and align every agent's score."""
    with platform_db.engine() as engine, warehouse.connect(marts=True) as con:
        result = write_back(
            con,
            engine,
            resend_all=config.resend_all,
            count_every=timedelta(hours=config.compare_counts_every_hours),
        )
    if result.dropped:
        context.log.warning(
            f"{sum(result.dropped.values()):,} trust records not sent: their agents are gone "
            f"from the platform (records per agent: {result.dropped})"
        )
    if result.resent_for:
        context.log.warning(
            "the platform lacked trust records (missing per model version: "
            f"{result.resent_for}); every event was sent again"
        )
    context.log.info(
        f"sent {result.records_sent:,} trust records ({result.records_inserted:,} new to the "
        f"platform); moved {result.agents_updated} agents' scores"
    )
    return dg.MaterializeResult(
        metadata={
            "records_sent": dg.MetadataValue.int(result.records_sent),
            "records_inserted": dg.MetadataValue.int(result.records_inserted),
            "agents_updated": dg.MetadataValue.int(result.agents_updated),
            "score_changes": dg.MetadataValue.json(
                [
                    {"agent_id": c.agent_id, "stored": c.stored, "new": c.new}
                    for c in result.score_changes[:20]
                ]
            ),
            "last_seq": dg.MetadataValue.int(result.last_seq),
            "resent_for_missing_records": dg.MetadataValue.json(result.resent_for),
            "record_counts_compared": dg.MetadataValue.bool(result.counts_compared),
            "records_dropped_agent_gone": dg.MetadataValue.int(sum(result.dropped.values())),
            "agents_gone": dg.MetadataValue.json(sorted(result.dropped)[:100]),
        }
    )
