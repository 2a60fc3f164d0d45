"""Usage: the checks of the usage marts (the marts themselves are sql/marts/ files)."""
