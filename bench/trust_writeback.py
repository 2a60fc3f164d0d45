"""Trust write-back into PostgreSQL: trust_records per second, against row-by-row inserts.

A fresh throwaway database on the local server (``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres), migrated, with seed 000's sample agents.
``--records`` synthetic trust records (the shape ``marts.trust_events`` hands over) go in
through ``platform_core.trust_writes.insert_trust_records`` in the write-back's batch size:
COPY into a temporary table, then one ``INSERT ... ON CONFLICT (record_id) DO NOTHING`` per
batch. Measured in the same run:

* first send: every record new (what a first run or a new model version does);
* resend: the same records again, every one a conflict (a crashed batch sent twice, or the
  ``resend_all`` repair);
* baseline: SQLAlchemy Core ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` on a
  fresh table, the previous write-back's path (about 14,000 rows/s in the issue's run).

Medians of ``--runs`` runs, each on its own database.

    python bench/trust_writeback.py --records 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import time
import uuid
from datetime import datetime, timedelta

import psycopg
import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import make_url

from pipelines.trust.writeback import BATCH
from platform_core import migrate
from platform_core.db import make_engine
from platform_core.models import TrustRecord
from platform_core.sample_data import load_sample_data
from platform_core.trust_writes import insert_trust_records

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
START = datetime(2026, 1, 1)
BASELINE_BATCH = 5_000  # the previous write-back's batch


def fresh_database() -> tuple[str, str]:
    name = f"agenthub_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def drop(name: str) -> None:
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def synthetic_records(n: int, agents: list[int]) -> pa.Table:
    """Records shaped like the warehouse's: md5 ids, execution sources, realistic reasons."""
    ids = [hashlib.md5(f"beta-h7|execution:{i}".encode()).hexdigest() for i in range(n)]
    failed = [i % 7 == 0 for i in range(n)]
    return pa.table(
        {
            "record_id": ids,
            "agent_id": [agents[i % len(agents)] for i in range(n)],
            "event_type": ["execution_failed" if f else "execution_completed" for f in failed],
            "execution_id": [f"exec_{i:016x}" for i in range(n)],
            "review_id": pa.array([None] * n, pa.int64()),
            "trust_delta": [(-0.01 if f else 0.004) for f in failed],
            "trust_score_before": [0.6] * n,
            "trust_score_after": [(0.59 if f else 0.604) for f in failed],
            "reason": [
                "execution failed: upstream timeout after 30s" if f else "execution completed"
                for f in failed
            ],
            "model_version": ["beta-h7-t1.5-r0.5"] * n,
            "created_at": pa.array(
                [START + timedelta(seconds=i) for i in range(n)], pa.timestamp("us")
            ),
        }
    )


def timed_send(engine, records: pa.Table) -> tuple[float, int]:
    started = time.perf_counter()
    inserted = 0
    for offset in range(0, records.num_rows, BATCH):
        inserted += insert_trust_records(engine, records.slice(offset, BATCH))
    return time.perf_counter() - started, inserted


def one_run(n: int, baseline_n: int) -> dict[str, float]:
    name, url = fresh_database()
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        load_sample_data(engine)
        with engine.connect() as conn:
            agents = list(conn.execute(text("SELECT id FROM agents")).scalars())
        records = synthetic_records(n, agents)
        first_s, inserted = timed_send(engine, records)
        assert inserted == n, (inserted, n)
        resend_s, again = timed_send(engine, records)
        assert again == 0, again
        # Baseline on an empty table, so it pays the same index growth as the first send.
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE trust_records"))
        rows = records.slice(0, baseline_n).to_pylist()
        statement = pg_insert(TrustRecord).on_conflict_do_nothing(index_elements=["record_id"])
        started = time.perf_counter()
        for offset in range(0, len(rows), BASELINE_BATCH):
            with engine.begin() as conn:
                conn.execute(statement, rows[offset : offset + BASELINE_BATCH])
        baseline_s = time.perf_counter() - started
        engine.dispose()
        return {
            "first": n / first_s,
            "resend": n / resend_s,
            "baseline": baseline_n / baseline_s,
        }
    finally:
        drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline-records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.records:,} records, write-back batch {BATCH:,}, {args.runs} runs"
    )
    runs = []
    for i in range(args.runs):
        result = one_run(args.records, args.baseline_records)
        runs.append(result)
        print(
            f"run {i + 1}: first send {result['first']:,.0f} rows/s, resend (all conflicts) "
            f"{result['resend']:,.0f} rows/s, executemany baseline {result['baseline']:,.0f} rows/s"
        )
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median first send: {median['first']:,.0f} rows/s (target >= 150,000)")
    print(f"median resend:     {median['resend']:,.0f} rows/s")
    print(f"median baseline:   {median['baseline']:,.0f} rows/s (SQLAlchemy executemany)")
    print(f"ratio first send / baseline: {median['first'] / median['baseline']:.1f}x")


if __name__ == "__main__":
    main()
