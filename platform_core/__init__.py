"""The AgentHub platform core: operational schema, migrations, service layer and simulator.

It imports without Dagster; the pipelines wrap it in a thin resource.
"""
