"""``agenthub demo``: from an empty folder to a platform, a warehouse and reports in one command.

The first run creates the platform database (SQLite under ``data/``, or PostgreSQL when
``PLATFORM_DATABASE_URL`` says so), simulates a realistic history (a few hundred thousand
executions with their metric points, old enough for the retention periods to archive some),
runs the pipeline and the maintenance once, and prints how to open the Dagster UI, the
dashboards and the analyst's shell. A later run adds a little new activity (a new agent, a few
users, 2,000 executions over the last day) and
runs both again, incrementally: fast, and harmless to what is there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

from pipelines.warehouse.lake import Lake
from platform_core import migrate
from platform_core.config import database_url
from platform_core.connect import open_platform, parse_platform_url
from platform_core.db import make_engine, redacted
from platform_core.sample_data import load_sample_data
from platform_core.simulate import SimulationConfig, simulate

#: How the demo talks: Rich markup, printed by the CLI's console.
Say = Callable[[str], None]
#: Below this many executions the platform holds only seed 000's samples: simulate a history.
FIRST_RUN_BELOW = 1_000
#: Where `make dagster` keeps its runs: the demo records its runs there too, so they show in
#: the Dagster UI afterwards (unless DAGSTER_HOME already points elsewhere).
DAGSTER_HOME = Path(__file__).resolve().parents[1] / "dagster_home"


@dataclass(frozen=True)
class DemoSize:
    """How much history the first run simulates and how much each later run adds."""

    executions: int = 300_000
    #: Longer than EXECUTION_RETENTION_DAYS' default (90), so the maintenance archives the
    #: oldest month of executions and every metric point older than 30 days.
    days: int = 120
    agents: int = 40
    users: int = 2_000
    hirings: int = 6_000
    #: Hourly points: 40 agents x 4 series x 24 x 120 days = 460,800 metric points.
    metric_interval_minutes: int = 60
    #: What a later run adds, over the last day.
    more_executions: int = 2_000


def history(size: DemoSize, first: bool, seed: int) -> SimulationConfig:
    """The simulation of a first run (the whole history) or of a later one (a little more)."""
    if first:
        return SimulationConfig(
            seed=seed,
            users=size.users,
            agents=size.agents,
            hirings=size.hirings,
            executions=size.executions,
            days=size.days,
            metric_interval_minutes=size.metric_interval_minutes,
            bad_rows=60,
        )
    # A new agent and a few users and hirings; executions over the last day, some on days
    # the warehouse already has (late rows), so the incremental path is what runs.
    return SimulationConfig(
        seed=seed,
        users=20,
        agents=1,
        hirings=40,
        executions=size.more_executions,
        days=1,
        metric_interval_minutes=size.metric_interval_minutes,
    )


def executions_on_platform(engine: Engine) -> int:
    """How many executions the platform holds (one count; cheap at demo sizes)."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM executions")).scalar_one())


def prepare_platform(url: str | None, size: DemoSize, say: Say) -> tuple[Engine, bool]:
    """Migrate the platform database and simulate: the history on a first run, a little more
    activity after.
    Returns the engine and whether this was the first run."""
    if parse_platform_url(url).get_backend_name() == "sqlite":
        engine = make_engine(url)  # the demo, like `agenthub db init`, may create the file
    else:
        engine = open_platform(url, schema=False)  # a server and database that answer
    say(f"platform database {redacted(database_url(url))}")
    migrate.upgrade(engine)
    load_sample_data(engine)
    before = executions_on_platform(engine)
    first = before < FIRST_RUN_BELOW
    config = history(size, first, seed=42 if first else before)
    config.validate()
    say(
        f"simulating {config.executions:,} executions over {config.days} days"
        if first
        else f"adding a little new activity: {config.executions:,} executions over the last day"
    )
    report = simulate(engine, config)
    say(f"  {', '.join(f'{n:,} {t}' for t, n in report.rows.items())} in {report.seconds:.1f} s")
    return engine, first


def dagster_home() -> str | None:
    """DAGSTER_HOME as set, else the repository's dagster_home/ (so `make dagster` shows the
    demo's runs), else None (an ephemeral instance)."""
    if os.environ.get("DAGSTER_HOME"):
        return os.environ["DAGSTER_HOME"]
    if (DAGSTER_HOME / "dagster.yaml").exists():
        return str(DAGSTER_HOME)
    return None


def next_steps(seconds: float, first: bool) -> str:
    """What to open now: the Dagster UI, the dashboards and the analyst's shell (Rich markup,
    one short line each so that nothing wraps in an 80-column terminal or a CI log)."""
    warehouse = Lake.from_env().name
    return "\n".join(
        [
            "",
            f"[bold green]{'Ready' if first else 'Updated'}[/bold green] in {seconds:.0f} s: "
            f"platform, warehouse ({warehouse}), maintenance reports.",
            "",
            "[bold]Dagster UI[/bold]: runs, schedules, sensors, asset checks",
            "    make dagster                    http://localhost:3000",
            "[bold]Dashboards[/bold]: overview, agents, trust, metrics, maintenance, quality",
            "    .venv/bin/agenthub dashboard    http://localhost:8501",
            "[bold]SQL[/bold]: DuckDB shell, read only; example queries in sql/examples/",
            "    make sql                        (or .venv/bin/agenthub sql -c 'QUERY')",
            "",
            "`make demo` again adds a little activity and updates everything incrementally.",
        ]
    )


def run_demo(
    size: DemoSize,
    say: Say,
    run_pipeline_cmd: Callable[[], None],
    run_maintenance_cmd: Callable[[], None],
) -> bool:
    """The whole demo; the two commands are the CLI's own (`pipeline run`,
    `maintenance run`), so the demo prints exactly what they print. Returns whether this was
    the first run."""
    began = time.perf_counter()
    home = dagster_home()
    if home:
        os.environ["DAGSTER_HOME"] = home
    engine, first = prepare_platform(None, size, say)
    engine.dispose()
    run_pipeline_cmd()
    run_maintenance_cmd()
    say(next_steps(time.perf_counter() - began, first))
    return first
