"""Trust write-back into PostgreSQL: trust_records per second, against row-by-row inserts.

A fresh throwaway database on the local server (``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres), migrated, with seed 000's sample agents.
``--records`` synthetic trust records (the shape ``marts.trust_events`` hands over) go in
through ``platform_core.trust_writes.load_trust_records`` as the write-back calls it: one
platform transaction, streamed in the write-back's ranges, COPY into a temporary table and one
``INSERT``. Measured in the same run:

* first send: every record new, into the empty table (a first run): the bulk path, which
  rebuilds the secondary indexes instead of maintaining them row by row;
* resend: the same records again, every one already there (the ``resend_all`` repair; as
  large as the table, so the bulk path too);
* hourly: ``--hourly`` new records into the full table (an hourly run's share): the indexed
  path, ``ON CONFLICT DO NOTHING``;
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
from datetime import datetime, timedelta

import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from throwaway_pg import drop, fresh_database

from pipelines.trust.writeback import BATCH
from platform_core import migrate
from platform_core.db import make_engine
from platform_core.models import TrustRecord
from platform_core.sample_data import load_sample_data
from platform_core.trust_writes import load_trust_records

START = datetime(2026, 1, 1)
BASELINE_BATCH = 5_000  # the previous write-back's batch


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


def timed_send(engine, records: pa.Table) -> tuple[float, int, bool]:
    started = time.perf_counter()
    ranges = (records.slice(offset, BATCH) for offset in range(0, records.num_rows, BATCH))
    load = load_trust_records(engine, ranges, expected=records.num_rows)
    return time.perf_counter() - started, load.inserted, load.bulk


def one_run(n: int, hourly_n: int, baseline_n: int) -> dict[str, float]:
    name, url = fresh_database()
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        load_sample_data(engine)
        with engine.connect() as conn:
            agents = list(conn.execute(text("SELECT id FROM agents")).scalars())
        records = synthetic_records(n + hourly_n, agents)
        first_s, inserted, bulk = timed_send(engine, records.slice(0, n))
        assert (inserted, bulk) == (n, True), (inserted, bulk)
        resend_s, again, bulk = timed_send(engine, records.slice(0, n))
        assert (again, bulk) == (0, True), (again, bulk)
        hourly_s, new, bulk = timed_send(engine, records.slice(n, hourly_n))
        assert (new, bulk) == (hourly_n, False), (new, bulk)
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
            "hourly": hourly_n / hourly_s,
            "hourly_s": hourly_s,
            "baseline": baseline_n / baseline_s,
        }
    finally:
        drop(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--hourly", type=int, default=50_000)
    parser.add_argument("--baseline-records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.records:,} records, write-back batch {BATCH:,}, {args.runs} runs"
    )
    runs = []
    for i in range(args.runs):
        result = one_run(args.records, args.hourly, args.baseline_records)
        runs.append(result)
        print(
            f"run {i + 1}: first send {result['first']:,.0f} rows/s, resend (all present) "
            f"{result['resend']:,.0f} rows/s, hourly {args.hourly:,} into the full table "
            f"{result['hourly']:,.0f} rows/s ({result['hourly_s']:.2f} s), executemany "
            f"baseline {result['baseline']:,.0f} rows/s"
        )
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"median first send: {median['first']:,.0f} rows/s (target >= 150,000)")
    print(f"median resend:     {median['resend']:,.0f} rows/s")
    print(f"median hourly:     {median['hourly']:,.0f} rows/s ({median['hourly_s']:.2f} s)")
    print(f"median baseline:   {median['baseline']:,.0f} rows/s (SQLAlchemy executemany)")
    print(f"ratio first send / baseline: {median['first'] / median['baseline']:.1f}x")


if __name__ == "__main__":
    main()
