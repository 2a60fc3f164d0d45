"""Incremental ingest into raw, against real SQLite and PostgreSQL platform databases.

Expected values come from the platform database itself (read back with SQLAlchemy), never
from the warehouse code under test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import JSON, Engine, Text, select, text, type_coerce

from pipelines.ingest.checks import raw_checks
from pipelines.ingest.extract import Watermark, _filter, open_reader
from pipelines.ingest.load import LoadResult, load_table, read_watermark
from pipelines.ingest.tables import INGESTED_TABLES, SOURCE_TABLES
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import Lake, open_lake, open_published
from pipelines.warehouse.resource import Warehouse
from platform_core.models import Base, utcnow
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig, simulate

END = datetime(2026, 11, 20)
SMALL = SimulationConfig(
    users=20,
    agents=6,
    hirings=40,
    executions=3_000,
    days=3,
    metric_interval_minutes=120,
    end=END,
    batch_size=1_000,
)


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def ingest(
    engine: Engine,
    warehouse: Path,
    *,
    lookback: timedelta = timedelta(0),
    tables: tuple[str, ...] = INGESTED_TABLES,
) -> dict[str, LoadResult]:
    reader = open_reader(url_of(engine))
    try:
        with connect_working(warehouse) as con:
            return {t: load_table(con, reader, SOURCE_TABLES[t], lookback=lookback) for t in tables}
    finally:
        reader.close()


def source_rows(engine: Engine, table: str) -> dict[int, dict]:
    t = Base.metadata.tables[table]
    # JSON columns as stored (no decoding), so malformed documents read back too.
    cols = [
        type_coerce(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in t.columns
    ]
    with engine.connect() as conn:
        return {r.id: dict(r._mapping) for r in conn.execute(select(*cols))}


def raw_rows(warehouse: Path, table: str) -> dict[int, dict]:
    with connect_working(warehouse) as con:
        cur = con.execute(f'SELECT * FROM raw."{table}"')
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return {row["id"]: row for row in rows}


def _same(source: object, raw: object) -> bool:
    if isinstance(source, dict | list):  # JSON parsed by the driver: compare as documents
        return raw is not None and json.loads(raw) == source
    if isinstance(source, str) and isinstance(raw, str) and source[:1] in "{[":
        try:
            return json.loads(raw) == json.loads(source)
        except json.JSONDecodeError:  # malformed documents are kept verbatim
            return raw == source
    if isinstance(source, float) and isinstance(raw, float):
        return abs(source - raw) < 1e-9
    return source == raw


def assert_mirrors(engine: Engine, warehouse: Path, table: str, purged: set[int] = frozenset()):
    src, raw = source_rows(engine, table), raw_rows(warehouse, table)
    assert set(raw) == set(src) | set(purged)
    for key, row in src.items():
        for column, value in row.items():
            assert _same(value, raw[key][column]), (table, key, column, value, raw[key][column])


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "wh" / "warehouse.sqlite"


def test_full_load_mirrors_every_table(engine: Engine, warehouse: Path) -> None:
    simulate(engine, SMALL)
    results = ingest(engine, warehouse)
    for table in INGESTED_TABLES:
        assert_mirrors(engine, warehouse, table)
        assert results[table].full_load
        assert results[table].rows_inserted == results[table].source_rows
    assert results["executions"].rows_inserted == SMALL.executions


def test_incremental_load_inserts_new_rows_and_updates_changed_ones(
    engine: Engine, warehouse: Path
) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse)
    svc = PlatformService(engine)
    hiring_id = next(
        h
        for h, row in source_rows(engine, "hirings").items()
        if row["status"] == "active"
        and (row["expires_at"] or END) > utcnow()
        and row["user_id"] is not None
    )
    # The hiring's agent may not be hireable any more in a random history: make sure it is.
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE agents SET status = 'active' WHERE id = (SELECT agent_id"
                " FROM hirings WHERE id = :h)"
            ),
            {"h": hiring_id},
        )
    first = svc.create_execution(hiring_id, execution_id="inc-1")
    svc.create_execution(hiring_id, execution_id="inc-2")
    results = ingest(engine, warehouse, tables=("executions",))
    assert (results["executions"].rows_inserted, results["executions"].rows_updated) == (2, 0)
    assert raw_rows(warehouse, "executions")[first.id]["status"] == "pending"

    svc.start_execution("inc-1")
    svc.finish_execution("inc-1", "completed", output_data={"ok": 1})
    results = ingest(engine, warehouse, tables=("executions",))
    assert (results["executions"].rows_inserted, results["executions"].rows_updated) == (0, 1)
    raw = raw_rows(warehouse, "executions")
    assert raw[first.id]["status"] == "completed"
    assert raw[first.id]["completed_at"] is not None
    assert_mirrors(engine, warehouse, "executions")

    # Nothing new: nothing changed, watermark where it was. What is read again is exactly the
    # rows stamped at or after the capture cursor: on PostgreSQL the cursor is the xmin of the
    # previous read's snapshot, which a transaction open anywhere on the server (another
    # test's database) holds back, so a row committed just before that read may be read once
    # more, and is merged as it is.
    with connect_working(warehouse) as con:
        before = read_watermark(con, "executions")
        (cursor,) = con.execute(
            "SELECT change_from FROM ops.capture_cursors WHERE table_name = 'executions'"
        ).fetchone()
    with engine.connect() as conn:
        again = conn.execute(
            text("SELECT count(*) FROM executions WHERE change_id >= :c"), {"c": cursor}
        ).scalar_one()
    results = ingest(engine, warehouse, tables=("executions",))
    assert (results["executions"].rows_inserted, results["executions"].rows_updated) == (0, 0)
    assert results["executions"].rows_read == again
    with connect_working(warehouse) as con:
        assert read_watermark(con, "executions") == before


def test_a_read_with_nothing_committed_since_reads_nothing_and_duplicates_nothing(
    engine: Engine, warehouse: Path
) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse, lookback=timedelta(days=1))
    # Change capture: nothing committed since the last read, so nothing is read, however
    # long the lookback (it serves only sources without change_id).
    results = ingest(engine, warehouse, lookback=timedelta(days=1), tables=("executions",))
    assert (results["executions"].rows_read, results["executions"].rows_inserted) == (0, 0)
    with connect_working(warehouse) as con:
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT id) FROM raw.executions"
        ).fetchall()[0]
    assert total == distinct == SMALL.executions


def test_without_change_capture_the_watermark_rereads_its_lookback() -> None:
    """The first read after migration 0004 (rows without change_id yet) and sources without
    change capture are read from the watermark, re-reading ``lookback`` before it."""
    mark = Watermark(datetime(2026, 11, 20, 12), 500)
    executions, metrics = SOURCE_TABLES["executions"], SOURCE_TABLES["agent_metrics"]
    assert _filter(executions, mark, timedelta(days=1), lambda _i: "?") == (
        " WHERE updated_at >= ?",
        [datetime(2026, 11, 19, 12)],
    )
    assert _filter(metrics, Watermark(None, 500), timedelta(0), lambda _i: "?") == (
        " WHERE id > ?",
        [500],
    )
    assert _filter(executions, mark, timedelta(days=1), lambda _i: "?", changed_from=42) == (
        " WHERE change_id >= ?",
        [42],
    )


class RepeatingReader:
    """A platform reader that hands every batch over twice: a source (or a lookback) that
    yields a row twice, which the merge must not turn into two raw rows unnoticed."""

    def __init__(self, reader) -> None:
        self.reader = reader

    def batches(self, table, since, lookback, changed_from=None):
        for batch in self.reader.batches(table, since, lookback, changed_from):
            rows = batch.read_all() if hasattr(batch, "read_all") else batch
            yield rows
            yield rows

    def __getattr__(self, name: str):
        return getattr(self.reader, name)


def _raw_check(name: str, table: str):
    return next(
        c
        for c in raw_checks
        if {k.name for k in c.check_keys} == {name}
        and {k.asset_key.path[-1] for k in c.check_keys} == {table}
    )


def test_the_run_check_judges_what_the_load_merged_and_the_daily_check_every_row(
    engine: Engine, warehouse: Path
) -> None:
    simulate(engine, SMALL)
    results = ingest(engine, warehouse)
    assert {r.duplicate_ids for r in results.values()} == {0}
    hourly, daily = (
        _raw_check("unique_ids", "executions"),
        _raw_check("every_id_once", "executions"),
    )
    resource = Warehouse(catalog=str(warehouse))
    assert hourly(warehouse=resource).passed and daily(warehouse=resource).passed
    # New executions read by a source that repeats them: the merge inserts both copies.
    simulate(engine, SimulationConfig(**{**SMALL.__dict__, "executions": 50, "seed": 7}))
    reader = open_reader(url_of(engine))
    try:
        with connect_working(warehouse) as con:
            result = load_table(con, RepeatingReader(reader), SOURCE_TABLES["executions"])
    finally:
        reader.close()
    assert result.duplicate_ids == 50
    check = hourly(warehouse=resource)
    assert not check.passed and check.metadata["duplicate_ids"].value == 50
    assert not daily(warehouse=resource).passed
    # A duplicate the merge did not make (written by hand) is the daily check's to find.
    with connect_working(warehouse) as con:
        con.execute(
            "DELETE FROM raw.executions WHERE id IN (SELECT id FROM raw.executions"
            " GROUP BY id HAVING count(*) > 1) AND rowid NOT IN (SELECT min(rowid)"
            " FROM raw.executions GROUP BY id)"
        )
        con.execute("INSERT INTO raw.executions SELECT * FROM raw.executions LIMIT 1")
    ingest(engine, warehouse, tables=("executions",))
    assert hourly(warehouse=resource).passed
    check = daily(warehouse=resource)
    assert not check.passed and check.metadata["duplicated_ids"].value == 1


def test_rows_purged_from_the_platform_stay_in_the_warehouse(
    engine: Engine, warehouse: Path
) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse)
    with engine.begin() as conn:
        purged = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT id FROM executions WHERE status IN ('completed', 'failed')"
                    " ORDER BY id LIMIT 500"
                )
            )
        }
        conn.execute(
            text(
                "DELETE FROM executions WHERE id IN (SELECT id FROM executions"
                " WHERE status IN ('completed', 'failed') ORDER BY id LIMIT 500)"
            )
        )
    results = ingest(engine, warehouse, tables=("executions",))
    assert results["executions"].source_rows == SMALL.executions - 500
    assert results["executions"].raw_rows == SMALL.executions
    assert_mirrors(engine, warehouse, "executions", purged=purged)


def test_bad_rows_land_raw_without_failing_the_run(engine: Engine, warehouse: Path) -> None:
    report = simulate(engine, SimulationConfig(**{**SMALL.__dict__, "bad_rows": 30}))
    results = ingest(engine, warehouse)
    bad = {
        k: v
        for k, v in raw_rows(warehouse, "executions").items()
        if v["execution_id"].startswith("bad_")
    }
    assert len(bad) == sum(n for k, n in report.bad_rows.items() if k != "duplicate_metric_point")
    assert any(v["status"] == "succeeded" for v in bad.values())
    if "invalid_json" in report.bad_rows:
        texts = [v["input_data"] for v in bad.values() if "invalid_json" in v["execution_id"]]
        assert texts and all(t.startswith('{"message": "task ') for t in texts)
        for t in texts:
            with pytest.raises(json.JSONDecodeError):
                json.loads(t)
    # Rows stamped 30 days ahead are kept but do not drag the watermark into the future.
    assert results["executions"].watermark.updated_at <= utcnow()
    assert_mirrors(engine, warehouse, "executions")


class FailingReader:
    """Wraps a reader and fails after the first batch, like a dropped connection."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def batches(self, table, since, lookback, changed_from=None):
        for i, batch in enumerate(self.inner.batches(table, since, lookback, changed_from)):
            if i == 1:
                raise ConnectionError("connection lost mid-read")
            yield batch
        raise ConnectionError("connection lost mid-read")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_failed_run_changes_nothing_and_the_next_one_completes(
    engine: Engine, warehouse: Path
) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse, tables=("users", "agents", "hirings"))
    reader = open_reader(url_of(engine))
    try:
        with connect_working(warehouse) as con, pytest.raises(ConnectionError):
            load_table(con, FailingReader(reader), SOURCE_TABLES["executions"])
        with connect_working(warehouse) as con:
            assert con.execute("SELECT count(*) FROM raw.executions").fetchall()[0][0] == 0
            assert read_watermark(con, "executions") is None
    finally:
        reader.close()
    results = ingest(engine, warehouse, tables=("executions",))
    assert results["executions"].rows_inserted == SMALL.executions
    assert_mirrors(engine, warehouse, "executions")


KILL_SCRIPT = """
import sys, time
from pathlib import Path
from pipelines.ingest.checks import raw_checks
from pipelines.ingest.extract import Watermark, _filter, open_reader
from pipelines.ingest.load import load_table
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.warehouse.resource import Warehouse
from pipelines.warehouse.files import connect_working

url, warehouse, marker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
reader = open_reader(url)
inner = reader.batches

def batches(table, since, lookback, changed_from=None):
    for i, batch in enumerate(inner(table, since, lookback, changed_from)):
        if hasattr(batch, "read_next_batch"):  # PostgreSQL: one stream; hand over one batch
            first = batch.read_next_batch()
            import pyarrow as pa
            yield pa.Table.from_batches([first])
        else:
            yield batch
        marker.write_text("mid-batch")
        time.sleep(60)  # killed here, inside the open DuckDB transaction

reader.batches = batches
with connect_working(warehouse) as con:
    load_table(con, reader, SOURCE_TABLES["executions"])
"""


@pytest.mark.slow
def test_a_run_killed_mid_batch_leaves_no_trace_and_reruns_cleanly(
    engine: Engine, warehouse: Path, tmp_path: Path
) -> None:
    simulate(
        engine, SimulationConfig(**{**SMALL.__dict__, "executions": 60_000, "batch_size": 20_000})
    )
    ingest(engine, warehouse, tables=("users",))
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, url_of(engine), str(warehouse), str(marker)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the ingest process ended before the kill"
            assert time.monotonic() < deadline, "the ingest never reached its first batch"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    with connect_working(warehouse) as con:  # reopening replays the WAL: nothing committed
        assert con.execute("SELECT count(*) FROM raw.executions").fetchall()[0][0] == 0
        assert read_watermark(con, "executions") is None
        assert read_watermark(con, "users") is not None  # earlier commits survive
    results = ingest(engine, warehouse, tables=("executions",))
    assert results["executions"].rows_inserted == 60_000
    assert_mirrors(engine, warehouse, "executions")


def test_raw_tables_are_readable_with_plain_duckdb(engine: Engine, warehouse: Path) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse)
    con = open_lake(Lake.of(warehouse), read_only=True)
    try:
        comment = con.execute(
            "SELECT comment FROM duckdb_tables() WHERE schema_name = 'raw'"
            " AND table_name = 'executions'"
        ).fetchall()[0][0]
        assert "Mirror of the platform table executions" in comment
    finally:
        con.close()


def test_the_lake_writes_its_parquet_files_with_zstd(engine: Engine, warehouse: Path) -> None:
    simulate(engine, SMALL)
    ingest(engine, warehouse, tables=("executions",))
    con = open_lake(Lake.of(warehouse), read_only=True)
    try:
        files = [
            path
            for (path,) in con.execute(
                "select data_file from ducklake_list_files('warehouse', 'executions',"
                " schema => 'raw')"
            ).fetchall()
        ]
        codecs = {
            codec
            for (codec,) in con.execute(
                "select distinct compression from parquet_metadata(?)", [files]
            ).fetchall()
        }
    finally:
        con.close()
    assert files and codecs == {"ZSTD"}


def test_invalid_utf8_lands_visible_and_quarantined_and_runs_stay_green(
    tmp_path: Path,
) -> None:
    """SQLite keeps whatever bytes a client writes; sqlite3's decoder used to stop the ingest
    on them, on every run. (PostgreSQL's UTF8 databases refuse such bytes on the way in.)"""
    import sqlite3

    import dagster as dg

    from pipelines.run import run_pipeline
    from tests.pipelines.location import defs_on
    from tests.worlds import simulated_engine

    engine = simulated_engine("sqlite", None, tmp_path, SMALL)
    raw_conn = sqlite3.connect(tmp_path / "platform.db")  # as a C client would write them
    with raw_conn:
        raw_conn.execute(
            "UPDATE executions SET error_message = CAST(X'626164ff6279746573' AS TEXT) WHERE id = 7"
        )
        raw_conn.execute("UPDATE users SET full_name = CAST(X'4aff6fc3' AS TEXT) WHERE id = 2")
    raw_conn.close()
    warehouse = tmp_path / "wh" / "warehouse.sqlite"
    warehouse.parent.mkdir()  # a WAREHOUSE_PATH set by hand names an existing folder
    defs = defs_on(engine, warehouse)
    for _ in range(2):  # the next run too: nothing sticks
        outcome = run_pipeline(dg.DagsterInstance.ephemeral(), defs=defs)
        assert outcome.success, outcome.failed_steps
    con = open_published(warehouse)
    try:
        assert con.execute("SELECT error_message FROM raw.executions WHERE id = 7").fetchall() == [
            ("bad\ufffdbytes",)
        ]
        assert con.execute("SELECT full_name FROM raw.users WHERE id = 2").fetchall() == [
            ("J\ufffdo\ufffd",)
        ]
        flagged = con.execute(
            "SELECT table_name, row_key, detail FROM marts.quarantine"
            " WHERE rule = 'invalid_utf8' ORDER BY table_name"
        ).fetchall()
        assert flagged == [
            ("executions", 7, "bytes that are not UTF-8 (shown as U+FFFD) in error_message"),
            ("users", 2, "bytes that are not UTF-8 (shown as U+FFFD) in full_name"),
        ]
        assert (
            con.execute(
                "SELECT count(*) FROM intermediate.valid_users WHERE user_id = 2"
            ).fetchall()[0][0]
            == 0
        )
        assert (
            con.execute(
                "SELECT count(*) FROM marts.executions_all WHERE id = 7 AND is_quarantined"
            ).fetchall()[0][0]
            == 1
        )
    finally:
        con.close()
    engine.dispose()
