"""Readers never see a lock: four reader processes query the published warehouse through the
dashboards' query module, in a loop, while a full pipeline run and a maintenance run write
(on PostgreSQL, as in production) at the same time, their commits interleaved. Zero reader
errors, both writers green, and the readers see the new data once the writers have
published."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from pipelines.sql_models import load_graph
from pipelines.warehouse.lake import Lake, current_snapshot, open_lake, open_published
from tests.pipelines.maintenance_support import Agenthub, executions_kept

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

READERS = 4


def reader(warehouse: str, stop: str, out: str) -> None:
    """Query like the pages do until ``stop`` exists; write reads, errors and what was seen."""
    os.environ["WAREHOUSE_CATALOG"] = warehouse
    from dashboards import warehouse
    from dashboards.queries import agents, maintenance, overview, trust

    reads, errors, seen = 0, [], []
    while not Path(stop).exists():
        try:
            snap = warehouse.snapshot()
            assert snap is not None and warehouse.state(snap).ready
            first, last = warehouse.data_days(snap)
            figures = overview.headline(snap, first, last, None).set_index("period")
            agents.agent_table(snap, first, last)
            trust.trust_movers(snap, first, last)
            overview.alerts(snap)
            if warehouse.has_maintenance(snap):
                maintenance.maintenance_runs(snap)
                maintenance.archive_months(snap)
            seen.append(int(figures.loc["current", "executions"]))
            reads += 1
        except Exception as error:  # every failure counts, whatever its kind
            errors.append(f"{type(error).__name__}: {error}")
        time.sleep(0.02)
    Path(out).write_text(json.dumps({"reads": reads, "errors": errors, "last": seen[-1:]}))


#: Tables only the maintenance job writes, the layers only the pipeline writes, and the
#: day-partitioned marts (written by the pipeline command's second Dagster run, not its first).
MAINTENANCE_TABLES = {"maintenance_runs", "archive_manifest", "orphans", "table_health"}
PIPELINE_SCHEMAS = {"raw", "staging", "intermediate", "marts"}
DAY_PARTITIONED = {
    tuple(m.key) for m in load_graph().sql_assets() if m.materialized == "day_partitioned"
}


def commits(catalog: Path, after: int) -> dict[str, list[int]]:
    """The snapshots after ``after`` that wrote a maintenance table, and those of the pipeline
    job's run (its layers but the day-partitioned marts), read from the DuckLake catalog
    (snapshot changes name table ids)."""
    with open_lake(Lake.of(catalog), read_only=True) as con:
        rows = con.execute(
            """
            with changed as (
                select snapshot_id, unnest(changes['tables_inserted_into']) as table_id
                from warehouse.snapshots() where snapshot_id > ?
            )
            select distinct c.snapshot_id, s.schema_name, t.table_name
            from changed c
            join __ducklake_metadata_warehouse.ducklake_table t
              on t.table_id = c.table_id::bigint
            join __ducklake_metadata_warehouse.ducklake_schema s on s.schema_id = t.schema_id
            """,
            [after],
        ).fetchall()
    found: dict[str, list[int]] = {"maintenance": [], "pipeline": []}
    for snapshot, schema, table in rows:
        if schema == "ops" and table in MAINTENANCE_TABLES:
            found["maintenance"].append(snapshot)
        elif schema in PIPELINE_SCHEMAS and (schema, table) not in DAY_PARTITIONED:
            found["pipeline"].append(snapshot)
    return {kind: sorted(set(ids)) for kind, ids in found.items()}


def test_readers_keep_reading_while_the_pipeline_and_maintenance_write(postgres, tmp_path):
    url = postgres.create(migrated=True)
    agenthub = Agenthub(url, tmp_path)
    warehouse = agenthub.warehouse
    agenthub.run("simulate", "--users", "10", "--agents", "4", "--hirings", "30",
                 "--executions", "6000", "--days", "8")  # fmt: skip
    agenthub.run("pipeline", "run")  # the first published warehouse
    agenthub.run("simulate", "--users", "2", "--agents", "1", "--hirings", "3",
                 "--executions", "1500", "--days", "1")  # fmt: skip

    stop = tmp_path / "stop"
    context = multiprocessing.get_context("spawn")
    outs = [tmp_path / f"reader{i}.json" for i in range(READERS)]
    readers = [
        context.Process(target=reader, args=(str(warehouse), str(stop), str(out))) for out in outs
    ]
    for process in readers:
        process.start()
    time.sleep(3)  # every reader is reading before the writers start
    with open_lake(Lake.of(warehouse), read_only=True) as con:
        before = current_snapshot(con)
    pipeline = agenthub.start("pipeline", "run")
    # Maintenance starts once the pipeline has committed (its ingest), so both are mid-run.
    deadline = time.monotonic() + 300
    while not commits(warehouse, before)["pipeline"] and pipeline.running:
        assert time.monotonic() < deadline, pipeline.output
        time.sleep(0.2)
    writers = [pipeline, agenthub.start("maintenance", "run")]
    assert [w.finish() for w in writers] == [0, 0], [w.output for w in writers]
    # They ran side by side: maintenance committed before the pipeline job's last commit
    # (with the writer lock held per run, it would have waited for that run to end).
    side_by_side = commits(warehouse, before)
    assert side_by_side["maintenance"] and side_by_side["pipeline"], side_by_side
    assert side_by_side["maintenance"][0] < side_by_side["pipeline"][-1], side_by_side
    agenthub.run("pipeline", "run")  # takes in the archive flags maintenance left
    time.sleep(3)  # the readers pick up the last publish
    stop.touch()
    for process in readers:
        process.join(timeout=120)
    results = [json.loads(out.read_text()) for out in outs]

    on_platform, archived = executions_kept(url, agenthub.archive)
    assert archived > 0, "maintenance archived nothing"

    with open_published(warehouse) as con:
        published = con.execute(
            "select count(*), min(created_at), max(created_at) from marts.executions_all"
        ).fetchone()
    for result in results:
        assert result["errors"] == [], result["errors"][:5]
        assert result["reads"] > 20
        # Every execution, on the platform or archived, in what the readers see at the end
        # (the simulator writes no bad rows here, so none is quarantined).
        assert result["last"] == [on_platform + archived], published
