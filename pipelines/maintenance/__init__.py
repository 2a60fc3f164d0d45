"""Maintenance: archive and purge old executions exactly once, expire hirings."""
