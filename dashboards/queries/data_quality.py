"""The Data quality page's queries: quarantined rows over time and samples of them."""

from __future__ import annotations

import pandas as pd

from dashboards.warehouse import Snapshot, query


def quarantine_over_time(snap: Snapshot) -> pd.DataFrame:
    """Quarantined rows per table and rule at each pipeline run (marts.data_quality)."""
    return query(
        snap,
        """
        select checked_at, table_name, rule, quarantined_rows, table_rows
        from marts.data_quality order by checked_at, table_name, rule
        """,
    )


def quarantine_samples(
    snap: Snapshot, table: str | None = None, rule: str | None = None, limit: int = 50
) -> pd.DataFrame:
    """Quarantined rows with the rule they break, newest first."""
    return query(
        snap,
        """
        select table_name, rule, row_key, detail, detected_at
        from marts.quarantine
        where ($table::varchar is null or table_name = $table)
          and ($rule::varchar is null or rule = $rule)
        order by detected_at desc, table_name, rule, row_key
        limit $limit
        """,
        table=table,
        rule=rule,
        limit=limit,
    )
