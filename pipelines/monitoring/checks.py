"""The attention rules of ``marts.agent_alerts`` as a WARN asset check, so the Dagster UI shows
the agents that need attention next to the run that found them (the dashboards' Overview lists
the same rows)."""

# No `from __future__ import annotations`: Dagster inspects type hints at runtime.
from collections import Counter

import dagster as dg

from pipelines.warehouse.resource import Warehouse

#: Rows listed in the check's metadata; the mart holds them all.
LISTED = 20


@dg.asset_check(
    asset=["marts", "agent_alerts"],
    name="none_firing",
    description=(
        "Warns when any agent crosses an attention threshold in the last 24 h (error rate or "
        "p95 latency well above its own 7-day baseline, a stale heartbeat, a trust drop); "
        "the metadata lists each alert with the figures that triggered it."
    ),
)
def alerts_none_firing(warehouse: Warehouse) -> dg.AssetCheckResult:
    """WARN (never blocking: an alert is about an agent, not about the data) per firing rule."""
    with warehouse.connect(marts=True) as con:
        rows = con.execute(
            "select rule, agent_id, agent_name, detail from marts.agent_alerts"
            " order by rule, agent_id"
        ).fetchall()
    by_rule = Counter(rule for rule, *_ in rows)
    listed = "\n".join(
        f"- {rule}: agent {agent_id} ({name}): {detail}"
        for rule, agent_id, name, detail in rows[:LISTED]
    )
    if len(rows) > LISTED:
        listed += f"\n- … and {len(rows) - LISTED} more in marts.agent_alerts"
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "alerts": len(rows),
            **{f"alerts_{rule}": n for rule, n in sorted(by_rule.items())},
            "firing": dg.MetadataValue.md(listed or "none"),
        },
    )


alert_checks = [alerts_none_firing]
