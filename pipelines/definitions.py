"""The code location's Definitions, assembled from the domain packages."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions(assets=[])
