"""Rebuilding every mart over 10M executions and 50M metric points, against PostgreSQL.

1. Synthesises the raw layer in DuckDB (``--executions``, ``--points``; cached under
   ``data/bench/`` so later runs skip it): 100k users, 500 agents with skewed popularity,
   200k hirings, 50k reviews, and the executions and metric points.
2. Times the pipeline's own model code rebuilding every mart from that raw layer, from
   scratch: every model of sql/ in the graph's order (quarantine, views, executions_all,
   trust over every event, usage daily and the rollups over every day in one backfill query,
   the all-time marts). Target: at most 60 s on this 2-core machine.
3. Loads the same raw rows into PostgreSQL (COPY, no indexes) and times the same usage and
   rollup statistics written as plain PostgreSQL SQL (``bench/pg_statistics.sql``), against
   DuckDB's time for those same marts. Target: DuckDB at least 20x faster.
4. Runs that same PostgreSQL SQL text, unchanged, in DuckDB over the raw rows: the engines
   compared on identical queries, with none of the marts' extra work (quarantine filter,
   writing the mart tables). It bounds the ratio any SQL the marts could run would reach.

    python bench/marts.py                       # full size
    python bench/marts.py --executions 1000000 --points 5000000   # quicker look
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import psycopg
from sqlalchemy.engine import make_url

from pipelines.ingest.load import ensure_raw_table
from pipelines.ingest.tables import SOURCE_TABLES
from pipelines.sql_files import execute_script
from pipelines.sql_models import build_in_order
from pipelines.trust.model import TrustParameters, update_trust
from pipelines.warehouse.files import connect_working
from pipelines.warehouse.lake import SCHEMAS, Lake
from pipelines.warehouse.migrate import migrate
from pipelines.warehouse.resource import Warehouse

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CACHE = Path("data/bench")
START = datetime(2026, 10, 1)
DAYS = 30
AGENTS, USERS, HIRINGS, REVIEWS = 500, 100_000, 200_000, 50_000
RUN_AT = datetime(2026, 11, 1)

SYNTH = {
    "users": """
        insert into raw.users (id, created_at, updated_at, username, email, is_active,
                               is_verified, _ingested_at)
        select i, $start, $start, 'user_' || i, 'user_' || i || '@example.com', true, true,
               $start
        from range(1, $users + 1) t(i)""",
    "agents": """
        insert into raw.agents (id, created_at, updated_at, name, description, version, author,
                                email, entry_point, pricing_model, price_per_use, status,
                                is_public, total_hires, total_executions, average_rating,
                                trust_score, last_heartbeat_at, _ingested_at)
        select i, $start, $start, 'Agent ' || i, 'bench agent', '1.0.0', 'bench',
               'bench@example.com', 'main.py:run',
               case when i % 3 = 0 then 'per_use' else 'free' end,
               case when i % 3 = 0 then 0.05 else null end, 'active', true, 0, 0, 0.0, 0.5,
               $start + interval 30 day, $start
        from range(1, $agents + 1) t(i)""",
    "hirings": """
        insert into raw.hirings (id, created_at, updated_at, agent_id, user_id, status, hired_at,
                                 total_executions, _ingested_at)
        select i, $start, $start, 1 + (hash(i) % $agents), 1 + (hash(i * 7) % $users),
               'active', $start + to_seconds((hash(i * 3) % (86400 * $days))::bigint), 0,
               $start
        from range(1, $hirings + 1) t(i)""",
    "agent_reviews": """
        insert into raw.agent_reviews (id, created_at, updated_at, agent_id, reviewer_id, rating,
                                       is_public, _ingested_at)
        select i, $start + to_seconds((hash(i) % (86400 * $days))::bigint), $start,
               1 + (i % $agents), 1 + (i // $agents), 1 + hash(i * 5) % 5, true, $start
        from range(1, $reviews + 1) t(i)""",
    "executions": """
        insert into raw.executions (id, created_at, updated_at, agent_id, hiring_id, user_id,
                                    status, started_at, completed_at, duration_ms, input_data,
                                    output_data, error_message, cpu_usage, memory_usage,
                                    disk_usage, execution_id, acp_session_id, _ingested_at)
        with base as (
            select i,
                   $start + to_microseconds((hash(i) % (86400000000 * $days))::bigint) as created,
                   1 + (floor(pow((hash(i * 11) % 1000000) / 1000000.0, 2) * $agents))::bigint
                       as agent,
                   (hash(i * 13) % 1000) as roll,
                   200 + (hash(i * 17) % 5000) as duration
            from range(1, $executions + 1) t(i)
        )
        select i, created, created + to_milliseconds(duration + 50), agent,
               1 + hash(i * 19) % $hirings, 1 + hash(i * 23) % $users,
               case when roll < 900 then 'completed' when roll < 960 then 'failed'
                    when roll < 985 then 'timeout' else 'cancelled' end,
               created + interval 50 millisecond,
               created + to_milliseconds(duration + 50), duration,
               '{"message": "task ' || i || '"}',
               case when roll < 900 then '{"response": "ok ' || i || '"}' end,
               case when roll >= 900 and roll < 985 then 'upstream error' end,
               (hash(i * 29) % 10000) / 100.0, 64 + (hash(i * 31) % 1024), 1.0,
               'bench_' || i, null, $start
        from base""",
    "agent_metrics": """
        insert into raw.agent_metrics (id, agent_id, metric_name, metric_value, recorded_at,
                                       tags, _ingested_at)
        select i, 1 + (i % $agents),
               ['cpu_usage', 'memory_mb', 'queue_depth', 'heartbeat'][1 + (i // $agents) % 4],
               (hash(i) % 100000) / 1000.0,
               $start + to_microseconds(
                   ((i // ($agents * 4)) * (86400000000 * $days // ($points // ($agents * 4)))
                   )::bigint),
               null, $start
        from range(1, $points + 1) t(i)""",
}


def synthesise(path: Path, executions: int, points: int) -> None:
    """The raw layer, generated in DuckDB (deterministic: hash-based)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"  synthesising raw layer: {executions:,} executions, {points:,} points …", flush=True)
    tmp = path.with_suffix(".tmp.duckdb")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    params = {
        "start": START,
        "days": DAYS,
        "agents": AGENTS,
        "users": USERS,
        "hirings": HIRINGS,
        "reviews": REVIEWS,
        "executions": executions,
        "points": points,
    }
    for table, sql in SYNTH.items():
        ensure_raw_table(con, SOURCE_TABLES[table])
        t0 = time.perf_counter()
        execute_script(con, sql, params)
        print(f"    raw.{table}: {time.perf_counter() - t0:.1f} s", flush=True)
    ensure_raw_table(con, SOURCE_TABLES["trust_records"])
    con.close()
    tmp.rename(path)


def rebuild_marts(source: Path) -> tuple[float, dict[str, float]]:
    """Every mart from scratch with the pipeline's model code; (total, per step) seconds."""
    catalog = source.parent / "run" / "warehouse.sqlite"
    shutil.rmtree(catalog.parent, ignore_errors=True)  # a killed earlier run's lake
    catalog.parent.mkdir(parents=True)
    migrate(source, Lake.of(catalog), say=lambda _line: None)  # the raw layer, in the lake
    first = START.date()
    end = date.fromordinal(first.toordinal() + DAYS + 1)
    steps: dict[str, float] = {}
    # The settings the pipeline's marts assets use (Warehouse.marts_memory_limit).
    settings = Warehouse()
    with connect_working(
        catalog, memory_limit=settings.marts_memory_limit, threads=settings.threads
    ) as con:

        def step(name: str, fn) -> None:
            t0 = time.perf_counter()
            fn()
            steps[name] = time.perf_counter() - t0
            print(f"    {name:<24} {steps[name]:6.2f} s", flush=True)

        # Every model of sql/ in the graph's order, as the pipeline's jobs build them; the
        # day-partitioned marts over every day at once (one backfill query each).
        trust = lambda: update_trust(con, TrustParameters(), RUN_AT)  # noqa: E731
        build_in_order(
            con,
            {"run_at": RUN_AT, "start_day": first, "end_day": end},
            {("marts", "trust_events"): trust, ("marts", "agent_trust"): trust},
            step=step,
        )
    shutil.rmtree(catalog.parent, ignore_errors=True)
    return sum(steps.values()), steps


PG_TABLES = {
    "agents": "id bigint, pricing_model varchar, price_per_use double precision",
    "hirings": "id bigint, agent_id bigint, user_id bigint, hired_at timestamp",
    "executions": "id bigint, agent_id bigint, user_id bigint, status varchar, "
    "duration_ms bigint, cpu_usage double precision, "
    "memory_usage double precision, created_at timestamp",
    "agent_metrics": "id bigint, agent_id bigint, metric_name varchar, "
    "metric_value double precision, recorded_at timestamp",
}


def load_postgres(source: Path, name: str, executions: int, points: int) -> str:
    """The same raw rows in PostgreSQL (kept between runs), loaded with COPY."""
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
    if exists:
        with psycopg.connect(url) as conn:
            have = conn.execute(
                "select (select count(*) from executions), (select count(*) from agent_metrics)"
            ).fetchone()
        if have == (executions, points):
            return url
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'drop database "{name}" with (force)')
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    print("  loading the same rows into PostgreSQL …", flush=True)
    con = duckdb.connect(str(source), read_only=True)
    with psycopg.connect(url, autocommit=True) as pg:
        for table, columns in PG_TABLES.items():
            pg.execute(f"create table {table} ({columns})")
            names = ", ".join(c.split()[0] for c in columns.split(", "))
            csv = Path(f"/tmp/agenthub_bench_{table}.csv")
            con.execute(f"copy (select {names} from raw.{table}) to '{csv}' (header false)")
            os.chmod(csv, 0o644)
            t0 = time.perf_counter()
            pg.execute(f"copy {table} ({names}) from '{csv}' (format csv)")
            csv.unlink()
            print(f"    {table}: {time.perf_counter() - t0:.1f} s", flush=True)
        pg.execute("vacuum analyze")
    con.close()
    return url


def pg_statistics_statements() -> list[str]:
    """The statements of ``bench/pg_statistics.sql``, with psycopg's named placeholders."""
    sql = Path(__file__).with_name("pg_statistics.sql").read_text()
    return [s for s in sql.split(";\n") if s.strip()]


def postgres_statistics(url: str) -> float:
    """The usage and rollup statistics as plain PostgreSQL SQL; seconds."""
    with psycopg.connect(url, autocommit=True) as pg:
        t0 = time.perf_counter()
        for statement in pg_statistics_statements():
            s0 = time.perf_counter()
            pg.execute(statement, {"start": START, "end": datetime(2026, 11, 1)})
            head = next(
                line
                for line in statement.strip().splitlines()
                if line.startswith("create temp table")
            )
            name = head.split()[3]
            print(f"    {name:<32} {time.perf_counter() - s0:6.2f} s", flush=True)
        return time.perf_counter() - t0


def duckdb_same_sql(source: Path) -> float:
    """``bench/pg_statistics.sql`` run unchanged by DuckDB over the raw rows; seconds."""
    settings = Warehouse()
    con = duckdb.connect()
    try:
        con.execute(f"SET memory_limit = '{settings.marts_memory_limit}'")
        con.execute(f"SET threads = {int(settings.threads)}")
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"ATTACH '{source}' AS src (READ_ONLY)")  # ATTACH binds no parameters
        for table in PG_TABLES:
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM src.raw.{table}")
        bounds = {"start": START, "end": datetime(2026, 11, 1)}
        t0 = time.perf_counter()
        for statement in pg_statistics_statements():
            # The psycopg placeholders, as DuckDB's named parameters.
            statement = statement.replace("%(start)s", "$start").replace("%(end)s", "$end")
            con.execute(statement, {k: v for k, v in bounds.items() if f"${k}" in statement})
        return time.perf_counter() - t0
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=10_000_000)
    parser.add_argument("--points", type=int, default=50_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python "
        f"{platform.python_version()} · DuckDB {duckdb.__version__}"
    )
    source = CACHE / f"raw_{args.executions}_{args.points}.duckdb"
    synthesise(source, args.executions, args.points)
    print("DuckDB: rebuild every mart")
    total, steps = rebuild_marts(source)
    compared = sum(
        steps[k]
        for k in (
            "marts.agent_usage_daily",
            "marts.agent_usage_summary",
            "marts.user_activity",
            "marts.metrics_rollup_hourly",
            "marts.metrics_rollup_daily",
        )
    )
    print(f"  every mart: {total:.1f} s (target <= 60 s: {'met' if total <= 60 else 'NOT met'})")
    if args.skip_postgres:
        return
    url = load_postgres(
        source,
        f"agenthub_bench_marts_{args.executions}_{args.points}",
        args.executions,
        args.points,
    )
    print("PostgreSQL: the same usage and rollup statistics")
    pg = postgres_statistics(url)
    ratio = pg / compared
    print(
        f"  PostgreSQL {pg:.1f} s vs DuckDB {compared:.1f} s for the same marts: "
        f"{ratio:.1f}x (target >= 20x: {'met' if ratio >= 20 else 'NOT met'})"
    )
    same = duckdb_same_sql(source)
    print(
        f"  the same PostgreSQL SQL text run by DuckDB over the raw rows: {same:.1f} s, "
        f"{pg / same:.1f}x (the engines alone, none of the marts' extra work)"
    )


if __name__ == "__main__":
    main()
