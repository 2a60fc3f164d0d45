"""Monitoring: the attention rules (``sql/marts/agent_alerts.sql``) surfaced as an asset check."""
