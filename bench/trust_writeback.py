"""Trust write-back into PostgreSQL: trust_records per second whatever the statistics say, and
what a platform reader sees meanwhile.

A fresh throwaway database on the local server (``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres) per scenario and run, migrated, with seed 000's
sample agents and autovacuum off for trust_records (so the statistics are the scenario's, not
the daemon's). ``--records`` synthetic trust records (the shape ``marts.trust_events`` hands
over) go in through ``platform_core.trust_writes.load_trust_records`` as the write-back calls
it: one platform transaction, streamed in the write-back's ranges. Two scenarios:

* **never analyzed**: first send into the empty table; ``ANALYZE``; resend and hourly with
  fresh statistics;
* **analyzed while empty** (any ``vacuumdb --analyze`` after a restore): first send with
  statistics that say the table is empty; resend and hourly with those stale statistics.

Each measures the first send (every record new), the resend (every record already there: the
``resend_all`` repair), and an hourly run's ``--hourly`` new records into the full table.
During the first send a platform reader queries the audit trail of one agent every 20 ms (its
20 newest records, through ``idx_trust_records_agent_date``); its latency is compared with the
same query on the idle database. The baseline: SQLAlchemy Core ``executemany`` of ``INSERT ...
ON CONFLICT DO NOTHING`` on the emptied table (the first write-back's path).

Medians of ``--runs`` runs.

    python bench/trust_writeback.py --records 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg
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
BASELINE_BATCH = 5_000  # the first write-back's batch
SCENARIOS = ("never analyzed", "analyzed while empty")
#: What a platform page showing an agent's audit trail asks.
READER_QUERY = (
    "SELECT record_id, trust_score_after FROM trust_records WHERE agent_id = %s"
    " ORDER BY created_at DESC LIMIT 20"
)
READER_EVERY_S = 0.02


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


@dataclass
class Reader:
    """A platform session querying one agent's audit trail in a loop, timing each query."""

    url: str
    agent: int
    latencies_ms: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _loop(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                started = time.perf_counter()
                conn.execute(READER_QUERY, [self.agent]).fetchall()
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
                time.sleep(READER_EVERY_S)

    def __enter__(self) -> Reader:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed_send(engine, records: pa.Table) -> tuple[float, int]:
    started = time.perf_counter()
    ranges = (records.slice(offset, BATCH) for offset in range(0, records.num_rows, BATCH))
    load = load_trust_records(engine, ranges)
    return time.perf_counter() - started, load.inserted


def analyze(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE trust_records")


def one_run(scenario: str, n: int, hourly_n: int, baseline_n: int) -> dict[str, float]:
    name, url = fresh_database()
    try:
        engine = make_engine(url)
        migrate.upgrade(engine)
        load_sample_data(engine)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE trust_records SET (autovacuum_enabled = false)"))
            agents = list(conn.execute(text("SELECT id FROM agents")).scalars())
        if scenario == "analyzed while empty":
            analyze(url)
        records = synthetic_records(n + hourly_n, agents)
        # The reader on the idle database first, then during the first send.
        with Reader(url, agents[0]) as idle:
            time.sleep(1.0)
        with Reader(url, agents[0]) as during:
            first_s, inserted = timed_send(engine, records.slice(0, n))
        assert inserted == n, inserted
        if scenario == "never analyzed":
            analyze(url)  # fresh statistics for what follows; the other scenario keeps stale
        resend_s, again = timed_send(engine, records.slice(0, n))
        assert again == 0, again
        hourly_s, new = timed_send(engine, records.slice(n, hourly_n))
        assert new == hourly_n, new
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
            "first_s": first_s,
            "resend": n / resend_s,
            "hourly": hourly_n / hourly_s,
            "hourly_s": hourly_s,
            "baseline": baseline_n / baseline_s,
            "reader_idle_p50": percentile(idle.latencies_ms, 0.5),
            "reader_idle_p99": percentile(idle.latencies_ms, 0.99),
            "reader_p50": percentile(during.latencies_ms, 0.5),
            "reader_p99": percentile(during.latencies_ms, 0.99),
            "reader_max": max(during.latencies_ms),
            "reader_queries": len(during.latencies_ms),
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
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d')}; {args.records:,} records, write-back batch {BATCH:,}, "
        f"{args.runs} runs per scenario"
    )
    medians: dict[str, dict[str, float]] = {}
    for scenario in SCENARIOS:
        runs = []
        for i in range(args.runs):
            r = one_run(scenario, args.records, args.hourly, args.baseline_records)
            runs.append(r)
            print(
                f"{scenario}, run {i + 1}: first send {r['first']:,.0f} rows/s"
                f" ({r['first_s']:.1f} s), resend {r['resend']:,.0f} rows/s, hourly"
                f" {r['hourly']:,.0f} rows/s ({r['hourly_s']:.2f} s); reader p50/p99/max"
                f" {r['reader_p50']:.1f}/{r['reader_p99']:.1f}/{r['reader_max']:.1f} ms over"
                f" {r['reader_queries']} queries (idle p50/p99 {r['reader_idle_p50']:.1f}/"
                f"{r['reader_idle_p99']:.1f} ms); executemany {r['baseline']:,.0f} rows/s",
                flush=True,
            )
        medians[scenario] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print("\nmedians                      first send     resend     hourly   reader p99 (idle)")
    for scenario, m in medians.items():
        print(
            f"  {scenario:<24} {m['first']:>10,.0f}/s {m['resend']:>8,.0f}/s"
            f" {m['hourly']:>8,.0f}/s   {m['reader_p99']:6.1f} ms ({m['reader_idle_p99']:.1f})"
        )
    fresh, empty = (medians[s] for s in SCENARIOS)
    baseline = statistics.median(m["baseline"] for m in medians.values())
    print(f"executemany baseline: {baseline:,.0f} rows/s")
    print(
        f"first send, analyzed while empty / never analyzed: {empty['first'] / fresh['first']:.2f}"
        f"; resend, stale / fresh statistics: {empty['resend'] / fresh['resend']:.2f}"
        f"; first send / executemany: {fresh['first'] / baseline:.1f}x"
    )
    print(
        "reader p99 during the first send / idle: "
        + ", ".join(
            f"{s} {m['reader_p99'] / m['reader_idle_p99']:.1f}x" for s, m in medians.items()
        )
    )


if __name__ == "__main__":
    main()
