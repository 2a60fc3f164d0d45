"""The platform's commands: database set-up (``db``) and the workload simulator (``simulate``).

They import nothing above the platform core. The ``agenthub`` entry point (pipelines/cli.py)
assembles them with the pipeline's commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine, func, select

from platform_core import migrate
from platform_core.config import SettingError, database_url
from platform_core.connect import open_platform, parse_platform_url
from platform_core.db import make_engine, redacted
from platform_core.models import Agent, AgentMetric, AgentReview, Execution, Hiring, User
from platform_core.sample_data import load_sample_data
from platform_core.simulate import NotMigratedError, SimulationConfig, simulate

app = typer.Typer(help="AgentHub platform: database and simulator.", no_args_is_help=True)
db_app = typer.Typer(help="Create, migrate and reset the platform database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
# soft_wrap: long lines (URLs, errors) stay whole in logs and pipes instead of being folded.
console = Console(soft_wrap=True)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="PLATFORM_DATABASE_URL",
        help="Platform database URL (default: sqlite:///data/platform.db).",
        show_default=False,
    ),
]


def setting_failed(exc: SettingError) -> typer.Exit:
    """Print a setting's error (variable, problem, next step) and the exit to raise."""
    console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
    return typer.Exit(2)


def _engine(url: str | None, *, create: bool = False, schema: bool = False) -> Engine:
    """The platform database; only ``create`` (``db init``) may make a new SQLite file."""
    try:
        if create:
            parse_platform_url(url)
            engine = make_engine(url)
        else:
            engine = open_platform(url, schema=schema)
    except SettingError as exc:
        raise setting_failed(exc) from exc
    console.print(f"platform database: [bold]{redacted(database_url(url))}[/bold]")
    return engine


@db_app.command("init")
def db_init(database_url_: UrlOption = None) -> None:
    """Create (SQLite) or migrate the platform database to the newest schema and load seed
    000's sample data. The only command that creates a database file."""
    engine = _engine(database_url_, create=True)
    migrate.upgrade(engine)
    loaded = load_sample_data(engine)
    console.print(
        f"schema at revision {migrate.current_revision(engine)}"
        + ("; loaded the sample users and agents" if loaded else "")
    )


@db_app.command("reset")
def db_reset(
    database_url_: UrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Drop every platform table, migrate afresh and reload the sample data."""
    engine = _engine(database_url_)
    if not yes and not typer.confirm("This deletes all platform data. Continue?"):
        raise typer.Exit(1)
    migrate.downgrade(engine)
    migrate.upgrade(engine)
    load_sample_data(engine)
    console.print(f"reset; schema at revision {migrate.current_revision(engine)}")


@db_app.command("status")
def db_status(database_url_: UrlOption = None) -> None:
    """Show the schema revision and the row count of each platform table."""
    engine = _engine(database_url_)
    revision = migrate.current_revision(engine)
    console.print(f"revision {revision or 'none'} (code expects {migrate.head_revision()})")
    if revision is None:
        return
    table = Table("table", "rows")
    with engine.connect() as conn:
        for model in (User, Agent, Hiring, Execution, AgentReview, AgentMetric):
            count = conn.scalar(select(func.count()).select_from(model))
            table.add_row(model.__tablename__, f"{count:,}")
    console.print(table)


@app.command("simulate")
def simulate_cmd(
    database_url_: UrlOption = None,
    users: Annotated[int, typer.Option(help="New users.")] = 200,
    agents: Annotated[int, typer.Option(help="New agents.")] = 30,
    hirings: Annotated[int, typer.Option(help="New hirings.")] = 600,
    executions: Annotated[int, typer.Option(help="New executions.")] = 50_000,
    days: Annotated[int, typer.Option(help="Length of the simulated period.")] = 14,
    metric_interval: Annotated[
        int, typer.Option(help="Minutes between metric points of each series.")
    ] = 15,
    bad_rows: Annotated[
        int, typer.Option(help="Bad rows to write, spread over the kinds in simulate/bad_rows.py.")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same history.")] = 42,
    end: Annotated[
        datetime | None,
        typer.Option(help="End of the period, UTC (default: now).", show_default=False),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Rows per write batch.")] = 100_000,
) -> None:
    """Fill the platform database with a realistic, deterministic history (adds on re-runs)."""
    config = SimulationConfig(
        seed=seed,
        users=users,
        agents=agents,
        hirings=hirings,
        executions=executions,
        days=days,
        metric_interval_minutes=metric_interval,
        bad_rows=bad_rows,
        batch_size=batch_size,
        end=end,
    )
    try:
        config.validate()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    engine = _engine(database_url_, schema=True)
    with Progress(
        TextColumn("{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def tick(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done)

        try:
            report = simulate(engine, config, tick)
        except NotMigratedError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
    summary = Table(
        "table",
        "rows written",
        title=f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC",
    )
    for name, count in report.rows.items():
        summary.add_row(name, f"{count:,}")
    for kind, count in report.bad_rows.items():
        summary.add_row(f"bad: {kind}", f"{count:,}")
    console.print(summary)
    for kind, why in report.skipped_bad_rows.items():
        console.print(f"skipped bad-row kind {kind}: {why}")
    console.print(
        f"{report.seconds:.1f} s in all; executions at {report.executions_per_second:,.0f} rows/s"
    )


if __name__ == "__main__":
    app()
