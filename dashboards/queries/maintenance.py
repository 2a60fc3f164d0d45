"""The Maintenance page's queries: runs, their steps, the archive, expired hirings, repaired
counters, orphans and table health (the maintenance job's reports, marts.*)."""

from __future__ import annotations

import pandas as pd

from dashboards.warehouse import Snapshot, query


def maintenance_runs(snap: Snapshot, limit: int = 20) -> pd.DataFrame:
    """The last maintenance runs, one row each (marts.maintenance_run_summary)."""
    return query(
        snap,
        """
        select run_id, started_at, dry_run, seconds, executions_archived,
               metric_points_archived, archive_bytes, hirings_expired, counters_repaired,
               orphans
        from marts.maintenance_run_summary
        order by started_at desc
        limit $limit
        """,
        limit=limit,
    )


def maintenance_operations(snap: Snapshot, run_id: str) -> pd.DataFrame:
    """Every step of one maintenance run with its rows, bytes, seconds and details."""
    return query(
        snap,
        """
        select operation, dry_run, rows, bytes, seconds, detail
        from marts.maintenance_runs where run_id = $run_id order by started_at, operation
        """,
        run_id=run_id,
    )


def archive_months(snap: Snapshot) -> pd.DataFrame:
    """The archive by table and month: rows, bytes, files, verified."""
    return query(
        snap,
        """
        select table_name, month, rows, bytes, files, unconfirmed_files, verified, verified_at
        from marts.archive_months order by table_name, month desc
        """,
    )


def expired_hirings(snap: Snapshot, limit: int = 200) -> pd.DataFrame:
    """Hirings the maintenance expired, latest first."""
    return query(
        snap,
        """
        select h.hiring_id, h.agent_id, s.agent_name, h.user_id, h.expires_at, h.expired_at
        from marts.expired_hirings as h
        left join marts.agent_usage_summary as s using (agent_id)
        order by h.expired_at desc, h.hiring_id
        limit $limit
        """,
        limit=limit,
    )


def counter_drift(snap: Snapshot, limit: int = 200) -> pd.DataFrame:
    """Counters the maintenance found drifted and repaired: which row, stored vs actual."""
    return query(
        snap,
        """
        select repaired_at, table_name, row_id, column_name, stored, actual, difference, run_id
        from marts.counter_drift order by repaired_at desc, table_name, row_id, column_name
        limit $limit
        """,
        limit=limit,
    )


def orphans(snap: Snapshot) -> pd.DataFrame:
    """Orphaned rows per foreign key, as of the latest maintenance run."""
    return query(
        snap,
        """
        select relation, child_table, child_column, parent_table, orphan_rows,
               array_to_string(sample_ids, ', ') as sample_ids, checked_at
        from marts.orphans
        where run_id = (select arg_max(run_id, checked_at) from marts.orphans)
        order by orphan_rows desc, relation
        """,
    )


def table_health(snap: Snapshot) -> pd.DataFrame:
    """Platform table sizes, dead tuples, scans, unused indexes and growth per maintenance run."""
    return query(
        snap,
        """
        select checked_at, table_name, rows, total_bytes, index_bytes, dead_tuple_ratio,
               seq_scans, index_scans, array_to_string(unused_indexes, ', ') as unused_indexes,
               rows_per_day
        from marts.table_health
        order by checked_at, table_name
        """,
    )
