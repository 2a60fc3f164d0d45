"""Staging: quarantine of bad rows, data-quality counts, typed clean views, executions_all."""
