"""Soak: the whole system running for a while on PostgreSQL, then nothing may be missing.

On a throwaway PostgreSQL database (``BENCH_POSTGRES_URL``, see throwaway_pg.py) with a
simulated history, for ``--minutes`` (default 10), all at once:

* **the platform**: a writer thread that, every second, queues executions through
  ``PlatformService`` (one transaction each, as the platform does), starts and finishes the
  ones queued before (completed, failed or timed out), records heartbeats and metric points,
  and now and then a hiring and a review;
* **the pipeline** on a short schedule: ``agenthub pipeline run`` every ``--pipeline-every``
  seconds (default 60), in its own process, recorded in a ``DAGSTER_HOME`` of its own;
* **maintenance** repeatedly: ``agenthub maintenance run`` every ``--maintenance-every``
  seconds (default 150) with ``EXECUTION_RETENTION_DAYS=1`` and ``METRICS_RETENTION_DAYS=2``,
  so every run archives and purges;
* **dashboard readers**: ``--readers`` processes (default 3) querying the published warehouse
  through ``dashboards/queries/`` in a loop, as the pages do.

Then the writer stops, one last pipeline run catches up, and the bench verifies that every
execution is in exactly one of platform database and archive (none lost, none in both), that
the warehouse holds each of them exactly once, that every execution the writer queued is
there, that no reader saw an error, and that every asset check of every run passed (WARN
checks are counted apart). It prints the totals and each job's duration distribution.
Exit status 1 when anything is missing or failed.

    python bench/soak.py                       # 10 minutes
    python bench/soak.py --minutes 2 --pipeline-every 30 --maintenance-every 60
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
from pipeline import machine
from sqlalchemy import select, text
from throwaway_pg import drop, fresh_database

from pipelines.warehouse.lake import open_published
from platform_core import migrate
from platform_core.db import make_engine
from platform_core.models import Agent, Hiring, User
from platform_core.service import PlatformService
from platform_core.simulate import SimulationConfig, simulate

AGENTHUB = str(Path(sys.executable).with_name("agenthub"))
ROOT = Path(__file__).resolve().parents[1]
HISTORY = SimulationConfig(
    users=500, agents=20, hirings=1_000, executions=100_000, days=10, metric_interval_minutes=30
)


class Platform(threading.Thread):
    """The platform's own traffic, every second, through PlatformService."""

    def __init__(self, url: str, per_second: int) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.service = PlatformService(self.engine)
        self.per_second = per_second
        self.rng = random.Random(7)
        self.stop = threading.Event()
        self.queued: list[str] = []  # execution_id of every execution this thread queued
        self.errors: list[str] = []
        with self.engine.connect() as conn:
            self.agents = list(
                conn.execute(
                    select(Agent.id).where(Agent.status.in_(("active", "approved")))
                ).scalars()
            )
            self.users = list(
                conn.execute(select(User.id).where(User.is_active.is_(True)).limit(200)).scalars()
            )
        # Hirings that never expire, so the expiry job leaves them usable.
        self.hirings = [
            self.service.hire_agent(agent, self.rng.choice(self.users)).id
            for agent in self.agents[:10]
        ]

    def tick(self) -> None:
        """One second of traffic."""
        svc, rng = self.service, self.rng
        for _ in range(self.per_second):
            execution = svc.create_execution(rng.choice(self.hirings))
            self.queued.append(execution.execution_id)
        # Finish what was queued a moment ago: most complete, some fail or time out.
        for execution_id in self.queued[-2 * self.per_second : -self.per_second]:
            svc.start_execution(execution_id)
            outcome = rng.choices(("completed", "failed", "timeout"), (90, 7, 3))[0]
            svc.finish_execution(
                execution_id,
                outcome,
                error_message=None if outcome == "completed" else "soak: upstream error",
                cpu_usage=rng.uniform(5, 90),
                memory_usage=rng.uniform(100, 900),
            )
        for agent in rng.sample(self.agents, k=min(3, len(self.agents))):
            svc.heartbeat(agent)
            svc.record_metric(agent, "cpu_usage", rng.uniform(5, 95))
        if rng.random() < 0.1:
            self.hirings.append(svc.hire_agent(rng.choice(self.agents), rng.choice(self.users)).id)
        if rng.random() < 0.05:
            # One review per agent and reviewer: a repeat is refused, which is fine here.
            with contextlib.suppress(Exception):
                svc.review_agent(rng.choice(self.agents), rng.choice(self.users), rng.randint(1, 5))

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.monotonic()
            try:
                self.tick()
            except Exception as error:  # recorded; fails the soak
                self.errors.append(repr(error))
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))


@dataclass
class Job:
    """A command run on a timer in its own process: durations and failures."""

    name: str
    command: list[str]
    every_s: float
    env: dict[str, str]
    log: Path
    durations: list[float] = field(default_factory=list)
    failures: int = 0

    def run_once(self) -> None:
        began = time.perf_counter()
        with self.log.open("a") as log:
            code = subprocess.call(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.durations.append(time.perf_counter() - began)
        self.failures += code != 0

    def loop(self, stop: threading.Event, offset_s: float) -> None:
        if stop.wait(offset_s):
            return
        while not stop.is_set():
            began = time.monotonic()
            self.run_once()
            stop.wait(max(0.0, self.every_s - (time.monotonic() - began)))


def reader(warehouse: str, stop, counts, index: int) -> None:
    """A dashboard reader process: the Overview's, the Agents' and the Trust page's queries."""
    os.environ["WAREHOUSE_CATALOG"] = warehouse
    # bench/dashboards.py would shadow the dashboards package: import it from the repository.
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    import streamlit as st

    from dashboards import warehouse
    from dashboards.queries import agents, overview, trust

    done = errors = 0
    while not stop.is_set():
        snap = warehouse.snapshot()
        if snap is None or not warehouse.state(snap).ready:
            time.sleep(0.5)
            continue
        try:
            end = date.today()
            start = end - timedelta(days=6)
            overview.headline(snap, start, end, None)
            agents.agent_table(snap, start, end)
            trust.trust_movers(snap, start, end)
            warehouse.freshness(snap)
            done += 1
        except Exception as error:  # counted; the soak requires 0
            errors += 1
            print(f"reader {index}: {error!r}", file=sys.stderr)
        st.cache_data.clear()  # every loop queries the file again, like a new reader
        time.sleep(0.2)
    counts[index] = (done, errors)


def distribution(values: list[float]) -> str:
    if not values:
        return "no runs"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (
        f"{len(values)} runs: min {ordered[0]:.1f} s, median {statistics.median(values):.1f} s, "
        f"p95 {p95:.1f} s, max {ordered[-1]:.1f} s"
    )


def check_results(home: Path) -> tuple[int, int, int, list[str]]:
    """Every asset check evaluation recorded in the soak's DAGSTER_HOME: passed, failed with
    ERROR severity, failed WARN checks, and the failed ones' names."""
    os.environ["DAGSTER_HOME"] = str(home)
    instance = dg.DagsterInstance.get()
    passed = failed = warned = 0
    names: list[str] = []
    for record in instance.get_run_records():
        for event in instance.get_records_for_run(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records:
            evaluation = event.event_log_entry.dagster_event.event_specific_data
            if evaluation.passed:
                passed += 1
            elif evaluation.severity == dg.AssetCheckSeverity.WARN:
                warned += 1
            else:
                failed += 1
                names.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return passed, failed, warned, names


def main() -> int:
    """Run the soak; 0 when nothing was lost and nothing failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--pipeline-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--maintenance-every", type=float, default=150.0, help="seconds")
    parser.add_argument("--readers", type=int, default=3)
    parser.add_argument("--per-second", type=int, default=5, help="executions queued per second")
    args = parser.parse_args()
    print(machine())
    name, url = fresh_database()
    tmp = Path(tempfile.mkdtemp(prefix="agenthub-soak-"))
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        simulate(engine, HISTORY)
        print(f"history: {HISTORY.executions:,} executions in {time.perf_counter() - t0:.0f} s")
        home = tmp / "dagster_home"
        home.mkdir()
        (home / "dagster.yaml").write_text((ROOT / "dagster_home" / "dagster.yaml").read_text())
        warehouse = tmp / "warehouse.sqlite"
        env = {
            **os.environ,
            "PLATFORM_DATABASE_URL": url,
            "WAREHOUSE_CATALOG": str(warehouse),
            "ARCHIVE_DIR": str(tmp / "archive"),
            "DAGSTER_HOME": str(home),
            "EXECUTION_RETENTION_DAYS": "1",
            "METRICS_RETENTION_DAYS": "2",
        }
        pipeline = Job(
            "agenthub pipeline run", [AGENTHUB, "pipeline", "run"], args.pipeline_every, env,
            tmp / "pipeline.log",
        )  # fmt: skip
        maintenance = Job(
            "agenthub maintenance run", [AGENTHUB, "maintenance", "run"],
            args.maintenance_every, env, tmp / "maintenance.log",
        )  # fmt: skip
        pipeline.run_once()  # the first publish, before readers and maintenance start
        print(f"first pipeline run: {pipeline.durations[0]:.0f} s")

        writer = Platform(url, args.per_second)
        stop = threading.Event()
        context = mp.get_context("spawn")
        reader_stop = context.Event()
        counts = context.Manager().dict()
        readers = [
            context.Process(target=reader, args=(str(warehouse), reader_stop, counts, i))
            for i in range(args.readers)
        ]
        for process in readers:
            process.start()
        writer.start()
        loops = [
            threading.Thread(target=pipeline.loop, args=(stop, 5.0), daemon=True),
            threading.Thread(target=maintenance.loop, args=(stop, 20.0), daemon=True),
        ]
        for loop in loops:
            loop.start()
        began = time.monotonic()
        while time.monotonic() - began < args.minutes * 60:
            time.sleep(10)
            print(
                f"  {time.monotonic() - began:5.0f} s: {len(writer.queued):,} queued, "
                f"pipeline {len(pipeline.durations)} runs, "
                f"maintenance {len(maintenance.durations)} runs",
                flush=True,
            )
        writer.stop.set()
        writer.join()
        stop.set()
        for loop in loops:
            loop.join()
        reader_stop.set()
        for process in readers:
            process.join(timeout=60)
        pipeline.run_once()  # catch up with the writer's last second

        # -- verify ----------------------------------------------------------------------
        with engine.connect() as conn:
            platform_ids = set(conn.execute(text("SELECT id FROM executions")).scalars())
            platform_keys = set(conn.execute(text("SELECT execution_id FROM executions")).scalars())
            expired = conn.execute(select(Hiring.id).where(Hiring.status == "expired")).all()
        con = open_published(warehouse)
        con.execute("attach ':memory:' as scratch")
        con.execute("use warehouse")
        archived = (
            [
                r[0]
                for r in con.execute(
                    "select id from read_parquet(?, hive_partitioning = true)",
                    [str(tmp / "archive" / "executions" / "**" / "*.parquet")],
                ).fetchall()
            ]
            if (tmp / "archive" / "executions").exists()
            else []
        )
        archived_keys = {
            r[0]
            for r in con.execute(
                "select execution_id from marts.executions_all where is_archived"
            ).fetchall()
        }
        in_warehouse = con.execute(
            "select count(*), count(distinct id) from marts.executions_all"
        ).fetchone()
        warehouse_ids = {
            r[0] for r in con.execute("select id from marts.executions_all").fetchall()
        }
        archive_ids = set(archived)
        problems = []
        if len(archived) != len(archive_ids):
            problems.append(f"{len(archived) - len(archive_ids)} executions archived twice")
        if platform_ids & archive_ids:
            problems.append(
                f"{len(platform_ids & archive_ids)} executions on the platform and in the archive"
            )
        everything = platform_ids | archive_ids
        if in_warehouse[0] != in_warehouse[1]:
            problems.append(f"{in_warehouse[0] - in_warehouse[1]} duplicate ids in the warehouse")
        if warehouse_ids != everything:
            problems.append(
                f"warehouse vs platform+archive: {len(everything - warehouse_ids)} missing, "
                f"{len(warehouse_ids - everything)} extra"
            )
        lost = set(writer.queued) - platform_keys - archived_keys
        if lost:
            problems.append(f"{len(lost)} executions the writer queued are nowhere")
        errors = sum(e for _, e in counts.values())
        loads = sum(d for d, _ in counts.values())
        if errors:
            problems.append(f"{errors} reader errors")
        crashed = [i for i, p in enumerate(readers) if p.exitcode != 0 or i not in counts]
        if crashed:
            problems.append(f"reader processes {crashed} crashed (their traceback is above)")
        if not loads:
            problems.append("the readers loaded no page at all")
        if writer.errors:
            problems.append(f"{len(writer.errors)} platform write errors: {writer.errors[:3]}")
        for job in (pipeline, maintenance):
            if job.failures:
                problems.append(f"{job.failures} failed {job.name} runs (log: {job.log})")
        passed, failed, warned, failed_names = check_results(home)
        if failed:
            problems.append(f"{failed} failed asset checks: {sorted(set(failed_names))}")

        # -- report ----------------------------------------------------------------------
        print(
            f"\nsoak of {args.minutes:g} minutes on PostgreSQL"
            f" ({args.per_second} executions/s queued)"
        )
        print(f"  executions queued by the platform writer: {len(writer.queued):,}")
        print(
            f"  executions now on the platform: {len(platform_ids):,}; "
            f"in the archive: {len(archive_ids):,}; in the warehouse: {in_warehouse[0]:,} "
            f"(each once: {in_warehouse[0] == in_warehouse[1]})"
        )
        print(f"  hirings expired by maintenance: {len(expired):,}")
        print(
            f"  dashboard readers: {args.readers} processes, {loads:,} page loads, {errors} errors"
        )
        print(f"  asset checks: {passed:,} passed, {failed} failed, {warned} WARN")
        print(f"  {pipeline.name}: {distribution(pipeline.durations)}")
        print(f"  {maintenance.name}: {distribution(maintenance.durations)}")
        print("  NOTHING LOST, NOTHING FAILED" if not problems else "  PROBLEMS:")
        for problem in problems:
            print(f"    - {problem}")
        engine.dispose()
        return 1 if problems else 0
    finally:
        drop(name)
        print(f"  logs kept in {tmp}")


if __name__ == "__main__":
    sys.exit(main())
