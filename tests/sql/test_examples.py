"""Every analyst example in sql/examples/ runs, as an analyst would run it (`agenthub sql`: the
DuckDB CLI on the published snapshot, read only), and answers with rows on demo-like data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.dashboards.conftest import Published

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "sql" / "examples").glob("*.sql"))
AGENTHUB = Path(sys.executable).with_name("agenthub")


def test_there_are_examples_for_the_questions_analysts_ask() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {
        "top_agents_by_revenue_this_month",
        "failure_reasons_of_one_agent",
        "trust_movers",
        "p95_latency_trend",
    } <= names


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_read_only_and_returns_rows(example: Path, published: Published) -> None:
    header = example.read_text().splitlines()[0]
    assert header.startswith("-- ") and header.endswith("?"), "first line: the question"
    done = subprocess.run(
        [str(AGENTHUB), "sql", "--format", "csv"],
        stdin=example.open(),
        env={**os.environ, "WAREHOUSE_CATALOG": str(published.warehouse)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,  # as the examples say: run from the repository's root, for their .read lines
    )
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) >= 2, done.stdout  # a header and at least one row


def test_examples_read_the_macros_the_dashboards_use() -> None:
    """An example that needs a figure computed at read time calls the macro the dashboard
    calls, never a copy of its SQL."""
    for name, macro in (
        ("trust_movers", "trust_movers"),
        ("failure_reasons_of_one_agent", "agent_failure_reasons"),
    ):
        text = (ROOT / "sql" / "examples" / f"{name}.sql").read_text()
        assert f".read sql/macros/{macro}.sql" in text and f"{macro}(" in text, name
