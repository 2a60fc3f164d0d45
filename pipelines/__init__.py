"""The Dagster code location: ingest, usage, trust, metrics and maintenance, by domain."""

import warnings

# BackfillPolicy.single_run() is how a backfill of the day-partitioned marts becomes one query;
# Dagster still labels the parameter beta and warns on every import of the code location.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy`")
# The SQL assets link their file in the UI with Dagster's code references, labelled beta too.
warnings.filterwarnings(
    "ignore", message=r"Class `(LocalFileCodeReference|CodeReferencesMetadataValue)`"
)
