"""Open an existing platform database, or say in one sentence why not.

Every command but ``agenthub db init`` works on a platform database that must already exist:
a misspelt SQLite path must not quietly create an empty file, and a missing PostgreSQL
database, a server that is down or a URL that does not parse must end in a message that names
``PLATFORM_DATABASE_URL`` (never its password) and the next step, not in a stack trace
repeated by every step of a run. :func:`open_platform` is that check; :class:`SettingError`
carries the message.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from platform_core import migrate
from platform_core.config import ENV_VAR, SettingError, database_url
from platform_core.db import make_engine

#: The URL schemes the platform core speaks.
SUPPORTED = ("sqlite", "postgresql")
EXAMPLES = "sqlite:///data/platform.db or postgresql://user@host:5432/agenthub"


def masked(text: str) -> str:
    """``text`` with anything between ``user:`` and ``@`` hidden (a URL that did not parse
    may still hold a password)."""
    return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", text)


def parse_platform_url(url: str | None = None) -> URL:
    """The resolved platform URL, parsed, or a SettingError saying what is wrong with it."""
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except ArgumentError:
        raise SettingError(
            ENV_VAR,
            f"{masked(resolved)!r} is not a database URL.",
            f"set it to a URL like {EXAMPLES}.",
        ) from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise SettingError(
            ENV_VAR,
            f"{parsed.render_as_string(hide_password=True)!r} names the database kind "
            f"{backend!r}; AgentHub's platform runs on SQLite or PostgreSQL.",
            f"set it to a URL like {EXAMPLES}.",
        )
    if backend == "sqlite" and not parsed.database:
        raise SettingError(
            ENV_VAR, f"{resolved!r} names no SQLite file.", "set it to sqlite:///path/to/file.db."
        )
    return parsed


def _check_sqlite_file(parsed: URL) -> None:
    database = parsed.database or ""
    if database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        raise SettingError(
            ENV_VAR,
            f"the SQLite file {path} does not exist (nothing was created).",
            "check the path for a typo; to start a new platform there, run `agenthub db init`.",
        )
    if path.is_dir():
        raise SettingError(
            ENV_VAR, f"{path} is a folder, not a SQLite file.", "point it at the .db file."
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise SettingError(
            ENV_VAR,
            f"{path} is not a SQLite database ({exc}).",
            "point it at the platform's .db file.",
        ) from None


def _check_postgres(parsed: URL) -> None:
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq, connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        # 'connection failed: connection to server at "h", port p failed: FATAL:  <why>'
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        detail = masked(first.rpartition("failed: ")[2]).removeprefix("FATAL:").strip()
        detail = detail.rstrip(".") or type(exc).__name__
    if "does not exist" in detail and "database" in detail:
        host = parsed.host or "localhost"
        raise SettingError(
            ENV_VAR,
            f"PostgreSQL at {where} has no database {parsed.database!r}.",
            f"check the name; to start a new platform, create it (createdb -h {host}"
            f" {parsed.database}) and run `agenthub db init`.",
        )
    if "password" in detail or "authentication" in detail or "role " in detail:
        raise SettingError(
            ENV_VAR,
            f"PostgreSQL at {where} refused user {parsed.username!r}: {detail}.",
            "check the user and password in the URL.",
        )
    raise SettingError(
        ENV_VAR,
        f"cannot connect to PostgreSQL at {where}: {detail}.",
        "check that the server is running and the host and port in the URL.",
    )


def check_platform_database(url: str | None = None, *, schema: bool = True) -> URL:
    """Raise :class:`SettingError` unless the platform database exists, answers and (with
    ``schema``) is migrated to the revision this code expects. Creates nothing."""
    parsed = parse_platform_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(parsed)
    else:
        _check_postgres(parsed)
    if schema:
        engine = make_engine(parsed.render_as_string(hide_password=False))
        try:
            revision = migrate.current_revision(engine)
        finally:
            engine.dispose()
        head = migrate.head_revision()
        shown = parsed.render_as_string(hide_password=True)
        if revision is None:
            raise SettingError(
                ENV_VAR,
                f"{shown} has no AgentHub schema yet.",
                "run `agenthub db init` to create it (or point the variable at the platform).",
            )
        if revision != head:
            raise SettingError(
                ENV_VAR,
                f"{shown} is at schema revision {revision}; this version expects {head}.",
                "run `agenthub db init` to migrate it.",
            )
    return parsed


def open_platform(url: str | None = None, *, schema: bool = True) -> Engine:
    """An engine on the existing platform database (see :func:`check_platform_database`)."""
    parsed = check_platform_database(url, schema=schema)
    return make_engine(parsed.render_as_string(hide_password=False))
