"""Readers never wait and never see half a run: they attach the lake at the published snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.files import connect_working, open_working, publish
from pipelines.warehouse.lake import Lake, NotPublished, WriterLock, check_lake, open_published
from platform_core.config import SettingError

READER = """
import json, sys, time
from pipelines.warehouse.lake import open_published
catalog, seconds = sys.argv[1], float(sys.argv[2])
opens, errors, seen = 0, [], set()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        con = open_published(catalog)
        try:
            seen.add(con.execute("SELECT max(v) FROM raw.numbers").fetchall()[0][0])
        finally:
            con.close()
        opens += 1
    except Exception as exc:  # every failure counts; the contract is zero
        errors.append(repr(exc))
print(json.dumps({"opens": opens, "errors": errors, "seen": sorted(seen)}))
"""


def test_readers_see_the_published_snapshot_not_what_a_run_wrote_since(tmp_path: Path) -> None:
    catalog = tmp_path / "warehouse.sqlite"
    with pytest.raises(NotPublished, match="agenthub pipeline run"):
        open_published(catalog)
    with connect_working(catalog) as con:
        con.execute("CREATE TABLE raw.numbers AS SELECT range AS v FROM range(10)")
        con.execute("CREATE TABLE marts.total AS SELECT sum(v) AS s FROM raw.numbers")
        first = publish(con, catalog).snapshot
        # A run half way: one table rewritten, the other not yet.
        con.execute("INSERT INTO raw.numbers VALUES (100)")
    reader = open_published(catalog)
    try:
        assert reader.execute("SELECT count(*), sum(v) FROM raw.numbers").fetchall() == [(10, 45)]
        assert reader.execute("SELECT s FROM marts.total").fetchall() == [(45,)]
    finally:
        reader.close()
    with connect_working(catalog) as con:
        con.execute("CREATE OR REPLACE TABLE marts.total AS SELECT sum(v) AS s FROM raw.numbers")
        second = publish(con, catalog).snapshot
    assert second > first
    reader = open_published(catalog)
    try:
        assert reader.execute("SELECT s FROM marts.total").fetchall() == [(145,)]
    finally:
        reader.close()
    # Time travel: the first run's state, as it was published.
    earlier = open_published(catalog, first)
    try:
        assert earlier.execute("SELECT s FROM marts.total").fetchall() == [(45,)]
    finally:
        earlier.close()


@pytest.mark.slow
def test_readers_in_other_processes_never_fail_while_the_pipeline_writes_and_publishes(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "warehouse.sqlite"
    with connect_working(catalog) as con:
        con.execute("CREATE TABLE raw.numbers AS SELECT range AS v FROM range(200000)")
        publish(con, catalog)
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(catalog), "6"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    publishes, published = 0, {199_999}
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with connect_working(catalog) as con:
            # Two commits per run; readers may only ever see the second.
            con.execute("INSERT INTO raw.numbers VALUES (-1)")
            con.execute("DELETE FROM raw.numbers WHERE v = -1")
            con.execute("INSERT INTO raw.numbers SELECT max(v) + 1 FROM raw.numbers")
            publish(con, catalog)
        publishes += 1
        published.add(199_999 + publishes)
    results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert publishes >= 3
    for result in results:
        assert result["errors"] == []
        assert result["opens"] >= 3
        assert set(result["seen"]) <= published
    assert len({v for r in results for v in r["seen"]}) > 1, "readers never saw a new snapshot"


LOCK_HOLDER = """
import sys, time
from pipelines.warehouse.files import connect_working
with connect_working(sys.argv[1]) as con:
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.mark.slow
def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    catalog = tmp_path / "warehouse.sqlite"
    with connect_working(catalog) as con:
        con.execute("CREATE TABLE raw.numbers AS SELECT 1 AS v")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(catalog), "2"], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with connect_working(catalog) as con:  # waits for the other writer instead of failing
        assert con.execute("SELECT v FROM raw.numbers").fetchall() == [(1,)]
    assert time.monotonic() - started >= 1.0
    holder.wait(timeout=30)


def test_a_run_holds_the_writer_lock_only_while_a_block_writes(tmp_path: Path) -> None:
    lake = Lake.of(tmp_path / "warehouse.sqlite")
    run = open_working(lake)  # a run's connection, open for the whole run
    try:
        with run.hold() as con:
            con.execute("CREATE TABLE raw.numbers AS SELECT 1 AS v")
            assert not WriterLock(lake).try_acquire()  # another writer waits for the block
        # Between the run's blocks another writer (maintenance) commits ...
        with connect_working(lake) as other:
            other.execute("CREATE TABLE ops.reports AS SELECT 'archived' AS what")
            other.execute("INSERT INTO raw.numbers VALUES (2)")
        # ... and the run's next block sees it, and commits on top of it.
        with run.hold() as con:
            assert con.execute("SELECT sum(v) FROM raw.numbers").fetchall() == [(3,)]
            assert con.execute("SELECT what FROM ops.reports").fetchall() == [("archived",)]
            con.execute("INSERT INTO raw.numbers VALUES (3)")
        # A block that fails rolls its transaction back and lets the next writer in.
        with pytest.raises(duckdb.Error), run.hold() as con:
            con.execute("BEGIN")
            con.execute("INSERT INTO raw.numbers VALUES (100)")
            con.execute("SELECT * FROM no_such_table")
        lock = WriterLock(lake)
        assert lock.try_acquire()
        lock.release()
    finally:
        run.close()
    with connect_working(lake) as con:
        assert con.execute("SELECT sum(v) FROM raw.numbers").fetchall() == [(6,)]


#: The DuckDB CLI from PyPI (duckdb-cli, installed with the project), without the DuckLake
#: extension: what a client that cannot read the lake has.
DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def cli(database: Path, sql: str) -> str:
    """Run ``sql`` in the DuckDB CLI on ``database``, read-only; its CSV output."""
    result = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", "-csv", "-noheader", str(database), "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_export_is_the_published_snapshot_in_one_duckdb_file(tmp_path: Path) -> None:
    catalog, export = tmp_path / "warehouse.sqlite", tmp_path / "export.duckdb"
    with connect_working(catalog) as con:
        con.execute("CREATE TABLE raw.docs (id BIGINT, doc JSON)")
        con.execute("INSERT INTO raw.docs SELECT range, json_object('n', range) FROM range(5000)")
        con.execute("CREATE VIEW staging.stg_docs AS SELECT * FROM raw.docs WHERE id % 2 = 0")
        con.execute("COMMENT ON TABLE raw.docs IS 'one document per id'")
        published = publish(con, catalog, export=export)
        con.execute("INSERT INTO raw.docs VALUES (-1, '{}')")  # after the publish: not exported
    assert published.export_bytes == export.stat().st_size > 0
    # DuckDB 1.4's storage format (version 67), which every client since 1.4 opens.
    assert int.from_bytes(export.read_bytes()[12:20], "little") <= 67
    assert cli(export, "SELECT count(*), sum((doc->>'n')::int) FROM raw.docs") == (
        f"5000,{sum(range(5000))}"
    )
    assert cli(export, "SELECT count(*) FROM staging.stg_docs") == "2500"
    assert cli(export, "SELECT comment FROM duckdb_tables() WHERE table_name = 'docs'") == (
        "one document per id"
    )


def test_the_data_folder_may_not_overlap_the_archive(tmp_path: Path) -> None:
    lake = Lake(str(tmp_path / "warehouse.sqlite"), str(tmp_path / "archive" / "lake"))
    with pytest.raises(SettingError, match=r"WAREHOUSE_DATA_PATH.*overlaps the archive"):
        check_lake(lake, archive_dir=str(tmp_path / "archive"))
    lake = Lake(str(tmp_path / "warehouse.sqlite"), str(tmp_path))
    with pytest.raises(SettingError, match="overlaps the archive"):
        check_lake(lake, archive_dir=str(tmp_path / "archive"))
    fine = Lake(str(tmp_path / "warehouse.sqlite"))
    assert check_lake(fine, archive_dir=str(tmp_path / "archive")) == fine
    assert fine.data_folder == tmp_path / "warehouse"
