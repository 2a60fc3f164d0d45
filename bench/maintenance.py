"""`agenthub maintenance run` as operators run it, on PostgreSQL, while the platform writes.

For each ``--sizes`` N, on a fresh throwaway database (``BENCH_POSTGRES_URL``):

1. ``agenthub db init``, ``agenthub simulate --executions N --days 100`` and
   ``agenthub pipeline run`` (only rows the warehouse holds are purged);
2. a writer thread queues executions through the platform's service layer
   (``PlatformService.create_execution``, one transaction each, as the platform does) for
   ``--before`` seconds: the baseline latency;
3. ``agenthub maintenance run`` with ``EXECUTION_RETENTION_DAYS=1`` (nearly every execution is
   old), timed from process start while the writer keeps writing; its step durations are read
   from the Dagster run record, its per-operation seconds from ``marts.maintenance_runs``;
4. figures: archive+purge throughput (executions/s; target >= 50,000) and the writer's p99
   latency while the purge runs relative to before it (target <= 2x).

    python bench/maintenance.py                          # 250k and 1M executions
    python bench/maintenance.py --sizes 1000000 2000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from pipeline import AGENTHUB, agenthub_run, dagster_home, machine, show, timed
from sqlalchemy import select
from throwaway_pg import drop, fresh_database

from pipelines.warehouse.lake import open_published
from platform_core.db import make_engine
from platform_core.models import Agent, User
from platform_core.service import PlatformService


class Writer(threading.Thread):
    """Queues executions one transaction at a time, recording (start, latency) of each."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.engine = make_engine(url)
        self.service = PlatformService(self.engine)
        with self.engine.connect() as conn:
            agent = conn.execute(
                select(Agent.id).where(Agent.status.in_(("active", "approved"))).limit(1)
            ).scalar_one()
            user = conn.execute(
                select(User.id).where(User.is_active.is_(True)).limit(1)
            ).scalar_one()
        self.hiring = self.service.hire_agent(agent, user).id  # never expires
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.perf_counter()
            self.service.create_execution(self.hiring, input_data={"bench": True})
            self.samples.append((began, time.perf_counter() - began))
            time.sleep(0.005)  # a steady trickle, not a load test

    def p99(self, start: float, end: float) -> tuple[float, int]:
        """p99 latency (ms) of the writes that began in [start, end), and how many."""
        window = [lat for t, lat in self.samples if start <= t < end]
        if len(window) < 20:
            return float("nan"), len(window)
        return statistics.quantiles(window, n=100)[98] * 1000, len(window)


def measure(size: int, days: int, before_s: float, threshold: float) -> dict[str, float]:
    """Every figure for one size of history."""
    name, url = fresh_database()
    work = Path(tempfile.mkdtemp(prefix="agenthub_bench_maintenance_"))
    home = dagster_home(work)
    warehouse = work / "warehouse.sqlite"
    env = {
        **os.environ,
        "PLATFORM_DATABASE_URL": url,
        "WAREHOUSE_CATALOG": str(warehouse),
        "ARCHIVE_DIR": str(work / "archive"),
        "EXECUTION_RETENTION_DAYS": "1",
        "DAGSTER_HOME": str(home),
    }
    writer: Writer | None = None
    try:
        print(f"\n{size:,} executions over {days} days")
        subprocess.run([AGENTHUB, "db", "init"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        subprocess.run(
            [AGENTHUB, "simulate", "--executions", str(size), "--days", str(days)],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"  simulated in {time.perf_counter() - t0:.0f} s")
        t0 = time.perf_counter()
        timed([AGENTHUB, "pipeline", "run"], env)
        print(f"  first pipeline run in {time.perf_counter() - t0:.0f} s")

        writer = Writer(url)
        writer.start()
        time.sleep(before_s)
        began = time.perf_counter()
        run = agenthub_run(["maintenance", "run"], env, home)
        ended = began + run.wall_s  # the command itself, not the reading of its run records
        writer.stop.set()
        writer.join()
        show("maintenance", run, threshold)

        with open_published(warehouse) as con:
            operations = con.execute(
                "select operation, rows, seconds from marts.maintenance_runs"
                " where not dry_run order by started_at, operation"
            ).fetchall()
        for operation, rows, seconds in operations:
            print(f"      {seconds:6.2f} s  {operation} ({rows:,} rows)")
        archived = next(r for r in operations if r[0] == "archive_executions")
        throughput = archived[1] / archived[2]
        # The purge's window: from when the maintenance step began its archive (the command's
        # start plus what came before the step) for the archive's own seconds.
        step_start = began + run.outside_runs_s
        base, n_base = writer.p99(began - before_s, began)
        during, n_during = writer.p99(step_start, step_start + archived[2])
        whole, n_whole = writer.p99(began, ended)
        print(
            f"  archive+purge: {archived[1]:,} executions in {archived[2]:.1f} s = "
            f"{throughput:,.0f} executions/s (target >= 50,000); whole command "
            f"{run.wall_s:.1f} s = {archived[1] / run.wall_s:,.0f} executions/s"
        )
        print(
            f"  platform writes: p99 {base:.1f} ms before ({n_base} writes), {during:.1f} ms "
            f"during the purge ({n_during}), {whole:.1f} ms over the whole command "
            f"({n_whole}): {during / base:.2f}x during the purge (target <= 2x)"
        )
        return {"throughput": throughput, "p99_ratio": during / base, "wall_s": run.wall_s}
    finally:
        if writer is not None:
            writer.stop.set()
            writer.engine.dispose()
        drop(name)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Measure both sizes, then compare them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[250_000, 1_000_000])
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--before", type=float, default=10.0, help="baseline seconds")
    parser.add_argument("--show", type=float, default=0.5, help="list steps over this many s")
    args = parser.parse_args()
    print(machine())
    small, large = (measure(n, args.days, args.before, args.show) for n in args.sizes)
    print(
        f"\nmaintenance run at {args.sizes[1]:,} / at {args.sizes[0]:,}: "
        f"{large['wall_s'] / small['wall_s']:.2f}x wall; throughput "
        f"{small['throughput']:,.0f} -> {large['throughput']:,.0f} executions/s"
    )


if __name__ == "__main__":
    main()
