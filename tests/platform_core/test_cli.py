"""``agenthub`` end to end: db init, simulate, status, reset, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from platform_core.cli import app
from platform_core.models import Agent, Execution, User
from platform_core.sample_data import SAMPLE_AGENTS, SAMPLE_USERS

runner = CliRunner()


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def test_init_simulate_status_reset(empty_engine: Engine) -> None:
    env = {"PLATFORM_DATABASE_URL": _url(empty_engine)}
    result = runner.invoke(app, ["db", "init"], env=env)
    assert result.exit_code == 0, result.output
    assert "loaded the sample users and agents" in result.output
    assert _count(empty_engine, User) == len(SAMPLE_USERS)
    assert _count(empty_engine, Agent) == len(SAMPLE_AGENTS)
    # A second init is a no-op, not an error, and does not duplicate the samples.
    assert runner.invoke(app, ["db", "init"], env=env).exit_code == 0
    assert _count(empty_engine, User) == len(SAMPLE_USERS)

    args = [
        "simulate",
        "--users",
        "10",
        "--agents",
        "4",
        "--hirings",
        "20",
        "--executions",
        "1500",
        "--days",
        "2",
        "--metric-interval",
        "120",
        "--end",
        "2026-11-01T00:00:00",
    ]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output
    assert _count(empty_engine, Execution) == 1500
    assert runner.invoke(app, args, env=env).exit_code == 0
    assert _count(empty_engine, Execution) == 3000

    status = runner.invoke(app, ["db", "status"], env=env)
    assert "3,000" in status.output and "revision 0004" in status.output

    assert runner.invoke(app, ["db", "reset"], env=env, input="n\n").exit_code == 1
    assert _count(empty_engine, Execution) == 3000
    result = runner.invoke(app, ["db", "reset", "--yes"], env=env)
    assert result.exit_code == 0, result.output
    assert _count(empty_engine, Execution) == 0
    assert _count(empty_engine, User) == len(SAMPLE_USERS)


def test_simulate_before_init_says_what_to_do(empty_engine: Engine) -> None:
    env = {"PLATFORM_DATABASE_URL": _url(empty_engine)}
    result = runner.invoke(app, ["simulate", "--executions", "10"], env=env)
    assert result.exit_code == 2
    assert "agenthub db init" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--days", "0"], "days must be at least 1"),
        (["--executions", "-5"], "executions cannot be negative"),
    ],
)
def test_simulate_rejects_bad_knobs(args: list[str], message: str, tmp_path) -> None:
    env = {"PLATFORM_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = runner.invoke(app, ["simulate", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_passwords_never_reach_the_output(tmp_path) -> None:
    env = {"PLATFORM_DATABASE_URL": "postgresql://agenthub:s3cret@127.0.0.1:1/nowhere"}
    result = runner.invoke(app, ["db", "status"], env=env)
    assert result.exit_code == 2
    assert "s3cret" not in result.output
    assert "PLATFORM_DATABASE_URL: cannot connect to PostgreSQL at 127.0.0.1:1" in result.output


def test_the_platform_core_imports_nothing_from_the_pipeline() -> None:
    """The arrows point one way: every platform_core module loads without pipelines or
    Dagster (the agenthub entry point in pipelines/cli.py assembles both)."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import importlib, pkgutil, sys, platform_core\n"
        "for m in pkgutil.walk_packages(platform_core.__path__, 'platform_core.'):\n"
        "    if '.migrations' not in m.name:\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'pipelines', 'dagster'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
