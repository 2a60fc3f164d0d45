"""The dashboards at scale: how long each page takes to render, and the whole command.

For each ``--sizes`` executions:points pair, the marts bench's synthesised raw layer
(``bench/marts.py``, cached under ``data/bench/``) is built into every mart with the
pipeline's own model code and published (cached too); then

1. every page is rendered with Streamlit's AppTest ``--repeat`` times, each time with the
   query caches cleared (cold: what the first reader after a publish waits) and then again
   (warm: every later click). Target: p95 under 500 ms per page, cold. AppTest's fixed cost
   of a session's first run is measured apart and left out;
2. the whole command: ``agenthub dashboard`` from process start until Chromium (Debian's,
   through Playwright) shows the Overview's figures.

There is no Dagster run here, so there are no step durations to read: the per-page figures are
the breakdown. The maintenance page renders its "not run yet" note (no maintenance ran on the
synthesised warehouse).

    python bench/dashboards.py                                    # 1M and 10M executions
    python bench/dashboards.py --sizes 1000000:5000000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import streamlit as st
from marts import CACHE, DAYS, RUN_AT, START, synthesise
from pipeline import machine
from streamlit.testing.v1 import AppTest

from pipelines.sql_models import build_in_order
from pipelines.trust.model import TrustParameters, update_trust
from pipelines.warehouse.files import connect_working, publish
from pipelines.warehouse.lake import Lake
from pipelines.warehouse.migrate import migrate
from pipelines.warehouse.resource import Warehouse

# This file is named like the package it measures: once its bench/ siblings are imported,
# bench/ leaves the import path so that the pages' `from dashboards import ...` finds the app.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
APP = str(Path(__file__).resolve().parents[1] / "dashboards" / "app.py")
AGENTHUB = str(Path(sys.executable).with_name("agenthub"))
PAGES = ("overview", "agents", "trust", "metrics", "maintenance", "data_quality")
TARGET_MS = 500


def published_warehouse(executions: int, points: int) -> Path:
    """Every mart over the synthesised raw layer, in a DuckLake, published (cached between
    runs); the catalog's path."""
    source = CACHE / f"raw_{executions}_{points}.duckdb"
    synthesise(source, executions, points)
    folder = CACHE / f"dashboards_{executions}_{points}"
    catalog = folder / "warehouse.sqlite"
    if catalog.exists():
        return catalog
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t0 = time.perf_counter()
    migrate(source, Lake.of(catalog), say=lambda _line: None)  # the raw layer, in the lake
    first = START.date()
    trust = lambda: update_trust(con, TrustParameters(), RUN_AT)  # noqa: E731
    settings = Warehouse()  # the marts assets' memory limit and threads, as bench/marts.py
    with connect_working(
        catalog, memory_limit=settings.marts_memory_limit, threads=settings.threads
    ) as con:
        build_in_order(
            con,
            {
                "run_at": RUN_AT,
                "start_day": first,
                "end_day": date.fromordinal(first.toordinal() + DAYS + 1),
            },
            {("marts", "trust_events"): trust, ("marts", "agent_trust"): trust},
        )
        publish(con, catalog)
    print(f"  built and published every mart in {time.perf_counter() - t0:.0f} s")
    return catalog


def render(page: str) -> tuple[float, float]:
    """``page`` in a session whose first run is done, after a publish (query caches cleared:
    cold) and then again (warm); seconds each. AppTest's own first run of a session (~0.3 s
    on this machine even for a two-line script, see :func:`harness`) is left out, as a
    running server does not pay it per page."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(f"pages/{page}.py")
    at.run()
    st.cache_data.clear()
    st.cache_resource.clear()
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(f"{page}: {at.exception[0].value}")
    t0 = time.perf_counter()
    at.run()
    return cold, time.perf_counter() - t0


def harness() -> float:
    """AppTest's first run of a two-line script: the test harness's own fixed cost."""
    at = AppTest.from_string("import streamlit as st\nst.title('x')")
    t0 = time.perf_counter()
    at.run()
    return time.perf_counter() - t0


def p95(values: list[float]) -> float:
    """The 95th percentile (the maximum below 20 samples)."""
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def whole_command(warehouse: Path) -> float:
    """``agenthub dashboard`` from process start until Chromium shows the Overview's figures."""
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "WAREHOUSE_CATALOG": str(warehouse)}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or "/usr/bin/chromium",
            args=["--no-sandbox"],
        )
        page = browser.new_page()
        began = time.perf_counter()
        server = subprocess.Popen(
            [AGENTHUB, "dashboard", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    page.goto(f"http://localhost:{port}/", timeout=5_000)
                    break
                except Exception:
                    if server.poll() is not None:
                        raise RuntimeError("agenthub dashboard exited") from None
                    time.sleep(0.1)
            page.wait_for_selector('[data-testid="stMetricValue"]', timeout=300_000)
            page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
            return time.perf_counter() - began
        finally:
            server.terminate()
            server.wait(timeout=30)
            browser.close()


def measure(executions: int, points: int, repeat: int) -> dict[str, float]:
    """Every page's render times and the whole command at one size; the worst cold p95."""
    print(f"\n{executions:,} executions, {points:,} metric points")
    warehouse = published_warehouse(executions, points)
    os.environ["WAREHOUSE_CATALOG"] = str(warehouse)
    size = sum(f.stat().st_size for f in warehouse.parent.rglob("*") if f.is_file())
    print(f"  published warehouse (catalog and data files): {size / 1e9:.2f} GB")
    worst = 0.0
    setup = statistics.median(harness() for _ in range(3)) * 1000
    print(f"  AppTest's own first run of a session (left out below): {setup:.0f} ms")
    print(f"  {'page':<14}{'cold p50':>10}{'cold p95':>10}{'warm p50':>10}{'warm p95':>10}")
    for page in PAGES:
        runs = [render(page) for _ in range(repeat)]
        cold = [c * 1000 for c, _ in runs]
        warm = [w * 1000 for _, w in runs]
        worst = max(worst, p95(cold))
        print(
            f"  {page:<14}{statistics.median(cold):>8.0f}ms{p95(cold):>8.0f}ms"
            f"{statistics.median(warm):>8.0f}ms{p95(warm):>8.0f}ms"
            f"{'' if p95(cold) < TARGET_MS else '  over target'}"
        )
    command = whole_command(warehouse)
    print(f"  agenthub dashboard, process start to the Overview in Chromium: {command:.1f} s")
    return {"worst_cold_p95_ms": worst, "command_s": command}


def main() -> None:
    """Measure each size, then compare them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", nargs="+", default=["1000000:5000000", "10000000:50000000"],
        help="executions:points pairs",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=7, help="renders per page")
    args = parser.parse_args()
    print(machine())
    results = []
    for size in args.sizes:
        executions, points = (int(n) for n in size.split(":"))
        results.append((executions, measure(executions, points, args.repeat)))
    for executions, result in results:
        verdict = "met" if result["worst_cold_p95_ms"] < TARGET_MS else "NOT met"
        print(
            f"{executions:>12,} executions: slowest page p95 {result['worst_cold_p95_ms']:.0f} ms "
            f"cold (target < {TARGET_MS} ms: {verdict}); command {result['command_s']:.1f} s"
        )
    if len(results) == 2:
        (small, a), (large, b) = results
        pages = b["worst_cold_p95_ms"] / a["worst_cold_p95_ms"]
        print(
            f"{large / small:.0f}x the history: slowest page {pages:.2f}x, "
            f"command {b['command_s'] / a['command_s']:.2f}x"
        )


if __name__ == "__main__":
    main()
