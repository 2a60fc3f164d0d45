"""Ingest throughput: the pipeline's executions load against PostgreSQL's own COPY and dlt.

On one PostgreSQL table of seed-000 executions (default 5,000,000 rows, written by the
simulator into a database kept between runs), in one run, each measurement in its own
process so that its peak RSS is its own:

* ``copy``: ``COPY (SELECT * FROM executions) TO STDOUT (FORMAT binary)`` read and dropped
  by psycopg (the ceiling);
* ``reader``: the pipeline's own PostgreSQL reader (ADBC), its Arrow batches dropped: what
  the extraction alone costs, before DuckDB stores anything;
* ``ours``: the pipeline's full load of ``raw.executions`` into a fresh DuckDB file;
* ``dlt-connectorx`` and ``dlt-pyarrow``: dlt's ``sql_table`` into DuckDB with its fastest and
  its default backend (dlt is installed for this script only: ``bench/requirements.txt``);
* ``ours`` again on a 1,000,000-row table, for the RSS comparison;
* ``incremental``: after 25,000 updates and 25,000 inserts in the source, the pipeline's
  incremental run on the loaded file.

COPY, the full load and the incremental run are each repeated (``--runs``, default 3) and
the median run is reported: the machines are shared and noisy.

Each measurement also reports the CPU seconds it used: the client process's own (user +
system) and, where the script holds the PostgreSQL connection, its server backend's (read
from ``/proc``: the server runs on this machine). On two cores, client + server CPU divided
by two is a floor under the wall time, which tells whether a target is reachable at all.

    python bench/ingest.py                  # build the tables if missing, then measure
    python bench/ingest.py --skip-dlt-pyarrow   # leave out the slow default dlt backend
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ADMIN = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
END = datetime(2026, 11, 20)


def db_url(name: str) -> str:
    return make_url(ADMIN).set(database=name).render_as_string(hide_password=False)


def ensure_table(name: str, rows: int, rebuild: bool) -> str:
    """A database holding ``rows`` simulated executions (built once, then reused)."""
    from platform_core import migrate
    from platform_core.db import make_engine
    from platform_core.simulate import SimulationConfig, simulate

    with psycopg.connect(ADMIN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if exists:
            with psycopg.connect(db_url(name)) as db:
                count = db.execute("SELECT count(*) FROM executions").fetchone()[0]
            if count == rows:
                return db_url(name)
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(db_url(name))
    migrate.upgrade(engine)
    print(f"  building {name}: simulating {rows:,} executions …", flush=True)
    simulate(
        engine,
        SimulationConfig(
            executions=rows,
            hirings=20_000,
            users=5_000,
            agents=100,
            days=30,
            metric_interval_minutes=60,
            end=END,
        ),
    )
    engine.dispose()
    with psycopg.connect(db_url(name), autocommit=True) as db:
        db.execute("VACUUM ANALYZE executions")
    return db_url(name)


# -- measurements, each run in a child process ------------------------------------------------


def process_cpu_s(pid: int | str = "self") -> float:
    """User + system CPU seconds a process has used so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def adbc_backend_pid(reader: object) -> int:
    """The server process behind the pipeline's PostgreSQL reader."""
    with reader.conn.cursor() as cur:  # type: ignore[attr-defined]
        cur.execute("SELECT pg_backend_pid()")
        return int(cur.fetchone()[0])


def measure_copy(url: str, _work: Path) -> dict:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        rows = conn.execute("SELECT count(*) FROM executions").fetchone()[0]
        backend = conn.info.backend_pid
        server0 = process_cpu_s(backend)
        t0 = time.perf_counter()
        with cur.copy("COPY (SELECT * FROM executions) TO STDOUT (FORMAT binary)") as copy:
            for _chunk in copy:
                pass
        return {
            "rows": rows,
            "seconds": time.perf_counter() - t0,
            "server_cpu_s": process_cpu_s(backend) - server0,
        }


def measure_reader(url: str, _work: Path) -> dict:
    from pipelines.ingest.extract import open_reader
    from pipelines.ingest.tables import SOURCE_TABLES

    reader = open_reader(url)
    backend = adbc_backend_pid(reader)
    server0 = process_cpu_s(backend)
    t0 = time.perf_counter()
    rows = 0
    for stream in reader.batches(SOURCE_TABLES["executions"], None, timedelta(0)):
        for batch in stream:
            rows += batch.num_rows
    seconds = time.perf_counter() - t0
    server = process_cpu_s(backend) - server0
    reader.close()
    return {"rows": rows, "seconds": seconds, "server_cpu_s": server}


def _load_executions(url: str, work: Path) -> tuple[object, float, float]:
    """The pipeline's load of ``raw.executions`` (full or incremental, as the file stands):
    its LoadResult, wall seconds, and the CPU seconds of the reader's server backend."""
    from pipelines.ingest.extract import open_reader
    from pipelines.ingest.load import load_table
    from pipelines.ingest.tables import SOURCE_TABLES
    from pipelines.warehouse.files import connect_working

    t0 = time.perf_counter()
    reader = open_reader(url)
    backend = adbc_backend_pid(reader)
    server0 = process_cpu_s(backend)
    with connect_working(work / "warehouse.duckdb") as con:
        result = load_table(con, reader, SOURCE_TABLES["executions"])
    server = process_cpu_s(backend) - server0
    reader.close()
    return result, time.perf_counter() - t0, server


def measure_ours(url: str, work: Path) -> dict:
    result, seconds, server = _load_executions(url, work)
    return {"rows": result.rows_inserted, "seconds": seconds, "server_cpu_s": server}


def measure_incremental(url: str, work: Path) -> dict:
    # No server CPU here: the source count runs on a second connection the script cannot see.
    result, seconds, _server = _load_executions(url, work)
    return {
        "rows": result.rows_read,
        "inserted": result.rows_inserted,
        "updated": result.rows_updated,
        "seconds": seconds,
    }


def _dlt(url: str, work: Path, backend: str) -> dict:
    import dlt
    from dlt.sources.sql_database import sql_table

    os.environ["DLT_DATA_DIR"] = str(work / "dlt")
    source = sql_table(credentials=url, table="executions", backend=backend, chunk_size=100_000)
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{backend}",
        pipelines_dir=str(work / "dlt_pipelines"),
        destination=dlt.destinations.duckdb(str(work / f"dlt_{backend}.duckdb")),
        dataset_name="raw",
    )
    t0 = time.perf_counter()
    pipeline.run(source)
    seconds = time.perf_counter() - t0
    import duckdb

    con = duckdb.connect(str(work / f"dlt_{backend}.duckdb"), read_only=True)
    rows = con.execute("SELECT count(*) FROM raw.executions").fetchall()[0][0]
    con.close()
    return {"rows": rows, "seconds": seconds}


MEASURES = {
    "copy": measure_copy,
    "reader": measure_reader,
    "ours": measure_ours,
    "incremental": measure_incremental,
    "dlt-connectorx": lambda url, work: _dlt(url, work, "connectorx"),
    "dlt-pyarrow": lambda url, work: _dlt(url, work, "pyarrow"),
}


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that across exec, so a
    child would report its parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(name: str, url: str, work: str) -> None:
    # Import first, so that the client CPU seconds are the measurement's own work.
    if name.startswith("dlt"):
        import dlt  # noqa: F401
        from dlt.sources.sql_database import sql_table  # noqa: F401
    elif name != "copy":
        import pipelines.ingest.extract
        import pipelines.ingest.load
        import pipelines.warehouse.files  # noqa: F401
    client0 = process_cpu_s()
    result = MEASURES[name](url, Path(work))
    result["rss_mb"] = peak_rss_mb()
    result["client_cpu_s"] = process_cpu_s() - client0
    print(json.dumps(result))


def run(name: str, url: str, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, url, str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["rows_per_s"] = result["rows"] / result["seconds"]
    server = result.get("server_cpu_s")
    print(
        f"  {name:<15} {result['rows']:>10,} rows  {result['seconds']:7.2f} s  "
        f"{result['rows_per_s']:>10,.0f} rows/s  peak RSS {result['rss_mb']:,.0f} MB  "
        f"CPU client {result['client_cpu_s']:5.1f} s"
        + (f" server {server:4.1f} s" if server is not None else ""),
        flush=True,
    )
    return result


def median_of(results: list[dict]) -> dict:
    """The run with the median time (rows/s and RSS come from that same run)."""
    ordered = sorted(results, key=lambda r: r["seconds"])
    chosen = ordered[len(ordered) // 2]
    if len(results) > 1:
        print(f"    median of {len(results)}: {chosen['seconds']:.2f} s")
    return chosen


def change_source(url: str, updates: int, inserts: int, tag: str) -> None:
    """``updates`` status changes and ``inserts`` new executions, stamped now."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE executions SET status = 'completed', updated_at = now() AT TIME ZONE 'utc'"
            " WHERE id IN (SELECT id FROM executions ORDER BY id DESC LIMIT %s)",
            (updates,),
        )
        conn.execute(
            "INSERT INTO executions (created_at, updated_at, agent_id, hiring_id, user_id,"
            " status, started_at, completed_at, duration_ms, input_data, output_data,"
            " error_message, cpu_usage, memory_usage, disk_usage, execution_id,"
            " acp_session_id) SELECT created_at, now() AT TIME ZONE 'utc', agent_id, hiring_id,"
            " user_id, status, started_at, completed_at, duration_ms, input_data, output_data,"
            " error_message, cpu_usage, memory_usage, disk_usage,"
            " %s || execution_id, acp_session_id FROM executions ORDER BY id LIMIT %s",
            (tag, inserts),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, metavar=("NAME", "URL", "WORK"))
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--small-rows", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the source tables")
    parser.add_argument("--runs", type=int, default=3, help="runs of copy, full and incremental")
    parser.add_argument("--skip-dlt-pyarrow", action="store_true")
    parser.add_argument("--skip-dlt", action="store_true", help="leave out both dlt runs")
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    print(
        f"machine: {platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"
    )
    big = ensure_table(f"agenthub_bench_{args.rows}", args.rows, args.rebuild)
    small = ensure_table(f"agenthub_bench_{args.small_rows}", args.small_rows, args.rebuild)
    with psycopg.connect(big) as conn:
        size = conn.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('executions'))"
        ).fetchone()[0]
    print(f"source: {args.rows:,} executions, {size} in PostgreSQL")
    work = Path(tempfile.mkdtemp(prefix="agenthub_bench_"))
    try:
        copy = median_of([run("copy", big, work / "copy") for _ in range(args.runs)])
        reader = median_of([run("reader", big, work / "reader") for _ in range(args.runs)])
        fulls = []
        for _ in range(args.runs):
            shutil.rmtree(work / "big", ignore_errors=True)
            fulls.append(run("ours", big, work / "big"))
        ours = median_of(fulls)
        ours_small = run("ours", small, work / "small")
        cx = None if args.skip_dlt else run("dlt-connectorx", big, work / "dlt_cx")
        pa_ = (
            None
            if args.skip_dlt or args.skip_dlt_pyarrow
            else run("dlt-pyarrow", big, work / "dlt_pa")
        )
        incrementals = []
        for i in range(args.runs):
            change_source(big, 25_000, 25_000, tag=f"bench{i}_")
            incrementals.append(run("incremental", big, work / "big"))
        incremental = median_of(incrementals)
        # Put the source back to its built state for the next bench run.
        with psycopg.connect(big, autocommit=True) as conn:
            conn.execute("DELETE FROM executions WHERE execution_id LIKE 'bench%'")
            conn.execute("VACUUM ANALYZE executions")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def line(label: str, value: float, target: str, met: bool) -> None:
        print(f"  {label:<58} {value:8.2f}  target {target:<8} {'met' if met else 'NOT met'}")

    print("\nratios")
    share = ours["rows_per_s"] / copy["rows_per_s"]
    line("full load / binary COPY read to nowhere", share, ">= 0.60", share >= 0.60)
    if cx:
        vs_cx = ours["rows_per_s"] / cx["rows_per_s"]
        line("full load / dlt connectorx backend", vs_cx, ">= 2.5", vs_cx >= 2.5)
    if pa_:
        vs_pa = ours["rows_per_s"] / pa_["rows_per_s"]
        line("full load / dlt default (pyarrow) backend", vs_pa, ">= 10", vs_pa >= 10)
    rss_ok = ours["rss_mb"] < 1024
    line(f"peak RSS on {args.rows:,} rows (MB)", ours["rss_mb"], "< 1024", rss_ok)
    growth = ours["rss_mb"] / ours_small["rss_mb"]
    line(f"peak RSS {args.rows:,} / {args.small_rows:,} rows", growth, "<= 1.20", growth <= 1.2)
    inc = incremental["seconds"] / ours["seconds"]
    line("incremental (50,000 changed) / full load time", inc, "<= 0.05", inc <= 0.05)

    # What the two cores allow: the work cannot finish faster than its CPU seconds spread
    # over every core, and the extraction alone already takes the reader's wall time.
    cores = os.cpu_count() or 1
    needed = ours["rows"] / (0.60 * copy["rows_per_s"])
    cpu = ours["client_cpu_s"] + ours["server_cpu_s"]
    print(f"\nCPU budget on {cores} cores")
    print(
        f"  0.60 of COPY means a full load within {needed:.2f} s; the reader alone (ADBC,"
        f" nothing stored) takes {reader['seconds']:.2f} s = "
        f"{reader['rows_per_s'] / copy['rows_per_s']:.2f} of COPY"
    )
    print(
        f"  the full load used {ours['client_cpu_s']:.1f} s client + "
        f"{ours['server_cpu_s']:.1f} s server CPU = {cpu:.1f} s: at least {cpu / cores:.2f} s"
        f" of wall time on {cores} cores (measured {ours['seconds']:.2f} s)"
    )
    if cx:
        print(
            f"  2.5x dlt connectorx means a full load within "
            f"{ours['rows'] / (2.5 * cx['rows_per_s']):.2f} s"
        )


if __name__ == "__main__":
    main()
