"""`agenthub pipeline run` as users run it, on PostgreSQL, at two sizes of history.

For each ``--sizes`` N, on a fresh throwaway database (``BENCH_POSTGRES_URL``):

1. ``agenthub db init`` and ``agenthub simulate --executions N --days 30``;
2. the baseline: ``COPY (SELECT * FROM executions) TO STDOUT (FORMAT binary)`` read to nowhere
   (the platform's own fastest way to hand over its largest table);
3. the **first run**: ``agenthub pipeline run``, wall time from process start and peak RSS
   (``/usr/bin/time``), and its throughput against the COPY baseline (executions per second);
4. ``agenthub simulate --executions --hourly --days 1`` (new activity over the last day, with
   its metric points and reviews), then the **hourly run**, twice (the first after the first
   run also reads back the trust records that run wrote, once), then the same activity spread
   over 14 days (late for nearly every agent: the stress case);
5. a run with **nothing new**: the fixed cost (imports, Dagster, publish);
6. ``agenthub checks run``: the daily checks, which read whole histories.

With ``--analyze`` the platform is ``VACUUM ANALYZE``d after the simulation, while
``trust_records`` is still empty (what any ``vacuumdb --analyze`` after a restore leaves): the
statistics then say the table the first run's write-back fills is empty. During the first
run a platform session reads one agent's trust records every 20 ms; its latency says whether
the write-back ever makes platform readers wait.

Every run is recorded in a ``DAGSTER_HOME`` of its own, and the step durations are read back
from the run records to say where the time goes (the steps over ``--show`` seconds). The
last line compares the hourly runs of the two sizes: the cost should follow the change, not
the history.

    python bench/pipeline.py                               # 500k and 2M executions
    python bench/pipeline.py --sizes 2000000 10000000 --analyze
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psycopg
from throwaway_pg import drop, fresh_database
from trust_writeback import Reader, percentile

BIN = Path(sys.executable).parent
AGENTHUB = str(BIN / "agenthub")


@dataclass
class Run:
    """One timed command."""

    wall_s: float
    peak_rss_mb: float
    steps: dict[str, float] = field(default_factory=dict)
    #: Inside the Dagster runs but in no step (run setup, event log, resources).
    dagster_s: float = 0.0
    #: Outside every run: interpreter start, imports, loading the code location.
    outside_runs_s: float = 0.0
    #: (epoch seconds, RSS MB) of the command's process, sampled every RSS_EVERY_S.
    rss: list[tuple[float, float]] = field(default_factory=list)
    #: Per step key: how far RSS rose while that step ran (its peak over the RSS before it).
    step_rss_growth_mb: dict[str, float] = field(default_factory=dict)


#: How often the RSS of the command is sampled (the peak is /usr/bin/time's, exact).
RSS_EVERY_S = 0.1
#: How many steps the RSS listing names.
RSS_STEPS_SHOWN = 6


def _rss_mb(pid: int) -> float | None:
    """Resident set size of ``pid`` from /proc, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _child_of(pid: int) -> int | None:
    """The first child of ``pid`` (the command /usr/bin/time started), if any yet."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            first = children.read().split()
    except FileNotFoundError:
        return None
    return int(first[0]) if first else None


def timed(args: list[str], env: dict[str, str]) -> Run:
    """Run ``args`` under /usr/bin/time -v: wall seconds from process start, peak RSS, and
    the RSS sampled over time (to say which step holds the memory)."""
    samples: list[tuple[float, float]] = []
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        subprocess.Popen(["/usr/bin/time", "-v", *args], env=env, stdout=out, stderr=err) as proc,
    ):
        child = None
        while proc.poll() is None:
            child = child or _child_of(proc.pid)
            rss = _rss_mb(child) if child else None
            if rss is not None:
                samples.append((time.time(), rss))
            time.sleep(RSS_EVERY_S)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr).group(1))
    return Run(wall, rss_kb / 1024, rss=samples)


def step_durations(
    home: Path, since: float, rss: list[tuple[float, float]] | None = None
) -> tuple[dict[str, float], float, dict[str, float]]:
    """Durations of every step of the runs started after ``since`` (epoch seconds), summed
    per step key across the runs, the runs' total duration, and per step key how far the
    ``rss`` samples rose while it ran (RSS is rarely given back, so a step's growth is the
    memory it took; the peak alone would name every step after the hungry one)."""
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        steps: dict[str, float] = {}
        growth: dict[str, float] = {}
        total = 0.0
        for record in instance.get_run_records():
            if (record.start_time or 0) < since:
                continue
            total += (record.end_time or 0) - (record.start_time or 0)
            for stat in instance.get_run_step_stats(record.dagster_run.run_id):
                if stat.start_time and stat.end_time:
                    key = f"{record.dagster_run.job_name}:{stat.step_key}"
                    steps[key] = steps.get(key, 0.0) + stat.end_time - stat.start_time
                    before = [mb for t, mb in rss or () if t < stat.start_time][-1:]
                    during = [mb for t, mb in rss or () if stat.start_time <= t <= stat.end_time]
                    if during:
                        grew = max(during) - (before or during)[0]
                        growth[key] = max(growth.get(key, 0.0), grew)
    return steps, total, growth


def copy_baseline(url: str) -> tuple[float, int]:
    """Seconds to read ``executions`` with binary COPY to nowhere, and its row count."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("select count(*) from executions").fetchone()[0]
        start = time.perf_counter()
        with conn.cursor().copy("COPY (SELECT * FROM executions) TO STDOUT (FORMAT binary)") as cp:
            for _ in cp:
                pass
        return time.perf_counter() - start, rows


def agenthub_run(command: list[str], env: dict[str, str], home: Path) -> Run:
    """``agenthub <command>``, timed, with the step durations of the runs it recorded."""
    since = time.time()
    run = timed([AGENTHUB, *command], env)
    run.steps, in_runs, run.step_rss_growth_mb = step_durations(home, since, run.rss)
    run.dagster_s = in_runs - sum(run.steps.values())
    run.outside_runs_s = run.wall_s - in_runs
    return run


def pipeline_run(env: dict[str, str], home: Path) -> Run:
    """`agenthub pipeline run`, timed, with its step durations."""
    return agenthub_run(["pipeline", "run"], env, home)


def dagster_home(work: Path) -> Path:
    """A ``DAGSTER_HOME`` of the bench's own under ``work``, with the project's instance
    settings (one run at a time), so its run records are the bench's alone."""
    home = work / "dagster_home"
    home.mkdir()
    shutil.copyfile(
        Path(__file__).resolve().parents[1] / "dagster_home" / "dagster.yaml", home / "dagster.yaml"
    )
    return home


def machine() -> str:
    """The line each bench starts with: host, cores, Python, date."""
    return (
        f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"{time.strftime('%Y-%m-%d')}"
    )


def show(label: str, run: Run, threshold: float) -> None:
    """Print a run and its slowest steps."""
    print(f"  {label:<12} {run.wall_s:7.1f} s wall, peak RSS {run.peak_rss_mb:,.0f} MB")
    slow = sorted(((s, k) for k, s in run.steps.items() if s >= threshold), reverse=True)
    for seconds, key in slow:
        print(f"      {seconds:6.2f} s  {key}")
    print(f"      {run.dagster_s:6.2f} s  in the runs, outside any step (Dagster)")
    print(f"      {run.outside_runs_s:6.2f} s  outside the runs (start, imports, code location)")
    # Where the memory goes: the steps that raised the RSS most while they ran.
    by_growth = sorted(run.step_rss_growth_mb.items(), key=lambda kv: -kv[1])[:RSS_STEPS_SHOWN]
    if by_growth:
        print("    steps that raised the RSS most:")
        for key, mb in by_growth:
            print(f"      {mb:+6,.0f} MB  {key}")


def measure(
    size: int, hourly: int, days: int, threshold: float, *, analyze: bool
) -> dict[str, Run | float]:
    """Every figure for one size of history."""
    name, url = fresh_database()
    work = Path(tempfile.mkdtemp(prefix="agenthub_bench_pipeline_"))
    home = dagster_home(work)
    env = {
        **os.environ,
        "PLATFORM_DATABASE_URL": url,
        "WAREHOUSE_CATALOG": str(work / "warehouse.sqlite"),
        "DAGSTER_HOME": str(home),
    }
    try:
        print(f"\n{size:,} executions ({days} days), then {hourly:,} more")
        subprocess.run([AGENTHUB, "db", "init"], env=env, check=True, capture_output=True)
        t0 = time.perf_counter()
        subprocess.run(
            [AGENTHUB, "simulate", "--executions", str(size), "--days", str(days)],
            env=env,
            check=True,
            capture_output=True,
        )
        print(f"  simulated in {time.perf_counter() - t0:.0f} s")
        if analyze:
            t0 = time.perf_counter()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE")
                empty = conn.execute("SELECT count(*) FROM trust_records").fetchone()[0] == 0
            took = time.perf_counter() - t0
            print(f"  VACUUM ANALYZE in {took:.0f} s (trust_records empty: {empty})")
        with psycopg.connect(url) as conn:
            agent = conn.execute("SELECT min(id) FROM agents").fetchone()[0]
        copy_s, rows = copy_baseline(url)
        print(
            f"  COPY binary baseline: {rows:,} executions in {copy_s:.2f} s "
            f"({rows / copy_s:,.0f} rows/s)"
        )
        with Reader(url, agent) as reader:
            first = pipeline_run(env, home)
        show("first run", first, threshold)
        print(
            f"  a platform reader of trust_records during the first run: p50"
            f" {percentile(reader.latencies_ms, 0.5):.1f} ms, p99"
            f" {percentile(reader.latencies_ms, 0.99):.1f} ms, max {max(reader.latencies_ms):.1f}"
            f" ms over {len(reader.latencies_ms):,} queries"
        )
        runs: dict[str, Run] = {}
        # New activity over the last day (what an hour brings), twice: the first run after the
        # first also reads back the trust records the first wrote (once); the second is the
        # steady state. Then the stress case: the same activity spread over 14 days, late for
        # nearly every agent.
        for label, days_spread, seed in (
            ("hourly", 1, 43),
            ("hourly again", 1, 44),
            ("hourly, 14d", 14, 45),
        ):
            added = ["--executions", str(hourly), "--days", str(days_spread), "--seed", str(seed)]
            subprocess.run(
                [AGENTHUB, "simulate", *added],
                env=env,
                check=True,
                capture_output=True,
            )
            runs[label] = pipeline_run(env, home)
            show(label, runs[label], threshold)
        hour = runs["hourly"]
        idle = pipeline_run(env, home)
        show("nothing new", idle, threshold)
        files = list((work / "warehouse").rglob("*.parquet"))
        print(
            f"  the lake after these runs: {len(files):,} data files,"
            f" {sum(f.stat().st_size for f in files) / 1e9:.2f} GB"
        )
        # The checks that read whole histories, as the daily schedule runs them: they must
        # hold at this size with the default memory limits too.
        checks = agenthub_run(["checks", "run"], env, home)
        show("daily checks", checks, threshold)
        ratio = (rows / first.wall_s) / (rows / copy_s)
        print(
            f"  first run: {ratio:.1%} of the COPY baseline's throughput (target >= 25%); "
            f"peak RSS {first.peak_rss_mb:,.0f} MB (target < 1,536)"
        )
        print(f"  hourly run: {hour.wall_s / first.wall_s:.1%} of the first run (target <= 15%)")
        return {**runs, "first": first, "idle": idle, "checks": checks, "copy_s": copy_s}
    finally:
        drop(name)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    """Measure every size, then compare the hourly runs across sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[500_000, 2_000_000])
    parser.add_argument("--hourly", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--show", type=float, default=1.0, help="list steps over this many s")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="VACUUM ANALYZE the platform after simulating (trust_records still empty)",
    )
    args = parser.parse_args()
    print(machine() + (" · platform analyzed before the first run" if args.analyze else ""))
    small, large = (
        measure(n, args.hourly, args.days, args.show, analyze=args.analyze) for n in args.sizes
    )
    print(f"\nat {args.sizes[1]:,} / at {args.sizes[0]:,} executions of history:")
    for label, target in (
        ("hourly", "target <= 1.5x"),
        ("hourly again", "target <= 1.5x"),
        ("hourly, 14d", "the stress case"),
        ("idle", "target <= 1.2x"),
        ("first", "the whole history"),
    ):
        print(
            f"  {label:<13} {large[label].wall_s:7.1f} s / {small[label].wall_s:6.1f} s ="
            f" {large[label].wall_s / small[label].wall_s:.2f}x ({target})"
        )


if __name__ == "__main__":
    main()
