"""``agenthub``: the project's command line, assembled from the layers it sits on.

* ``agenthub db …`` and ``agenthub simulate``: the platform's own commands
  (platform_core/cli.py, which imports nothing from the pipeline);
* ``agenthub pipeline run``, ``agenthub maintenance run``, ``agenthub checks run`` and
  ``agenthub dashboard``: the pipeline's and the dashboards', here;
* ``agenthub demo``: all of it once, from an empty folder (what ``make demo`` runs).

The arrows point one way: this module imports the platform core, never the reverse.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.table import Table

from pipelines.warehouse.lake import Lake
from platform_core.cli import console, db_app, setting_failed, simulate_cmd
from platform_core.config import SettingError

app = typer.Typer(
    help="AgentHub analytics: platform database, simulator and pipeline.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.command("simulate")(simulate_cmd)
pipeline_app = typer.Typer(help="Run the Dagster pipeline in-process.", no_args_is_help=True)
app.add_typer(pipeline_app, name="pipeline")
maintenance_app = typer.Typer(
    help="Archive, purge and expire on the platform database.", no_args_is_help=True
)
app.add_typer(maintenance_app, name="maintenance")


VerboseOption = typer.Option(
    False,
    "--verbose",
    "-v",
    help="Dagster's full log on the console, stack traces included (otherwise one line per "
    "asset message, and each failure's cause once).",
)


@contextmanager
def settings_refused() -> Iterator[None]:
    """A setting the code location reads when it loads (``PIPELINE_EXECUTOR``) refused with
    the short message and exit 2, like the settings a run checks when it starts."""
    try:
        yield
    except SettingError as exc:
        raise setting_failed(exc) from exc


def _instance():
    from dagster import DagsterInstance

    return DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()


def _fail(found: list, *, verbose: bool) -> typer.Exit:
    """Print each cause of failure once (and where the trace is); the exit to raise: 2 when a
    setting is wrong, 1 otherwise."""
    from pipelines.cli_log import failure_summary

    for line in failure_summary(found, verbose=verbose, recorded="DAGSTER_HOME" in os.environ):
        console.print(line, highlight=False)
    return typer.Exit(2 if found and all(f.setting for f in found) else 1)


@maintenance_app.command("run")
def maintenance_run(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Report what would be done; change nothing on the platform."
    ),
    verbose: bool = VerboseOption,
) -> None:
    """Run the platform_maintenance job in-process (what the nightly schedule runs).

    Reads PLATFORM_DATABASE_URL, WAREHOUSE_CATALOG, ARCHIVE_DIR, EXECUTION_RETENTION_DAYS and
    METRICS_RETENTION_DAYS like the Dagster code location does.
    """
    from pipelines.cli_log import failures, run_config_loggers

    with settings_refused():  # the code location reads PIPELINE_EXECUTOR when it loads
        from pipelines.definitions import defs
        from pipelines.jobs import MAINTENANCE_JOB

    console.print(f"[bold]> {MAINTENANCE_JOB}{' (dry run)' if dry_run else ''}")
    result = defs.resolve_job_def(MAINTENANCE_JOB).execute_in_process(
        instance=_instance(),
        raise_on_error=False,
        run_config={
            **run_config_loggers(verbose=verbose),
            "ops": {"maintenance": {"config": {"dry_run": dry_run}}},
        },
    )
    events = result.get_asset_materialization_events()
    if events:
        report = Table("asset", "figures")
        for event in events:
            meta = event.materialization.metadata
            report.add_row(
                event.asset_key.to_user_string(),
                ", ".join(
                    f"{k}={v.value}"
                    for k, v in meta.items()
                    if not isinstance(v.value, list | dict)
                ),
            )
        console.print(report)
    if not result.success:
        raise _fail(failures(result.all_events), verbose=verbose)


checks_app = typer.Typer(
    help="The checks that read whole histories (the daily_checks job).", no_args_is_help=True
)
app.add_typer(checks_app, name="checks")


@checks_app.command("run")
def checks_run(verbose: bool = VerboseOption) -> None:
    """Run the daily_checks job in-process (what the daily_full_checks schedule runs): every
    raw id, every grain over whole tables, the all-days reconciliations, trust recomputed
    from every event, every platform trust record. Exits 1 when a check fails."""
    from dagster import AssetCheckSeverity

    from pipelines.cli_log import failures, run_config_loggers

    with settings_refused():
        from pipelines.definitions import defs
        from pipelines.jobs import CHECKS_JOB

    console.print(f"[bold]> {CHECKS_JOB}")
    result = defs.resolve_job_def(CHECKS_JOB).execute_in_process(
        instance=_instance(), raise_on_error=False, run_config=run_config_loggers(verbose=verbose)
    )
    evaluations = sorted(
        result.get_asset_check_evaluations(),
        key=lambda e: (e.asset_key.to_user_string(), e.check_name),
    )
    table = Table("asset", "check", "result", "figures")
    for e in evaluations:
        outcome = (
            "passed"
            if e.passed
            else (
                "[yellow]warn[/yellow]"
                if e.severity == AssetCheckSeverity.WARN
                else "[red]FAILED[/red]"
            )
        )
        figures = ", ".join(
            f"{k}={v.value:,}" if isinstance(v.value, int) else f"{k}={v.value}"
            for k, v in e.metadata.items()
            if isinstance(v.value, int | float | str) and not isinstance(v.value, bool)
        )
        table.add_row(e.asset_key.to_user_string(), e.check_name, outcome, figures)
    if evaluations:
        console.print(table)
    failed = [e for e in evaluations if not e.passed and e.severity != AssetCheckSeverity.WARN]
    if not result.success:
        raise _fail(failures(result.all_events), verbose=verbose)
    if failed:
        console.print(f"[red]{len(failed)} check(s) failed[/red]")
        raise typer.Exit(1)
    console.print(f"{len(evaluations)} checks passed")


@pipeline_app.command("run")
def pipeline_run(verbose: bool = VerboseOption) -> None:
    """Bring the warehouse up to date and publish it (the schedule's and sensors' jobs).

    Reads PLATFORM_DATABASE_URL and WAREHOUSE_CATALOG like the Dagster code location does; with
    DAGSTER_HOME set, the runs are recorded there and show in the Dagster UI.
    """
    # Imported here, so `agenthub db` and `agenthub simulate` start without loading Dagster.
    from pipelines.cli_log import run_config_loggers

    with settings_refused():
        from pipelines.run import run_pipeline

    outcome = run_pipeline(
        _instance(),
        say=lambda message: console.print(f"[bold]> {message}"),
        run_config=run_config_loggers(verbose=verbose),
    )
    ingested = Table("ingested", "read", "inserted", "updated", "source rows", "seconds")
    built = Table("built", "figures")
    for key, meta in sorted(outcome.materializations.items()):
        if key.startswith("raw/"):
            counts = (
                f"{meta[k]:,}"
                for k in ("rows_read", "rows_inserted", "rows_updated", "source_rows")
            )
            ingested.add_row(key, *counts, f"{meta.get('duration_s', 0):.2f}")
        else:
            figures = ", ".join(
                f"{k}={v:,}"
                for k, v in meta.items()
                if isinstance(v, int) and not isinstance(v, bool)
            )
            built.add_row(key, figures)
    if ingested.row_count:
        console.print(ingested)
    if built.row_count:
        console.print(built)
    for check in outcome.warnings:
        console.print(f"[yellow]check warning:[/yellow] {check}")
    for check in outcome.failed_checks:
        console.print(f"[red]check failed:[/red] {check}")
    if not outcome.success:
        console.print("The published warehouse was left as it was.")
        raise _fail(outcome.failures, verbose=verbose)
    console.print(f"published {outcome.published or 'the warehouse'} of {Lake.from_env().name}")


@app.command("demo")
def demo(
    executions: int = typer.Option(
        300_000, "--executions", min=1_000, help="Executions of the first run's history."
    ),
    days: int = typer.Option(
        120, "--days", min=1, help="Days of history (longer than the 90-day retention)."
    ),
    verbose: bool = VerboseOption,
) -> None:
    """From nothing to a platform, a warehouse and reports: migrate the platform database,
    simulate a history (a later run adds a little new activity), run the pipeline and the
    maintenance once, and say how to open the Dagster UI, the dashboards and the SQL shell.

    PLATFORM_DATABASE_URL selects the platform database (default: SQLite under data/).
    """
    from pipelines.demo import DemoSize, run_demo

    try:
        run_demo(
            DemoSize(executions=executions, days=days),
            say=console.print,
            run_pipeline_cmd=lambda: pipeline_run(verbose=verbose),
            run_maintenance_cmd=lambda: maintenance_run(dry_run=False, verbose=verbose),
        )
    except SettingError as exc:
        raise setting_failed(exc) from exc


@app.command("dashboard")
def dashboard(
    port: int = typer.Option(8501, "--port", help="Port the dashboards listen on."),
    address: str = typer.Option(
        "localhost", "--address", help="Interface to bind (0.0.0.0 to serve other machines)."
    ),
) -> None:
    """Start the Streamlit dashboards on the published warehouse (WAREHOUSE_CATALOG), read only.

    The same app as `streamlit run dashboards/app.py`; it runs until interrupted (Ctrl-C).
    """
    import sys
    from importlib.util import find_spec
    from pathlib import Path

    # Found, not imported: the pipeline does not depend on the dashboards' code.
    spec = find_spec("dashboards")
    assert spec is not None and spec.origin is not None, "the dashboards package is not installed"
    app_file = Path(spec.origin).parent / "app.py"
    warehouse = Lake.from_env().name
    if not 0 < port < 65536:
        raise typer.BadParameter(f"{port} is not a TCP port", param_hint="--port")
    console.print(
        f"[bold]dashboards[/bold] on [link]http://{address}:{port}[/link] "
        f"(reading {warehouse}; Ctrl-C stops)"
    )
    command = [
        sys.executable, "-m", "streamlit", "run", str(app_file),
        "--server.port", str(port),
        "--server.address", address,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    # Become Streamlit rather than wait for it as a child: a SIGTERM to this process (a
    # service manager, a test's teardown) must stop the server, and a waiting parent would
    # die alone and leave it running (found: every stopped `agenthub dashboard` had left a
    # Streamlit server behind).
    sys.stdout.flush()
    os.execv(sys.executable, command)


if __name__ == "__main__":
    app()


@app.command("sql")
def sql(
    command: str = typer.Option(
        None, "-c", "--command", help="Run this one query, print the result and exit."
    ),
    output: str = typer.Option(
        None,
        "--format",
        help="table, csv or json: a header line, then rows (default: table with -c, the "
        "shell's boxes without).",
    ),
    snapshot: int = typer.Option(
        None, "--snapshot", min=0, help="Read this earlier snapshot instead (time travel)."
    ),
) -> None:
    """The DuckDB shell on the published warehouse, read-only (WAREHOUSE_CATALOG).

    It never waits for a pipeline run and never holds one up. Example queries are in
    sql/examples/ (`.read sql/examples/top_agents.sql`); `--snapshot N` reads the warehouse
    as an earlier run published it (the snapshots are in ops.published_snapshots).
    """
    import subprocess

    from pipelines.sql_shell import FORMATS, shell_command
    from pipelines.warehouse.lake import NotPublished

    if output is not None and output not in FORMATS:
        raise typer.BadParameter(f"choose one of {', '.join(FORMATS)}", param_hint="--format")
    try:
        argv = shell_command(Lake.from_env(), query=command, fmt=output, snapshot=snapshot)
    except NotPublished as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if command is None:
        os.execv(argv[0], argv)  # become the shell: Ctrl-C and the terminal are its own
    done = subprocess.run(argv, check=False, capture_output=True, text=True)
    typer.echo(done.stdout, nl=False)
    typer.echo(done.stderr, nl=False, err=True)
    raise typer.Exit(done.returncode)


warehouse_app = typer.Typer(help="The warehouse's storage.", no_args_is_help=True)
app.add_typer(warehouse_app, name="warehouse")


@warehouse_app.command("migrate")
def warehouse_migrate(
    source: str = typer.Option(
        None,
        "--from",
        help="The old DuckDB warehouse file (default: data/warehouse.work.duckdb, else "
        "data/warehouse.duckdb).",
    ),
) -> None:
    """Move a warehouse kept in one DuckDB file (before the DuckLake) into the DuckLake at
    WAREHOUSE_CATALOG, once, and publish it; the next pipeline run goes on incrementally.

    The alternative is to let the next run rebuild everything from the platform and the
    archive, which loses the maintenance reports' history.
    """
    from pathlib import Path

    from pipelines.warehouse.migrate import default_source, migrate

    path = Path(source) if source else default_source()
    if path is None:
        console.print("[red]no old warehouse file under data/; give it with --from[/red]")
        raise typer.Exit(2)
    lake = Lake.from_env()
    console.print(f"[bold]> migrating {path} into {lake.name}")
    try:
        done = migrate(path, lake, say=console.print)
    except (FileNotFoundError, RuntimeError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    console.print(
        f"{done.tables} tables, {done.rows:,} rows in {done.seconds:.1f} s; "
        f"published snapshot {done.snapshot}"
    )
