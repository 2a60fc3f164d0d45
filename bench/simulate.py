"""Simulator write rate into PostgreSQL: executions per second, median of several runs.

Each run gets a fresh throwaway database on the local server (``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres), migrated, then ``simulate`` writes
``--executions`` rows. As a baseline in the same run, the same kind of rows go in through
SQLAlchemy Core ``executemany`` (what a hand-written loader would do), and the ratio is printed.

    python bench/simulate.py --executions 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import datetime

from sqlalchemy import insert
from throwaway_pg import drop, fresh_database

from platform_core import migrate
from platform_core.db import make_engine
from platform_core.models import Execution
from platform_core.simulate import SimulationConfig, simulate

END = datetime(2026, 11, 20)


def simulator_rate(executions: int) -> float:
    name, url = fresh_database()
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        config = SimulationConfig(
            executions=executions, hirings=5_000, users=2_000, agents=50, end=END
        )
        report = simulate(engine, config)
        engine.dispose()
        return report.executions_per_second
    finally:
        drop(name)


def executemany_rate(rows: int) -> float:
    """Baseline: the same schema's executions inserted with SQLAlchemy Core executemany."""
    name, url = fresh_database()
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        simulate(engine, SimulationConfig(executions=0, hirings=50, users=50, agents=10, end=END))
        with engine.connect() as conn:
            hiring = conn.exec_driver_sql("SELECT id, agent_id, user_id FROM hirings LIMIT 1").one()
        payload = [
            {
                "agent_id": hiring.agent_id,
                "hiring_id": hiring.id,
                "user_id": hiring.user_id,
                "status": "completed",
                "started_at": END,
                "completed_at": END,
                "duration_ms": 800,
                "input_data": {"message": f"task {i}"},
                "output_data": {"response": "ok"},
                "cpu_usage": 12.5,
                "memory_usage": 256.0,
                "disk_usage": 1.0,
                "execution_id": f"base_{i}",
                "created_at": END,
                "updated_at": END,
            }
            for i in range(rows)
        ]
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(Execution), payload)
        rate = rows / (time.perf_counter() - t0)
        engine.dispose()
        return rate
    finally:
        drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=50_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    )
    rates = []
    for run in range(1, args.runs + 1):
        rate = simulator_rate(args.executions)
        rates.append(rate)
        print(f"run {run}: simulate wrote {args.executions:,} executions at {rate:,.0f} rows/s")
    median = statistics.median(rates)
    base = executemany_rate(args.baseline_rows)
    print(f"baseline: SQLAlchemy Core executemany, {args.baseline_rows:,} rows: {base:,.0f} rows/s")
    print(
        f"simulator median: {median:,.0f} executions/s into PostgreSQL "
        f"({median / base:.1f}x executemany); target >= 100,000: "
        f"{'met' if median >= 100_000 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
