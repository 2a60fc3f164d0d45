"""A mistake in a setting ends a command with one short message that names the variable and
the next step: never a stack trace per step, never a password, never a database created by
accident. The full trace stays behind ``--verbose``.

Each case runs ``agenthub`` as its own process, as an operator does: the code location reads
its settings when it loads, once per process.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy.engine import make_url

from pipelines.maintenance.settings import Maintenance
from pipelines.trust.resource import TrustModel
from pipelines.warehouse.resource import Warehouse
from platform_core import migrate
from platform_core.config import SettingError
from platform_core.db import make_engine
from tests.pipelines.maintenance_support import AGENTHUB

PASSWORD = "s3cret-pw"
#: Most a failed command may print.
MAX_LINES = 20
SETTINGS = (
    "PLATFORM_DATABASE_URL",
    "WAREHOUSE_CATALOG",
    "WAREHOUSE_DATA_PATH",
    "WAREHOUSE_PATH",
    "WAREHOUSE_SNAPSHOT_RETENTION_DAYS",
    "ARCHIVE_DIR",
    "WAREHOUSE_MEMORY_LIMIT",
    "WAREHOUSE_MARTS_MEMORY_LIMIT",
    "DAGSTER_HOME",
    "PIPELINE_EXECUTOR",
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, every setting at its default."""
    monkeypatch.chdir(tmp_path)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def assert_short_and_named(output: str, variable: str, *fragments: str) -> None:
    lines = output.strip().splitlines()
    assert len(lines) <= MAX_LINES, output
    assert f"{variable}:" in output and "Next:" in output, output
    assert "Traceback" not in output and "Stack Trace" not in output, output
    assert PASSWORD not in output
    for fragment in fragments:
        assert fragment in output, output


@dataclass(frozen=True)
class Result:
    """How a command ended: its exit code and everything it printed."""

    exit_code: int
    output: str


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    """``agenthub <args>`` in the working folder, with only ``env`` among the settings."""
    base = {k: v for k, v in os.environ.items() if k not in SETTINGS and "TRUST_" not in k}
    done = subprocess.run(
        [AGENTHUB, *args],
        env={**base, **env, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path.cwd(),
    )
    return Result(done.returncode, done.stdout + done.stderr)


COMMANDS = [["pipeline", "run"], ["maintenance", "run"], ["db", "status"], ["simulate"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_misspelt_sqlite_path_is_named_and_nothing_is_created(
    folder: Path, command: list[str]
) -> None:
    (folder / "data").mkdir()
    result = _invoke(command, {"PLATFORM_DATABASE_URL": "sqlite:///data/platfrom.db"})
    assert result.exit_code == 2, result.output
    assert_short_and_named(
        result.output, "PLATFORM_DATABASE_URL", "data/platfrom.db does not exist", "db init"
    )
    assert sorted(p.name for p in (folder / "data").iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS[:2], ids=" ".join)
def test_a_missing_postgres_database_is_named(postgres, folder: Path, command: list[str]) -> None:
    name = f"agenthub_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres.url(name)).set(password=PASSWORD)
    result = _invoke(command, {"PLATFORM_DATABASE_URL": url.render_as_string(False)})
    assert result.exit_code == 2, result.output
    assert_short_and_named(result.output, "PLATFORM_DATABASE_URL", f"no database '{name}'")
    assert not (folder / "data").exists()  # no warehouse, no archive either


@pytest.mark.parametrize(
    "url, says",
    [
        (f"postgres//agenthub:{PASSWORD}@db.example/agenthub", "is not a database URL"),
        ("mysqll://agenthub@db/agenthub", "names the database kind 'mysqll'"),
        ("sqlite://", "names no SQLite file"),
    ],
)
def test_a_malformed_url_is_named_without_its_password(folder: Path, url: str, says: str) -> None:
    result = _invoke(["pipeline", "run"], {"PLATFORM_DATABASE_URL": url})
    assert result.exit_code == 2, result.output
    assert_short_and_named(result.output, "PLATFORM_DATABASE_URL", says)
    assert not (folder / "data").exists()


def test_an_unmigrated_database_says_to_run_db_init(folder: Path) -> None:
    make_engine("sqlite:///empty.db").connect().close()  # an empty SQLite file
    result = _invoke(["pipeline", "run"], {"PLATFORM_DATABASE_URL": "sqlite:///empty.db"})
    assert result.exit_code == 2, result.output
    assert_short_and_named(result.output, "PLATFORM_DATABASE_URL", "no AgentHub schema", "db init")


@pytest.fixture
def platform(folder: Path) -> dict[str, str]:
    """A migrated, empty SQLite platform in the working folder."""
    engine = make_engine("sqlite:///data/platform.db")
    migrate.upgrade(engine)
    engine.dispose()
    return {"PLATFORM_DATABASE_URL": "sqlite:///data/platform.db"}


#: (variable, value, what the message says); the resources check these when a run starts.
BAD_SETTINGS = [
    ("WAREHOUSE_CATALOG", "no/such/folder/wh.sqlite", "does not exist"),
    ("WAREHOUSE_CATALOG", "data", "is a folder"),
    ("WAREHOUSE_CATALOG", "notes.txt", "is not a SQLite database"),
    ("WAREHOUSE_CATALOG", "postgresql://user@/", "names no host or database"),
    ("WAREHOUSE_DATA_PATH", "data/archive/lake", "overlaps the archive"),
    ("WAREHOUSE_PATH", "no/such/folder/export.duckdb", "does not exist"),
    ("WAREHOUSE_PATH", "notes.txt", "is not a DuckDB database"),
    ("WAREHOUSE_SNAPSHOT_RETENTION_DAYS", "a week", "is not a number"),
    ("WAREHOUSE_MEMORY_LIMIT", "1 gigabyte", "is not a size"),
    ("WAREHOUSE_MARTS_MEMORY_LIMIT", "16MB", "too small"),
    ("ARCHIVE_DIR", "no/such/folder/archive", "exists"),
    ("ARCHIVE_DIR", "notes.txt", "is a file"),
    ("EXECUTION_RETENTION_DAYS", "ninety", "whole number"),
    ("METRICS_RETENTION_DAYS", "0", "at least 1 day"),
    ("TRUST_HALF_LIFE_DAYS", "week", "is not a number"),
]


def _resource_for(variable: str, value: str) -> dg.ConfigurableResource:
    """The resource that reads ``variable``, built with ``value`` as the run would."""
    fields = {
        "WAREHOUSE_CATALOG": (Warehouse, "catalog"),
        "WAREHOUSE_DATA_PATH": (Warehouse, "data_path"),
        "WAREHOUSE_PATH": (Warehouse, "path"),
        "WAREHOUSE_SNAPSHOT_RETENTION_DAYS": (Maintenance, "snapshot_retention_days"),
        "WAREHOUSE_MEMORY_LIMIT": (Warehouse, "memory_limit"),
        "WAREHOUSE_MARTS_MEMORY_LIMIT": (Warehouse, "marts_memory_limit"),
        "ARCHIVE_DIR": (Maintenance, "archive_dir"),
        "EXECUTION_RETENTION_DAYS": (Maintenance, "execution_retention_days"),
        "METRICS_RETENTION_DAYS": (Maintenance, "metrics_retention_days"),
        "TRUST_HALF_LIFE_DAYS": (TrustModel, "half_life_days"),
    }
    kind, field = fields[variable]
    return kind(**{field: value})


@pytest.mark.parametrize(("variable", "value", "says"), BAD_SETTINGS)
def test_every_setting_is_refused_when_a_run_starts(
    folder: Path, variable: str, value: str, says: str
) -> None:
    (folder / "data").mkdir()
    (folder / "notes.txt").write_text("not a database\n")
    resource = _resource_for(variable, value)
    with pytest.raises(SettingError) as refused:
        resource.setup_for_execution(dg.build_init_resource_context())
    assert refused.value.variable == variable
    assert_short_and_named(str(refused.value), variable, says)
    assert not (folder / "no").exists()


@pytest.mark.parametrize(
    ("command", "variable", "value", "says"),
    [
        (["pipeline", "run"], "WAREHOUSE_CATALOG", "no/such/folder/wh.sqlite", "does not exist"),
        (["maintenance", "run"], "ARCHIVE_DIR", "notes.txt", "is a file"),
        # Read when the code location loads (the jobs' executor), not when a run starts.
        (["pipeline", "run"], "PIPELINE_EXECUTOR", "celeri", "is not an executor"),
        (["checks", "run"], "PIPELINE_EXECUTOR", "multi", "is not an executor"),
    ],
)
def test_a_bad_setting_stops_the_command_before_anything_is_written(
    folder: Path,
    platform: dict[str, str],
    command: list[str],
    variable: str,
    value: str,
    says: str,
) -> None:
    (folder / "notes.txt").write_text("not a database\n")
    result = _invoke(command, {**platform, variable: value})
    assert result.exit_code == 2, result.output
    assert_short_and_named(result.output, variable, says)
    assert not (folder / "no").exists()
    # Only the platform (and SQLite's own WAL files): no warehouse, no archive.
    names = {p.name.removesuffix("-wal").removesuffix("-shm") for p in (folder / "data").iterdir()}
    assert names == {"platform.db"}


def test_verbose_shows_the_full_trace(folder: Path) -> None:
    result = _invoke(
        ["pipeline", "run", "--verbose"], {"PLATFORM_DATABASE_URL": "sqlite:///data/platfrom.db"}
    )
    assert result.exit_code == 2
    assert "Stack Trace" in result.output or "Traceback" in result.output
    assert "PLATFORM_DATABASE_URL: the SQLite file data/platfrom.db does not exist" in result.output


def test_the_demo_refuses_a_missing_postgres_database(postgres, folder: Path) -> None:
    name = f"agenthub_missing_{uuid.uuid4().hex[:8]}"
    url = make_url(postgres.url(name)).set(password=PASSWORD).render_as_string(False)
    result = _invoke(["demo"], {"PLATFORM_DATABASE_URL": url})
    assert result.exit_code == 2, result.output
    assert_short_and_named(result.output, "PLATFORM_DATABASE_URL", f"no database '{name}'")
