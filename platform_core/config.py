"""Where the platform database lives.

``PLATFORM_DATABASE_URL`` selects it: PostgreSQL in production, a SQLite file under
``data/`` as the embedded default so that nothing needs configuring to try the project.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SQLITE_PATH = Path("data") / "platform.db"
ENV_VAR = "PLATFORM_DATABASE_URL"


def default_database_url() -> str:
    """The embedded default: a SQLite file under ``data/`` relative to the working directory."""
    return f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


def database_url(explicit: str | None = None) -> str:
    """Resolve the platform database URL: the explicit value, else the environment, else SQLite.

    A bare ``postgresql://`` URL is pinned to psycopg 3 so that it never silently falls back
    to a driver that is not installed.
    """
    url = explicit or os.environ.get(ENV_VAR) or default_database_url()
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class SettingError(ValueError):
    """A setting that cannot work: which variable, what is wrong, what to do next.

    Printed as it is by the commands (a few lines, never a password); the pipeline's
    resources raise it too, so the Dagster UI shows the same sentence.
    """

    def __init__(self, variable: str, problem: str, next_step: str) -> None:
        super().__init__(f"{variable}: {problem}\nNext: {next_step}")
        self.variable = variable
        self.problem = problem
        self.next_step = next_step
