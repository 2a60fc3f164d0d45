"""Checks on the intermediate layer (quarantine, executions_all); its assets come from sql/."""
