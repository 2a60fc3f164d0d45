"""Readers never see a lock: the published file stays readable while the pipeline publishes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipelines.warehouse.files import connect_working, publish, working_path
from pipelines.warehouse.lake import open_published

READER = """
import json, sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
opens, errors, seen = 0, [], set()
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        con = duckdb.connect(path, read_only=True)
        try:
            seen.add(con.execute("SELECT max(v) FROM raw.numbers").fetchall()[0][0])
        finally:
            con.close()
        opens += 1
    except Exception as exc:  # every failure counts; the contract is zero
        errors.append(repr(exc))
print(json.dumps({"opens": opens, "errors": errors, "seen": sorted(seen)}))
"""


def test_working_file_sits_beside_the_published_one(tmp_path: Path) -> None:
    assert working_path(tmp_path / "warehouse.sqlite") == tmp_path / "warehouse.work.duckdb"


def test_publish_without_a_working_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run the ingest first"):
        publish(tmp_path / "warehouse.sqlite")


@pytest.mark.slow
def test_readers_in_other_processes_never_fail_while_the_pipeline_publishes(
    tmp_path: Path,
) -> None:
    published = tmp_path / "warehouse.sqlite"
    with connect_working(published) as con:
        con.execute("CREATE TABLE raw.numbers AS SELECT range AS v FROM range(200000)")
    publish(published)
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(published), "6"], stdout=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    publishes = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        # While readers hold the published file open, the pipeline writes its own file...
        with connect_working(published) as con:
            con.execute("INSERT INTO raw.numbers SELECT max(v) + 1 FROM raw.numbers")
        publish(published)  # ...and swaps the snapshot in.
        publishes += 1
    results = [json.loads(r.communicate(timeout=60)[0]) for r in readers]
    assert publishes >= 5
    for result in results:
        assert result["errors"] == []
        assert result["opens"] > 10
    assert len({v for r in results for v in r["seen"]}) > 1, "readers never saw a new snapshot"
    con = open_published(published)
    try:
        assert con.execute("SELECT max(v) FROM raw.numbers").fetchall()[0][0] == (
            199_999 + publishes
        )
    finally:
        con.close()


LOCK_HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


@pytest.mark.slow
def test_a_second_pipeline_process_waits_for_the_working_file(tmp_path: Path) -> None:
    published = tmp_path / "warehouse.sqlite"
    with connect_working(published) as con:
        con.execute("CREATE TABLE raw.numbers AS SELECT 1 AS v")
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(working_path(published)), "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with connect_working(published) as con:  # waits for the other writer instead of failing
        assert con.execute("SELECT v FROM raw.numbers").fetchall() == [(1,)]
    assert time.monotonic() - started >= 1.0
    holder.wait(timeout=30)


#: The DuckDB CLI from PyPI (duckdb-cli, installed with the project): a 1.x client, as many
#: analysts' tools are. The Python library itself is 2.0.
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


def header_storage_version(path: Path) -> int:
    """The storage version number in a DuckDB file's header (bytes 12-20, little endian)."""
    return int.from_bytes(path.read_bytes()[12:20], "little")


def test_the_published_warehouse_opens_in_the_duckdb_cli(tmp_path: Path) -> None:
    published = tmp_path / "warehouse.sqlite"
    with connect_working(published) as con:
        con.execute(
            "CREATE TABLE raw.docs (id BIGINT PRIMARY KEY, doc JSON USING COMPRESSION zstd)"
        )
        con.execute("INSERT INTO raw.docs SELECT range, json_object('n', range) FROM range(5000)")
        con.execute("CREATE VIEW staging.stg_docs AS SELECT * FROM raw.docs WHERE id % 2 = 0")
        con.execute("COMMENT ON TABLE raw.docs IS 'one document per id'")
    publish(published)
    assert "v1." in cli(published, "SELECT version()")  # really a 1.x client
    assert header_storage_version(published) <= 68  # what 1.4 and 1.5 clients read
    assert cli(published, "SELECT count(*), sum((doc->>'n')::int) FROM raw.docs") == (
        f"5000,{sum(range(5000))}"
    )
    assert cli(published, "SELECT count(*) FROM staging.stg_docs") == "2500"
    assert cli(published, "SELECT comment FROM duckdb_tables() WHERE table_name = 'docs'") == (
        "one document per id"
    )


def test_a_working_file_in_duckdb_2_format_is_converted_once(tmp_path: Path) -> None:
    published = tmp_path / "warehouse.sqlite"
    old = duckdb.connect(str(working_path(published)))  # as the previous pipeline made it
    old.execute("CREATE SCHEMA marts")
    old.execute("CREATE TABLE marts.totals AS SELECT range AS id, range * 2 AS v FROM range(1000)")
    old.execute("COMMENT ON COLUMN marts.totals.v IS 'twice the id'")
    old.close()
    assert header_storage_version(working_path(published)) > 68
    with connect_working(published) as con:
        assert con.execute("SELECT sum(v) FROM marts.totals").fetchall()[0][0] == 999_000
    assert header_storage_version(working_path(published)) <= 68
    publish(published)
    assert cli(published, "SELECT sum(v) FROM marts.totals") == "999000"
    assert cli(published, "SELECT comment FROM duckdb_columns() WHERE column_name = 'v'") == (
        "twice the id"
    )
