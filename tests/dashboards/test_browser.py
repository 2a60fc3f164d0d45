"""The dashboards in a real browser: Debian's chromium (``/usr/bin/chromium``, installed by
``.ci/run``), driven by Playwright with ``executable_path`` (never a downloaded browser), on a
running ``agenthub dashboard``.

Every page is opened, waited for until Streamlit has finished the run, checked for exception
boxes and for its headline content, and saved as a screenshot under
``test-artifacts/dashboards/``. The filters are clicked like a user would, and must follow the
user from page to page.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest

from pipelines.warehouse.lake import open_published
from tests.dashboards.conftest import Published
from tests.pipelines.maintenance_support import AGENTHUB, REPO
from tests.ports import free_port

pytestmark = pytest.mark.slow

ARTIFACTS = REPO / "test-artifacts" / "dashboards"
#: url path -> text the page must show once rendered.
PAGES = {
    "": "Executions per day by outcome",
    "agents": "Agents",
    "trust": "Audit trail",
    "metrics": "Stale agents",
    "maintenance": "Archive by month",
    "data_quality": "Sample rows",
}


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Debian's chromium is not installed (apt-get install chromium; .ci/run does it)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(published: Published, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``agenthub dashboard`` on the shared warehouse; its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [AGENTHUB, "dashboard", "--port", str(port)],
            env={**os.environ, "WAREHOUSE_CATALOG": str(published.warehouse)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"agenthub dashboard did not come up:\n{log.read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # Stopping the command stops the server: nothing may be left listening on its port.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the Streamlit server outlived it"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def rendered(page, text: str) -> None:
    """Wait until the page shows ``text`` and Streamlit's run is over (no spinner left)."""
    page.get_by_text(text, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.wait_for_timeout(500)  # let Plotly and the data grids paint before the screenshot


def no_exception_boxes(page, where: str) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"{where}: {boxes.all_inner_texts()}"


def test_every_page_renders_in_chromium(server: str, browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    for path, text in PAGES.items():
        page.goto(f"{server}/{path}")
        rendered(page, text)
        no_exception_boxes(page, path or "overview")
        page.screenshot(path=str(ARTIFACTS / f"{path or 'overview'}.png"), full_page=True)
    page.close()


def test_filters_follow_the_user_across_pages(server: str, browser, published: Published):

    with open_published(published.warehouse) as con:
        agent_id, name = con.execute(
            "select agent_id, agent_name from marts.agent_usage_summary"
            " order by total_executions desc limit 1"
        ).fetchone()
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(server)
    rendered(page, "Executions per day by outcome")
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name=f"{name} (#{agent_id})").click()
    page.get_by_role("heading", name=f"Overview · {name}").wait_for()
    assert f"agent_id={agent_id}" in page.url

    page.get_by_role("link", name="Agents").click()  # the sidebar's navigation
    page.get_by_role("heading", name=f"{name} (#{agent_id})").wait_for()
    rendered(page, "Failures by message")
    no_exception_boxes(page, "agent page")
    page.screenshot(path=str(ARTIFACTS / "agent.png"), full_page=True)

    page.get_by_role("link", name="Trust").click()
    rendered(page, "Audit trail")
    assert f"agent_id={agent_id}" in page.url
    page.close()


def test_a_click_in_the_agents_table_opens_that_agents_page(server: str, browser, published):
    import re

    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(f"{server}/agents")
    rendered(page, "Agents")
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(grid["x"] + 15, grid["y"] + 36 + 17)  # the first row's selection cell
    page.wait_for_url(re.compile(r"agent_id=\d+"))
    agent_id = int(re.search(r"agent_id=(\d+)", page.url).group(1))
    with open_published(published.warehouse) as con:
        name = con.execute(
            "select agent_name from marts.agent_usage_summary where agent_id = ?", [agent_id]
        ).fetchone()[0]
    page.get_by_role("heading", name=f"{name} (#{agent_id})").wait_for()
    rendered(page, "Failures by message")
    no_exception_boxes(page, "agent page from the table")
    page.close()
