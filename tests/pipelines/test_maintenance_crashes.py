"""Archive then purge under real crashes and real concurrency, against PostgreSQL.

* Twelve trials: the archive runs in a subprocess killed with SIGKILL at a seeded random
  moment spread over its measured duration; a clean run follows; then every execution id is in
  exactly one of the platform or the archive (read as an analyst reads it, with a glob), no
  file is partial or unlisted, and the manifest agrees with the files.
* ``agenthub maintenance run`` and ``agenthub pipeline run`` started together: both succeed,
  no row is lost, and a reader polling the published warehouse meanwhile never errs.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from sqlalchemy import Engine, text

from pipelines.maintenance.archive import archive_table
from pipelines.maintenance.archive_specs import EXECUTIONS
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import open_published
from platform_core.db import make_engine
from platform_core.simulate import SimulationConfig, simulate
from tests.pipelines.maintenance_support import REPO, Agenthub, archive_rows, ids, ingest

TRIALS = 12

KILL_SCRIPT = """
import sys
from datetime import datetime
from pathlib import Path
from pipelines.maintenance.archive import archive_table
from pipelines.maintenance.archive_specs import EXECUTIONS
from pipelines.warehouse.files import connect_working
from platform_core.db import make_engine

url, warehouse, archive, cutoff, marker = sys.argv[1:6]
engine = make_engine(url)
with connect_working(Path(warehouse)) as con:
    Path(marker).touch()
    archive_table(con, engine, Path(archive), EXECUTIONS, datetime.fromisoformat(cutoff),
                  batch_size=100)
"""


def analyst_ids(archive: Path) -> list[int]:
    return [r[0] for r in archive_rows(archive, "executions")]


def assert_exactly_once(engine: Engine, warehouse: Path, archive: Path, every: set[int]) -> None:
    in_archive = analyst_ids(archive)
    assert len(in_archive) == len(set(in_archive)), "an id in two archive files"
    on_platform = ids(engine, "SELECT id FROM executions")
    assert not on_platform & set(in_archive), "an id both on the platform and archived"
    assert on_platform | set(in_archive) == every, "an execution lost"
    files = {p.relative_to(archive).as_posix() for p in archive.rglob("*") if p.is_file()}
    with connect_working(warehouse) as con:
        listed = dict(
            con.execute(
                "select file, rows from ops.archive_manifest where purged_at is not null"
            ).fetchall()
        )
        unconfirmed = con.execute(
            "select count(*) from ops.archive_manifest where purged_at is null"
        ).fetchall()[0][0]
        per_file = dict(
            con.execute(
                "select parse_path(filename, 'system')[-2] || '/' || parse_path(filename,"
                " 'system')[-1], count(*) from read_parquet(?, filename = true) group by 1",
                [f"{archive}/executions/**/*.parquet"],
            ).fetchall()
            if files
            else []
        )
    assert unconfirmed == 0
    assert files == set(listed), "a file not in the manifest, or a listed file missing"
    assert {f"executions/{k}": v for k, v in per_file.items()} == listed


@pytest.fixture
def platform(postgres, tmp_path: Path) -> Engine:
    engine = make_engine(postgres.create(migrated=True))
    simulate(engine, SimulationConfig(users=20, agents=6, hirings=60, executions=24_000, days=13))
    yield engine
    engine.dispose()


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_or_duplicates(platform: Engine, tmp_path: Path):
    warehouse, archive = tmp_path / "warehouse.sqlite", tmp_path / "archive"
    url = platform.engine.url.render_as_string(hide_password=False)
    ingest(platform, warehouse)
    every = ids(platform, "SELECT id FROM executions")
    with platform.connect() as conn:
        first, last = conn.execute(
            text("SELECT min(created_at), max(created_at) FROM executions")
        ).one()
    # Each trial archives the next slice of history: cutoffs move forward through it.
    step = (last - first) / (TRIALS + 2)  # equal slices, the newest days left alone
    cutoffs = [first + step * (k + 1) for k in range(TRIALS + 1)]

    def child(cutoff: datetime, marker: Path) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                KILL_SCRIPT,
                url,
                str(warehouse),
                str(archive),
                cutoff.isoformat(),
                str(marker),
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    def started(proc: subprocess.Popen, marker: Path) -> float:
        deadline = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None:
            assert time.monotonic() < deadline, "the archive process never started"
            time.sleep(0.005)
        return time.monotonic()

    # The first slice runs to the end: how long a slice takes, so kills spread over it.
    marker = tmp_path / "started-0"
    proc = child(cutoffs[0], marker)
    began = started(proc, marker)
    assert proc.wait(timeout=300) == 0
    span = time.monotonic() - began
    assert_exactly_once(platform, warehouse, archive, every)

    rng = random.Random(20261123)
    killed = 0
    for trial, cutoff in enumerate(cutoffs[1:], start=1):
        marker = tmp_path / f"started-{trial}"
        proc = child(cutoff, marker)
        try:
            started(proc, marker)
            time.sleep(rng.uniform(0.0, span * 0.9))
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=300)
        killed += proc.returncode == -signal.SIGKILL
        assert proc.returncode in (0, -signal.SIGKILL)
        with connect_working(warehouse) as con:  # the next run, uninterrupted
            archive_table(con, platform, archive, EXECUTIONS, cutoff, batch_size=100)
        assert_exactly_once(platform, warehouse, archive, every)
        old = ids(
            platform,
            "SELECT id FROM executions WHERE status IN ('completed','failed','timeout',"
            "'cancelled') AND COALESCE(completed_at, created_at) < :c",
            c=cutoff,
        )
        assert not old, f"trial {trial}: {len(old)} old rows left after the clean run"
    print(f"killed {killed} of {TRIALS}, slice {span:.2f} s")
    assert killed >= TRIALS * 2 // 3, f"only {killed} of {TRIALS} processes were killed mid-run"


def test_maintenance_and_the_pipeline_started_together(postgres, tmp_path: Path):
    engine = make_engine(postgres.create(migrated=True))
    simulate(engine, SimulationConfig(users=10, agents=4, hirings=30, executions=6_000, days=8))
    every = ids(engine, "SELECT id FROM executions")
    agenthub = Agenthub(engine.url.render_as_string(hide_password=False), tmp_path)
    warehouse, archive = agenthub.warehouse, agenthub.archive
    agenthub.run("pipeline", "run")  # a warehouse to publish and to read from
    reader_errors: list[str] = []
    runs = [agenthub.start("maintenance", "run"), agenthub.start("pipeline", "run")]
    reads = 0
    while any(r.running for r in runs):
        try:
            with open_published(warehouse) as con:
                con.execute("select count(*) from marts.executions_all").fetchall()
            reads += 1
        except duckdb.Error as exc:
            reader_errors.append(str(exc))
        time.sleep(0.05)
    assert [r.finish() for r in runs] == [0, 0], [r.output for r in runs]
    assert not reader_errors and reads > 0
    # A last pipeline run takes in the archive flags; then nothing is lost.
    agenthub.run("pipeline", "run")
    on_platform = ids(engine, "SELECT id FROM executions")
    in_archive = set(analyst_ids(archive))
    assert on_platform | in_archive == every and not on_platform & in_archive
    assert in_archive, "maintenance archived nothing"
    with open_published(warehouse) as con:
        rows = con.execute("select id, is_archived from marts.executions_all").fetchall()
    assert {r[0] for r in rows} == every and len(rows) == len(every)
    assert {r[0] for r in rows if r[1]} == in_archive
    engine.dispose()
